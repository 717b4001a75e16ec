"""The use cases (library code, no Prefect): ingest, evaluate, delivery, backfill."""
