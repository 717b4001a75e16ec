"""Sources of FIT files: one shape (:class:`~.base.Arrival`) for every way data comes in.

Kept import-light on purpose: ``settings.py`` imports :mod:`.config`, so nothing here
may import FastAPI, watchfiles or Prefect at package import time.
"""
