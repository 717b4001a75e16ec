"""The part every remote source shares: list, download, unwrap, land, remember.

A service module (:mod:`.intervals_icu`, :mod:`.garmin_connect`) implements only
:class:`RemoteAccount` -- list the athlete's activities since a time, download one
activity's original file -- and turns the service's failures into
:class:`~tendon_pipeline.errors.SourceError` (transient: 429, 5xx, timeouts;
terminal: :class:`~tendon_pipeline.errors.RelinkNeeded`). Everything else is here:

- :class:`Backoff`: a transient failure is tried again after the service's
  ``Retry-After`` (or a doubling wait), a bounded number of times; a wait longer than
  ``max_wait_s`` stops the sync at once (the next scheduled run resumes). No retry storm.
- :func:`unwrap_fit`: the gzip (intervals.icu) or zip (Garmin) around the FIT file.
- :func:`sync_account`: each activity not fetched before is landed through the same
  path as every other source (:func:`~.base.land_bytes`: atomic, hashed, reported as an
  :class:`~.base.Arrival` and so as a ``fit.file.received`` event) and recorded in the
  :class:`~.sync_state.FetchState` right away.
- :class:`SyncSource`: the :class:`~.base.Source` shape (``run(emit, stop)``) for the watcher.

The same activity coming by sync and by the folder or upload is stored once: ingest
recognises the file by its content hash.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import threading
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from tendon_pipeline.connectors.sources.base import Arrival, Emit, fit_header, land_bytes
from tendon_pipeline.connectors.sources.sync_state import FetchState
from tendon_pipeline.errors import SourceError

_log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RemoteActivity:
    """One activity as a service lists it."""

    remote_id: str
    start: datetime | None = None
    sport: str | None = None


class RemoteAccount(Protocol):
    """One athlete's account on one service."""

    provider: str
    athlete: str

    def activities_since(self, since: datetime) -> Iterable[RemoteActivity]: ...

    def download(self, activity: RemoteActivity) -> bytes: ...


@dataclass
class Backoff:
    """Bounded retries of transient :class:`SourceError`s, honouring Retry-After."""

    attempts: int = 4
    backoff_s: float = 2.0
    max_wait_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep

    def run(self, call: Callable[[], T]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except SourceError as exc:
                if not exc.transient or attempt == self.attempts:
                    raise
                wait = exc.retry_after_s if exc.retry_after_s is not None else self.backoff_s * 2 ** (attempt - 1)
                if wait > self.max_wait_s:
                    raise SourceError(f"{exc.message}; the service asks to wait {wait:.0f} s", transient=True,
                                      retry_after_s=wait, hint="the next scheduled sync continues from here") from None
                _log.warning("%s; trying again in %.1f s (%d/%d)", exc.message, wait, attempt, self.attempts)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def unwrap_fit(data: bytes, *, max_bytes: int) -> bytes | None:
    """The FIT file inside ``data`` (as is, gzip'd or the first ``.fit`` in a zip), else None."""
    if data[:2] == b"\x1f\x8b":
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as handle:
            data = handle.read(max_bytes + 1)
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if m.filename.lower().endswith(".fit") and not m.is_dir()]
            if not members:
                return None
            with archive.open(members[0]) as handle:
                data = handle.read(max_bytes + 1)
    if len(data) > max_bytes or fit_header(data[:14]) is None:
        return None
    return data


def landing_name(provider: str, remote_id: str) -> str:
    """Stable per activity, chosen here (never the service's text)."""
    return f"{provider}-{hashlib.sha256(remote_id.encode()).hexdigest()[:16]}.fit"


@dataclass
class SyncResult:
    """What one sync of one account did."""

    provider: str
    athlete: str
    listed: int = 0
    landed: list[Arrival] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    error: SourceError | None = None

    @property
    def paths(self) -> list[Path]:
        return [a.path for a in self.landed]

    def to_dict(self) -> dict:
        error = None if self.error is None else {"message": self.error.message, "hint": self.error.hint,
                                                 "transient": self.error.transient}
        return {"provider": self.provider, "athlete": self.athlete, "listed": self.listed,
                "landed": [str(p) for p in self.paths], "skipped": dict(self.skipped), "error": error}


def sync_account(account: RemoteAccount, state: FetchState, inbox: Path, emit: Emit, *, since: datetime,
                 backoff: Backoff, max_bytes: int) -> SyncResult:
    """Land every activity listed since ``since`` that was not fetched before.

    Stops at the first error that retries could not cure and returns it in the result
    (what was landed before it stays landed and recorded); never raises a SourceError.
    """
    result = SyncResult(account.provider, account.athlete)
    try:
        activities = backoff.run(lambda: list(account.activities_since(since)))
        result.listed = len(activities)
        for activity in sorted(activities, key=lambda a: (a.start is None, a.start or datetime.min)):
            if not state.seen(activity.remote_id):
                _fetch_one(account, activity, state, inbox, emit, backoff, max_bytes, result)
    except SourceError as exc:
        result.error = exc
    return result


def _fetch_one(account: RemoteAccount, activity: RemoteActivity, state: FetchState, inbox: Path, emit: Emit,
               backoff: Backoff, max_bytes: int, result: SyncResult) -> None:
    data = backoff.run(lambda: account.download(activity))
    fit = unwrap_fit(data, max_bytes=max_bytes) if data else None
    if fit is None:
        reason = "no FIT file (original is another format, or too large)" if data else "no file at the service"
        _log.info("%s activity %s of %s skipped: %s", account.provider, activity.remote_id, account.athlete, reason)
        state.record(activity.remote_id, activity.start, skipped=reason)
        result.skipped[activity.remote_id] = reason
        return
    digest = hashlib.sha256(fit).hexdigest()
    path = land_bytes(inbox / account.athlete, landing_name(account.provider, activity.remote_id), fit)
    state.record(activity.remote_id, activity.start, sha256=digest)
    arrival = Arrival.for_file(path, source=account.provider, athlete_id=account.athlete, sha256=digest)
    result.landed.append(arrival)
    emit(arrival)


class SyncSource:
    """A remote account polled every ``interval_s`` as a :class:`~.base.Source` (``tendon watch``-style)."""

    def __init__(self, account: RemoteAccount, state: FetchState, inbox: Path, *, interval_s: float,
                 backoff: Backoff, max_bytes: int, first_days: int = 30, overlap: timedelta = timedelta(hours=48)):
        self.account, self.state, self.inbox = account, state, Path(inbox)
        self.name = account.provider
        self.interval_s, self.backoff, self.max_bytes = interval_s, backoff, max_bytes
        self.first_days, self.overlap = first_days, overlap

    def sync_once(self, emit: Emit, since: datetime | None = None) -> SyncResult:
        start = self.state.list_from(since=since, first_days=self.first_days, overlap=self.overlap)
        return sync_account(self.account, self.state, self.inbox, emit, since=start, backoff=self.backoff,
                            max_bytes=self.max_bytes)

    def run(self, emit: Emit, stop: threading.Event) -> None:
        while not stop.is_set():
            result = self.sync_once(emit)
            if result.error is not None and not result.error.transient:
                _log.error("%s sync of %s stopped: %s", self.name, self.account.athlete, result.error)
                return  # terminal (re-link needed): polling again cannot help
            if result.error is not None:
                _log.warning("%s sync of %s: %s", self.name, self.account.athlete, result.error.message)
            stop.wait(self.interval_s)
