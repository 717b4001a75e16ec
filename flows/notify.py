"""Notify flow: route new alerts and plan changes, deliver what is due (the warehouse outbox).

Deployed entrypoint: ``flows/notify.py:notify_flow``. Delivery keeps its own retry
schedule per message (``docs/notifications.md``); the task retries only when the warehouse
is locked by another process.
"""

from __future__ import annotations

import contextlib
import sys

from prefect import flow, task

from tendon_pipeline.app.delivery import DeliveryReport, notify_command
from tendon_pipeline.flows.ingest import retry_if_transient
from tendon_pipeline.config.settings import load_settings


@task(name="deliver-notifications", retries=4, retry_delay_seconds=[1, 2, 5, 10],
      retry_condition_fn=retry_if_transient)
def deliver_task(db: str | None, config: str | None, console_to_stderr: bool = False) -> DeliveryReport:
    settings = load_settings(config, db=db)
    redirect = contextlib.redirect_stdout(sys.stderr) if console_to_stderr else contextlib.nullcontext()
    with redirect:
        return notify_command(settings)


@flow(name="notify")
def notify_flow(db: str | None = None, config: str | None = None) -> DeliveryReport:
    """Send what is pending to coaches, runners and the local outbox."""
    return deliver_task(db, config)
