"""Runs the flows: one batch in process (batch), the folder watcher and upload server (watch),
the backfill (backfill). Above ``flows/``; see docs/architecture.md."""
