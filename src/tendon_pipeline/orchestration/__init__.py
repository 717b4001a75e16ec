"""Prefect plumbing the flows and the runtime share: the embedded, quiet Prefect (embedded),
the pipeline's events (events), the Dask task runner of the backfill (dask). Imports no flow."""
