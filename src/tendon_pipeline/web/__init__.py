"""The coach's and the runner's web pages (``tendon serve``), on the upload API's FastAPI app."""
