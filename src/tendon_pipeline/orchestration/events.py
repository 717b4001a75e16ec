"""Prefect events of the pipeline: what arrived, whose data changed, which alert was raised.

=======================  ======================================  ==========================
event                    resource (``prefect.resource.id``)       emitted by
=======================  ======================================  ==========================
``fit.file.received``    ``tendon.fit-file.<arrival_id>``         every source, per file
``athlete.data.changed`` ``tendon.athlete.<athlete_id>``          ingest, per athlete changed
``alert.raised``         ``tendon.alert.<athlete>:<rule>:<per>``  rules, per *new* alert
=======================  ======================================  ==========================

Every event names the athlete (label ``tendon.athlete`` on the resource, and a related
resource ``tendon.athlete.<id>`` with role ``athlete``) so automations can filter on it.

Event ids are derived from what they describe (uuid5), so the same arrival, the same
ingest or the same alert always gives the same event id: a retry or a re-delivery
cannot make a second, different event.

Cost and where events go: :func:`prefect.events.emit_event` only queues the event for
Prefect's background events worker (microseconds). With ``PREFECT_API_URL`` set the
worker sends it to that server (server mode: the deployments' triggers react to it).
Without one it sends it to Prefect's ephemeral API, the same local subprocess the
embedded flow runs already use (it is started once per process, on first use).
``TENDON_EVENTS=off`` turns Prefect emission off (listeners still get every event).
Emission never raises: an event that cannot be sent is logged and dropped, it never
stops the data path.

In-process listeners (:func:`subscribe`) receive every event synchronously; the watcher
uses them for its log, the tests to observe events without a server.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from tendon_pipeline.domain.models import STORED_STATUSES
from tendon_pipeline.orchestration.embedded import quiet_prefect_env

if TYPE_CHECKING:  # pragma: no cover
    from tendon_pipeline.connectors.sources.base import Arrival

FILE_RECEIVED = "fit.file.received"
DATA_CHANGED = "athlete.data.changed"
ALERT_RAISED = "alert.raised"
EVENT_NAMES = (FILE_RECEIVED, DATA_CHANGED, ALERT_RAISED)

_NAMESPACE = uuid.UUID("6f1b3c2e-3a5d-4e55-9a0c-7e1d2b6c9f10")
_log = logging.getLogger(__name__)
_listeners: list[Callable[[PipelineEvent], None]] = []
_lock = threading.Lock()


@dataclass(frozen=True)
class PipelineEvent:
    """What was (or would have been) sent to Prefect."""

    event: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def athlete(self) -> str | None:
        return self.resource.get("tendon.athlete") or None


def event_id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "\x1f".join(parts))


def prefect_enabled() -> bool:
    return os.environ.get("TENDON_EVENTS", "on").strip().lower() not in ("0", "off", "false", "no")


def subscribe(listener: Callable[[PipelineEvent], None]) -> Callable[[], None]:
    """Call ``listener`` for every event emitted in this process; returns the unsubscribe."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def emit(event: PipelineEvent) -> PipelineEvent:
    """Hand the event to listeners and (unless off) to Prefect. Never raises."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:  # noqa: BLE001 - a listener must not break the data path
            _log.exception("event listener failed for %s", event.event)
    if prefect_enabled():
        try:
            quiet_prefect_env()
            from prefect.events import emit_event

            emit_event(event.event, resource=event.resource, related=event.related, payload=event.payload,
                       id=event.id, occurred=event.occurred)
        except Exception:  # noqa: BLE001
            _log.warning("could not emit Prefect event %s", event.event, exc_info=True)
    return event


def flush(timeout: float = 30.0) -> None:
    """Wait (bounded) until queued Prefect events are sent: call before a short process exits."""
    if not prefect_enabled():
        return
    try:
        from prefect.events.worker import EventsWorker

        EventsWorker.drain_all(timeout=timeout)
    except Exception:  # noqa: BLE001
        _log.debug("draining the events worker failed", exc_info=True)


# -- resources --------------------------------------------------------------------
def athlete_resource(athlete_id: str, role: str = "athlete") -> dict[str, str]:
    return {"prefect.resource.id": f"tendon.athlete.{athlete_id}", "prefect.resource.role": role,
            "prefect.resource.name": athlete_id}


def _related(athlete_id: str | None) -> list[dict[str, str]]:
    return [athlete_resource(athlete_id)] if athlete_id else []


# -- the three events ---------------------------------------------------------------
def file_received_event(arrival: Arrival) -> PipelineEvent:
    from tendon_pipeline.app.ingest.discover import path_text  # UTF-8 always: a file name may not be

    resource = {
        "prefect.resource.id": f"tendon.fit-file.{arrival.arrival_id}",
        "prefect.resource.name": path_text(arrival.path.name),
        "tendon.path": path_text(arrival.path),
        "tendon.athlete": arrival.athlete_id or "",
        "tendon.source": arrival.source,
        "tendon.size": str(arrival.size),
    }
    if arrival.sha256:
        resource["tendon.sha256"] = arrival.sha256
    if arrival.device:
        resource["tendon.device"] = arrival.device
    payload = {"arrival_id": arrival.arrival_id, "path": path_text(arrival.path), "athlete": arrival.athlete_id,
               "size": arrival.size, "source": arrival.source, "sha256": arrival.sha256,
               "received_at": arrival.received_at.isoformat()}
    return PipelineEvent(FILE_RECEIVED, resource, _related(arrival.athlete_id), payload,
                         id=event_id(FILE_RECEIVED, arrival.arrival_id), occurred=arrival.received_at)


def data_changed_event(athlete_id: str, ingest_id: str, activity_ids: Iterable[str] = ()) -> PipelineEvent:
    activities = sorted(set(activity_ids))
    resource = {"prefect.resource.id": f"tendon.athlete.{athlete_id}", "prefect.resource.name": athlete_id,
                "tendon.athlete": athlete_id, "tendon.ingest-id": ingest_id}
    payload = {"athlete": athlete_id, "ingest_id": ingest_id, "activity_ids": activities}
    return PipelineEvent(DATA_CHANGED, resource, [], payload, id=event_id(DATA_CHANGED, ingest_id, athlete_id))


def alert_raised_event(alert: Any) -> PipelineEvent:
    """From a :class:`tendon_pipeline.domain.models.Alert` (anything with its fields)."""
    key = alert.key
    resource = {"prefect.resource.id": f"tendon.alert.{key}", "prefect.resource.name": key,
                "tendon.athlete": alert.athlete_id, "tendon.rule": alert.rule,
                "tendon.severity": str(alert.severity), "tendon.period": alert.period}
    payload = {"key": key, "athlete": alert.athlete_id, "rule": alert.rule, "severity": str(alert.severity),
               "date": str(alert.date), "period": alert.period, "message": alert.message}
    return PipelineEvent(ALERT_RAISED, resource, _related(alert.athlete_id), payload, id=event_id(ALERT_RAISED, key))


def emit_file_received(arrival: Arrival) -> PipelineEvent:
    return emit(file_received_event(arrival))


def emit_data_changed(report: Any) -> list[PipelineEvent]:
    """One ``athlete.data.changed`` per athlete with newly stored activities in an IngestReport."""
    sent = []
    for athlete in report.athletes_changed():
        activities = [o.activity_id for o in report.outcomes
                      if o.athlete_id == athlete and o.status in STORED_STATUSES and o.activity_id]
        sent.append(emit(data_changed_event(athlete, report.ingest_id, activities)))
    return sent


def emit_alerts_raised(alerts: Iterable[Any]) -> list[PipelineEvent]:
    """One ``alert.raised`` per new alert (pass only alerts not raised before)."""
    return [emit(alert_raised_event(alert)) for alert in alerts]
