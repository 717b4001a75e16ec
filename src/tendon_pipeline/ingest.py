"""Ingest: find FIT files, decide whose they are, decode, store. Library code, no Prefect.

Every file offered ends in exactly one outcome: ingested, salvaged, duplicate,
skipped (with a reason) or quarantined (with a reason). One bad file never stops
the others, and each stored file lands in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit.decode import DecodedActivity, decode_bytes
from tendon_pipeline.privacy import apply_privacy
from tendon_pipeline.settings import Settings
from tendon_pipeline.warehouse.store import Warehouse

ProgressCallback = Callable[["FileOutcome", int, int], None]
# Set by a front end (the CLI) to follow an ingest that runs inside a flow/task.
progress_callback: ContextVar[ProgressCallback | None] = ContextVar("tendon_ingest_progress", default=None)
ATHLETE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATUSES = ("ingested", "salvaged", "duplicate", "skipped", "quarantined")


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest and the folder it was found under (for INBOX/<athlete>/ naming)."""

    path: Path
    root: Path | None = None


@dataclass
class FileOutcome:
    path: str
    status: str
    athlete_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    activity_id: str | None = None
    file_hash: str | None = None


@dataclass
class IngestReport:
    ingest_id: str
    outcomes: list[FileOutcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter = Counter(o.status for o in self.outcomes)
        return {status: counter.get(status, 0) for status in STATUSES}

    def athletes_changed(self) -> list[str]:
        """Athletes with newly stored activities (what the rules must re-evaluate)."""
        return sorted({o.athlete_id for o in self.outcomes
                       if o.status in ("ingested", "salvaged") and o.athlete_id})

    def problems(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status in ("skipped", "quarantined", "salvaged")]

    def to_dict(self) -> dict:
        return {"ingest_id": self.ingest_id, "counts": self.counts(),
                "athletes_changed": self.athletes_changed(),
                "files": [asdict(o) for o in self.outcomes]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)


def new_ingest_id() -> str:
    return uuid.uuid4().hex[:16]


def discover(paths: Iterable[str | Path]) -> list[SourceFile]:
    """Files named directly, and ``*.fit`` files under folders (recursive, hidden skipped)."""
    found: dict[Path, SourceFile] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() == ".fit" and not _hidden(child, path):
                    found.setdefault(child.resolve(), SourceFile(child, path))
        else:
            found.setdefault(path.resolve(), SourceFile(path, None))
    return list(found.values())


def _hidden(child: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def athlete_from_folder(source: SourceFile, settings: Settings) -> str | None:
    """``ROOT/<athlete>/.../file.fit``, or a root that is itself ``INBOX/<athlete>``."""
    if source.root is None:
        return None
    parts = source.path.relative_to(source.root).parts
    if len(parts) >= 2:
        return parts[0]
    inbox = settings.inbox.expanduser().resolve()
    root = source.root.resolve()
    return root.name if root.parent == inbox else None


class Ingestor:
    """Runs files through decode and store against one open warehouse."""

    def __init__(self, warehouse: Warehouse, settings: Settings, *, athlete: str | None = None,
                 ingest_id: str | None = None) -> None:
        self.warehouse = warehouse
        self.settings = settings
        self.athlete = athlete
        self.report = IngestReport(ingest_id or new_ingest_id())
        self._configured: set[str] = set()

    def run(self, sources: list[SourceFile], on_file: ProgressCallback | None = None) -> IngestReport:
        on_file = on_file or progress_callback.get()
        self.warehouse.start_ingest_run(self.report.ingest_id, len(sources))
        for number, source in enumerate(sources, start=1):
            outcome = self.ingest_one(source)
            self.report.outcomes.append(outcome)
            if on_file:
                on_file(outcome, number, len(sources))
        self.warehouse.finish_ingest_run(self.report.ingest_id, json.dumps(self.report.counts()))
        return self.report

    def ingest_one(self, source: SourceFile) -> FileOutcome:
        path = str(source.path)
        data_or_outcome = self._read(source)
        if isinstance(data_or_outcome, FileOutcome):
            return data_or_outcome
        data = data_or_outcome
        file_hash = hashlib.sha256(data).hexdigest()
        seen = self.warehouse.file_status(file_hash)
        if seen is not None and seen[0] != "quarantined":
            return FileOutcome(path, "duplicate", reason_code="already_seen",
                               reason=f"file already seen ({seen[0]})", file_hash=file_hash)
        athlete = self.athlete or athlete_from_folder(source, self.settings)
        try:
            decoded = decode_bytes(data)
        except NotAnActivity as exc:
            return self._remember(path, data, file_hash, athlete, "skipped", "not_activity", str(exc))
        except FitFileRejected as exc:
            if seen is not None:  # still damaged: nothing new to record
                return FileOutcome(path, "duplicate", reason_code="already_seen",
                                   reason=f"file already seen (quarantined: {seen[1]})", file_hash=file_hash)
            return self._remember(path, data, file_hash, athlete, "quarantined", exc.reason_code, exc.message)
        if seen is not None:  # a quarantined file that decodes now (a newer decoder): take it in
            self.warehouse.forget_file(file_hash)
        athlete = athlete or self.settings.athlete_for_serial(decoded.serial_number)
        problem = _athlete_problem(athlete, decoded)
        if problem:
            return FileOutcome(path, "skipped", athlete, "no_athlete", problem, file_hash=file_hash)
        return self._store(path, decoded, athlete)

    def _read(self, source: SourceFile) -> bytes | FileOutcome:
        path = str(source.path)
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        try:
            size = source.path.stat().st_size
            if size > limit:
                return FileOutcome(path, "quarantined", reason_code="too_large",
                                   reason=f"file is {size / 1e6:.1f} MB, over the {self.settings.max_file_mb:g} MB limit (max_file_mb)")
            return source.path.read_bytes()
        except OSError as exc:
            return FileOutcome(path, "skipped", reason_code="unreadable",
                               reason=f"cannot read the file: {exc.strerror or exc}")

    def _remember(self, path: str, data: bytes, file_hash: str, athlete: str | None,
                  status: str, code: str, reason: str) -> FileOutcome:
        self.warehouse.record_file(file_hash=file_hash, path=path, size_bytes=len(data), status=status,
                                   athlete_id=athlete, reason_code=code, reason=reason,
                                   ingest_id=self.report.ingest_id)
        return FileOutcome(path, status, athlete, code, reason, file_hash=file_hash)

    def _store(self, path: str, decoded: DecodedActivity, athlete: str) -> FileOutcome:
        self._apply_athlete_config(athlete)
        decoded.records = apply_privacy(decoded.records, self.settings.privacy)
        stored = self.warehouse.store_activity(decoded, athlete_id=athlete, path=path,
                                               ingest_id=self.report.ingest_id)
        reason = decoded.salvage_reason if stored.status == "salvaged" else None
        code = "truncated" if stored.status == "salvaged" else None
        if stored.status == "duplicate":
            code, reason = "duplicate_activity", f"same activity as {stored.activity_id} already stored"
        return FileOutcome(path, stored.status, athlete, code, reason, stored.activity_id, decoded.content_hash)

    def _apply_athlete_config(self, athlete: str) -> None:
        if athlete in self._configured:
            return
        config = self.settings.athlete(athlete)
        self.warehouse.ensure_athlete(
            athlete, body_mass_kg=config.body_mass_kg if config else None,
            height_m=config.height_m if config else None, display_name=config.name if config else None,
        )
        self._configured.add(athlete)


def _athlete_problem(athlete: str | None, decoded: DecodedActivity) -> str | None:
    if athlete is None:
        serial = decoded.serial_number
        return ("cannot tell whose activity this is: pass --athlete, put the file in INBOX/<athlete>/, "
                f"or list device serial {serial} under an athlete's `devices` in the config")
    if not ATHLETE_ID.match(athlete):
        return f"'{athlete}' is not a valid athlete id (letters, digits, '_', '.', '-'; at most 64)"
    return None


def ingest_paths(warehouse: Warehouse, settings: Settings, paths: Iterable[str | Path], *,
                 athlete: str | None = None, ingest_id: str | None = None,
                 on_file: ProgressCallback | None = None) -> IngestReport:
    """Discover and ingest files and folders into an open warehouse."""
    return Ingestor(warehouse, settings, athlete=athlete, ingest_id=ingest_id).run(discover(paths), on_file)
