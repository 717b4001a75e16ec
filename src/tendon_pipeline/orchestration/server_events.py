"""The Prefect server's event stream as a source of arrivals (the warm worker, issue 17).

:class:`ServerEventsSource` subscribes to ``fit.file.received`` on the server at
``PREFECT_API_URL`` (Prefect's :class:`~prefect.events.clients.PrefectEventSubscriber`, a
websocket on ``/events/out``) and reports each event as an :class:`Arrival` for the file it
names, so the :class:`~tendon_pipeline.runtime.watch.Watcher` batches and processes it like
a file from the folder.

- **Which events**: those whose file lies under this worker's inbox (one worker per inbox and
  warehouse; a server may serve several). An event for a file elsewhere, or for a file that
  is not there (any more), is logged and left.
- **Each event once**: the subscriber drops an event id it has seen in the last 2 minutes;
  this source remembers the last 100,000 ids it took. The Watcher drops a second sighting of
  the same landing (path, size, mtime), and ingest stores a file once (content hash,
  activity key), so even a copy under a new id changes nothing.
- **Catch-up**: every time the subscription is (re)opened, the inbox is listed, as
  ``tendon watch --once`` does, and every complete file is offered: what arrived while the
  worker was down (or the server unreachable) is taken, what is already stored comes back
  as a duplicate. Prefect's subscriber also replays the last minute of events on connect.
- **Server not reachable**: retried for as long as the worker runs, with back-off
  (1, 2, 5, 10, 30 s), each attempt logged with what to do.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from tendon_pipeline.connectors.sources.base import Arrival, Emit, athlete_from_inbox_path
from tendon_pipeline.connectors.sources.folder import FolderSource
from tendon_pipeline.errors import OrchestratorUnreachable
from tendon_pipeline.orchestration import events
from tendon_pipeline.orchestration.embedded import quiet_prefect_env

_log = logging.getLogger(__name__)
RECONNECT_DELAYS_S = (1, 2, 5, 10, 30)  # then 30 s between attempts
_REMEMBER_IDS = 100_000
_RESOURCE_PREFIX = "tendon.fit-file."


def unreachable(api_url: str, exc: BaseException) -> OrchestratorUnreachable:
    return OrchestratorUnreachable(
        f"the Prefect server at {api_url} is not reachable ({type(exc).__name__}: {exc})",
        hint="start it (prefect server start) or correct PREFECT_API_URL")


def arrival_of(event: Any, inbox: Path) -> Arrival | None:
    """The arrival a ``fit.file.received`` event announces, if its file is under ``inbox`` and
    here; None (logged) otherwise."""
    resource = event.resource
    raw = resource.get("tendon.path")
    if not raw:
        _log.warning("event %s names no file (label tendon.path); left", event.id)
        return None
    path = Path(raw)
    if not path.is_relative_to(inbox):
        _log.info("event %s: %s is not under this worker's inbox %s; left for the worker of that inbox",
                  event.id, path, inbox)
        return None
    try:
        stat = path.stat()
    except OSError as exc:
        _log.warning("event %s names %s, which cannot be read here (%s); left", event.id, path, exc.strerror)
        return None
    resource_id = resource.id
    arrival_id = resource_id[len(_RESOURCE_PREFIX):] if resource_id.startswith(_RESOURCE_PREFIX) else None
    fields: dict[str, Any] = {"arrival_id": arrival_id} if arrival_id else {}
    return Arrival(path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns,
                   athlete_id=resource.get("tendon.athlete") or athlete_from_inbox_path(inbox, path),
                   source=resource.get("tendon.source") or "server", sha256=resource.get("tendon.sha256") or None,
                   device=resource.get("tendon.device") or None, received_at=event.occurred, **fields)


class ServerEventsSource:
    """``fit.file.received`` events from the Prefect server, as arrivals (see the module docstring)."""

    name = "server-events"

    def __init__(self, inbox: Path, *, api_url: str | None = None, settle_s: float = 1.0) -> None:
        self.inbox = Path(inbox).expanduser().resolve()
        self.api_url = api_url
        self.settle_s = settle_s
        self.watching = threading.Event()  # set once subscribed and the inbox caught up
        self._taken: OrderedDict[uuid.UUID, None] = OrderedDict()

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Subscribe, catch up, report events until ``stop``; reconnect with back-off."""
        quiet_prefect_env()
        from prefect.settings import PREFECT_API_URL

        self.api_url = self.api_url or PREFECT_API_URL.value()
        failures = 0
        while not stop.is_set():
            try:
                asyncio.run(self._subscribed(emit, stop))
                failures = 0
            except (OSError, TimeoutError, *_websocket_errors()) as exc:
                delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)]
                failures += 1
                _log.warning("%s\n  transient: retrying in %d s", unreachable(self.api_url, exc), delay)
                stop.wait(delay)

    async def _subscribed(self, emit: Emit, stop: threading.Event) -> None:
        from prefect.events.clients import PrefectEventSubscriber
        from prefect.events.filters import EventFilter, EventNameFilter

        wanted = EventFilter(event=EventNameFilter(name=[events.FILE_RECEIVED]))  # type: ignore[call-arg]
        async with PrefectEventSubscriber(api_url=self.api_url, filter=wanted, reconnection_attempts=2) as stream:
            _log.info("subscribed to %s on %s", events.FILE_RECEIVED, self.api_url)
            caught_up = FolderSource(self.inbox, settle_s=self.settle_s).catch_up(emit)
            _log.info("caught up the inbox %s: %d files offered", self.inbox, caught_up)
            self.watching.set()
            reading = asyncio.ensure_future(self._read(stream, emit))
            while not stop.is_set() and not reading.done():
                await asyncio.wait({reading}, timeout=0.2)
            if not reading.done():
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
                return
            reading.result()  # a lost connection raises here: the caller reconnects

    async def _read(self, stream: Any, emit: Emit) -> None:
        async for event in stream:
            if event.event != events.FILE_RECEIVED or not self._first_time(event.id):
                continue
            arrival = arrival_of(event, self.inbox)
            if arrival is not None:
                emit(arrival)
        raise ConnectionError("the server closed the event stream")

    def _first_time(self, event_id: uuid.UUID) -> bool:
        if event_id in self._taken:
            return False
        self._taken[event_id] = None
        while len(self._taken) > _REMEMBER_IDS:
            self._taken.popitem(last=False)
        return True


def _websocket_errors() -> tuple[type[BaseException], ...]:
    from websockets.exceptions import InvalidHandshake, WebSocketException

    return (WebSocketException, InvalidHandshake)


# -- coexistence with the per-event deployments ------------------------------------------
PIPELINE_EVENTS = events.EVENT_NAMES


def _expects(trigger: dict[str, Any]) -> Iterable[str]:
    yield from trigger.get("expect") or ()
    yield from trigger.get("after") or ()
    for inner in trigger.get("triggers") or ():  # compound and sequence triggers
        yield from _expects(inner)


def competing_automations(api_url: str | None = None) -> list[str]:
    """Names of the enabled automations on the server that run a deployment when one of the
    pipeline's events occurs (deploy/prefect.yaml's triggers): with them, an event would be
    processed twice, by a deployment run and by the warm worker."""
    quiet_prefect_env()
    import httpx
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            automations = client.read_automations()
    except (httpx.HTTPError, OSError) as exc:
        raise unreachable(api_url or "PREFECT_API_URL", exc) from exc
    found = []
    for automation in automations:
        spec = automation.model_dump(mode="json")
        runs_deployment = any(action.get("type") == "run-deployment" for action in spec.get("actions") or ())
        expected = list(_expects(spec.get("trigger") or {}))
        if spec.get("enabled") and runs_deployment and any(
                fnmatchcase(name, pattern) for name in PIPELINE_EVENTS for pattern in expected):
            found.append(spec["name"])
    return sorted(found)
