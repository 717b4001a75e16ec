"""Server mode: one small flow per event, run by a Prefect worker when a trigger fires.

``deploy/prefect.yaml`` deploys these with event triggers:

* ``fit.file.received``    -> :func:`ingest_on_arrival`  (emits ``athlete.data.changed``)
* ``athlete.data.changed`` -> :func:`evaluate_on_change` (emits ``alert.raised`` per new alert)
* ``alert.raised``         -> :func:`notify_on_alert`    (routes and delivers what is due)

Each flow does one step and emits the event that starts the next, from inside the flow
run (so the event is related to the run). All are idempotent: ingest recognises a file
it has seen, the rules raise an alert once (its key), the outbox delivers once per
recipient, so a re-delivered event or a retried run changes nothing.

The warehouse comes from the worker's environment (``TENDON_DB`` / ``TENDON_HOME`` /
``TENDON_CONFIG``) unless ``db`` / ``config`` are given.
"""

from __future__ import annotations

from prefect import flow

from tendon_pipeline.app.delivery import notify_command
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.orchestration import events
from tendon_pipeline.flows.evaluate import evaluate_task
from tendon_pipeline.flows.ingest import ingest_batch


@flow(name="ingest-on-arrival")
def ingest_on_arrival(path: str, athlete: str | None = None, event_id: str | None = None,
                      db: str | None = None, config: str | None = None) -> dict:
    """Ingest the file one ``fit.file.received`` event names."""
    report = ingest_batch([path], athlete or None, db, config)
    events.emit_data_changed(report)
    events.flush()
    return {"event_id": event_id, **report.to_dict()}


@flow(name="evaluate-on-change")
def evaluate_on_change(athlete: str, ingest_id: str | None = None, db: str | None = None,
                       config: str | None = None) -> dict:
    """Re-evaluate one athlete whose data changed; emit ``alert.raised`` for each new alert."""
    report = evaluate_task([athlete], db, config)
    events.emit_alerts_raised(report.new_alerts())
    events.flush()
    return report.to_dict()


@flow(name="notify-on-alert")
def notify_on_alert(alert_key: str | None = None, db: str | None = None, config: str | None = None) -> dict:
    """Route new alerts and plans to their recipients and deliver what is due (the outbox)."""
    report = notify_command(load_settings(config, db=db))
    return {"alert_key": alert_key, "delivered": report.delivered}
