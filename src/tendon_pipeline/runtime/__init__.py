"""Runs the flows: one batch in process (batch), the folder watcher and upload server (watch),
the backfill (backfill). Above ``flows/``; see docs/architecture.md."""

from tendon_pipeline.orchestration.embedded import quiet_prefect_env

# Prefect reads its logging settings when it is imported, which importing a flow does: the
# quiet defaults go into the environment first (explicit settings win).
quiet_prefect_env()
