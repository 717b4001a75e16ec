"""``tendon worker``: server mode with a warm worker (issue 17).

One long-lived process takes ``fit.file.received`` events from the Prefect server
(:class:`~tendon_pipeline.orchestration.server_events.ServerEventsSource`) and runs each
batch of them through ``process-fit-files`` as an in-process flow run reported to that
server, on the Watcher's one writer thread, then emits ``athlete.data.changed`` and
``alert.raised`` to the server as the per-event flows do. No process is started per event:
file -> first alert takes seconds instead of the 26-94 s of three deployment runs.

It replaces the per-event deployments of ``deploy/prefect.yaml`` (ingest-on-arrival,
evaluate-on-change, notify-on-alert) on that server: :meth:`ServerWorker.start` refuses to
run while an enabled automation runs a deployment on one of the pipeline's events, since
each event would then be processed twice and the two writers would take turns at the
DuckDB file. The per-event deployments stay for Kubernetes (deploy/prefect-kubernetes.yaml).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tendon_pipeline.config.settings import Settings
from tendon_pipeline.errors import ConfigError, OrchestratorUnreachable
from tendon_pipeline.orchestration.server_events import (
    RECONNECT_DELAYS_S,
    ServerEventsSource,
    competing_automations,
    unreachable,
)
from tendon_pipeline.runtime.batch import catch_up_pending
from tendon_pipeline.runtime.watch import BatchRecord, Watcher, process_batch

_log = logging.getLogger(__name__)


def process_batch_on_server(paths: list[str], settings: Settings, *, athlete: str | None = None,
                            config: str | None = None) -> Any:
    """:func:`~tendon_pipeline.runtime.watch.process_batch`, with a server that went away
    reported as transient (the Watcher retries the batch with back-off; ingest, rules and the
    outbox make the retry of a half-done batch harmless)."""
    try:
        return process_batch(paths, settings, athlete=athlete, config=config)
    except Exception as exc:
        cause = _transport_error(exc)
        if cause is None:
            raise
        raise unreachable(_api_url(), cause) from exc


def _transport_error(exc: BaseException | None) -> BaseException | None:
    """The httpx transport error behind ``exc`` (Prefect raises RuntimeError("Failed to reach
    API ...") from it when a flow run cannot be created), or None."""
    import httpx

    while exc is not None:
        if isinstance(exc, httpx.TransportError):
            return exc
        exc = exc.__cause__
    return None


def _api_url() -> str:
    from tendon_pipeline.orchestration.embedded import configured_api_url

    return configured_api_url() or "PREFECT_API_URL"


class ServerWorker(Watcher):
    """A Watcher whose one source is the server's ``fit.file.received`` stream. It does not
    announce arrivals again (they are events already)."""

    def __init__(self, settings: Settings, inbox: Path | None = None, *, config: str | None = None,
                 batch_window_s: float | None = None, on_batch: Callable[[BatchRecord], None] | None = None,
                 check_automations: bool = True) -> None:
        self.api_url = _api_url()
        if self.api_url == "PREFECT_API_URL":
            raise ConfigError("the warm worker needs a Prefect server: PREFECT_API_URL is not set",
                              hint="start one (prefect server start) and export"
                                   " PREFECT_API_URL=http://HOST:PORT/api, or run `tendon watch` (embedded)")
        self.events_source = ServerEventsSource(inbox or settings.inbox, api_url=self.api_url,
                                                settle_s=settings.watch.settle_s)
        self.check_automations = check_automations
        super().__init__(settings, config=config, sources=[self.events_source], batch_window_s=batch_window_s,
                         on_batch=on_batch, processor=process_batch_on_server, announce=False,
                         recover=catch_up_pending)

    def start(self) -> ServerWorker:
        if self.check_automations:
            self.refuse_competing_deployments()
        if not self.stop_event.is_set():
            super().start()
        return self

    def refuse_competing_deployments(self) -> None:
        """ConfigError when the server would also run deployments on the pipeline's events.
        Waits for an unreachable server (back-off, logged) until it answers or the worker stops."""
        failures = 0
        while True:
            try:
                competing = competing_automations(self.api_url)
                break
            except OrchestratorUnreachable as exc:
                delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S) - 1)]
                failures += 1
                _log.warning("%s\n  transient: retrying in %d s", exc, delay)
                if self.stop_event.wait(delay):
                    return
        if competing:
            raise ConfigError(
                f"the Prefect server at {self.api_url} also runs deployments on the pipeline's events"
                f" (automations: {', '.join(competing)}): each file would be processed twice",
                hint="the worker runs ingest, rules and notifications itself: delete those deployments"
                     " (prefect deployment delete FLOW/NAME) or pause their automations (prefect automation"
                     " pause NAME), and deploy only the sync: prefect deploy --name sync-linked-accounts"
                     " --prefect-file deploy/prefect.yaml")
