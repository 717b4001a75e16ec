"""Ingest file by file against one open warehouse (small inputs; also the bulk path's helper).

Every file offered ends in exactly one outcome: ingested, salvaged, duplicate,
skipped (with a reason) or quarantined (with a reason). One bad file never stops
the others, and each stored file lands in one transaction.
"""

from __future__ import annotations

import hashlib

from tendon_pipeline.app.ingest.attribution import athlete_from_folder
from tendon_pipeline.app.ingest.decision import Accept, OfferedForAnother, Refused, Unattributed, decide, decode_job
from tendon_pipeline.app.ingest.discover import RealPaths, SourceFile, read_source
from tendon_pipeline.app.ingest.plausibility import implausibility
from tendon_pipeline.app.ingest.report import FileOutcome, IngestReport, new_ingest_id
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.models import FileStatus
from tendon_pipeline.domain.privacy import apply_privacy
from tendon_pipeline.fit.decode import DecodedActivity
from tendon_pipeline.warehouse.store import StoredActivity, Warehouse


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_identity(source: SourceFile, data: bytes) -> str:
    """What tells one file from another in ``source_files``: its content hash. An empty file
    has no content to tell it apart (every empty file has the same hash), so it is known by
    its path: twenty empty files are twenty quarantined files, each with its reason, not one
    quarantined and nineteen "duplicates"; the same empty file offered again is seen before,
    and once it has content it is a new file."""
    return sha256(data) if data else sha256(b"empty-file\0" + source.text.encode("utf-8"))


class Ingestor:
    """Runs files through decode and store against one open warehouse."""

    def __init__(self, warehouse: Warehouse, settings: Settings, *, athlete: str | None = None,
                 ingest_id: str | None = None) -> None:
        self.warehouse = warehouse
        self.settings = settings
        self.athlete = athlete
        self.report = IngestReport(ingest_id or new_ingest_id())
        self._configured: set[str] = set()
        self._real_paths = RealPaths()

    def read(self, source: SourceFile) -> bytes | FileOutcome:
        return read_source(source, self.settings.max_file_mb)

    def named_athlete(self, source: SourceFile) -> str | None:
        """The athlete given for the run, else the one its folder names."""
        return self.athlete or athlete_from_folder(source, self.settings, self._real_paths)

    def ingest_one(self, source: SourceFile) -> FileOutcome:
        data = self.read(source)
        if isinstance(data, FileOutcome):
            return data
        path, file_hash = source.text, file_identity(source, data)
        decision = decide(self.warehouse.file_status(file_hash), lambda: decode_job(data),
                          self.named_athlete(source), self.settings.athlete_for_serial, self.implausible)
        if isinstance(decision, OfferedForAnother):
            self.warehouse.note_offered_for(file_hash, decision.athlete, path, self.report.ingest_id)
        if isinstance(decision, Refused):
            self.warehouse.record_file(file_hash=file_hash, path=path, size_bytes=len(data), status=decision.status,
                                       athlete_id=decision.athlete, reason_code=decision.code,
                                       reason=decision.reason, ingest_id=self.report.ingest_id)
        if isinstance(decision, Accept | Unattributed) and decision.forget_quarantined:
            self.warehouse.forget_file(file_hash)
        if not isinstance(decision, Accept):
            return decision.outcome(path, file_hash)
        self.prepare(decision.decoded, decision.athlete)
        stored = self.warehouse.store_activity(decision.decoded, athlete_id=decision.athlete, path=path,
                                               ingest_id=self.report.ingest_id)
        return stored_outcome(path, decision.decoded, decision.athlete, stored)

    def implausible(self, decoded: DecodedActivity) -> str | None:
        """Why the decoded activity is not believed (settings ``[plausibility]``), or None."""
        return implausibility(decoded, self.settings.plausibility)

    def prepare(self, decoded: DecodedActivity, athlete: str) -> None:
        """Before an activity is stored: the athlete's row (from the config, once per run) and
        the GPS privacy settings applied to its records."""
        self._apply_athlete_config(athlete)
        if not self.settings.privacy.keeps_every_position():  # else the record columns stay as decoded
            decoded.records = apply_privacy(decoded.records, self.settings.privacy)

    def _apply_athlete_config(self, athlete: str) -> None:
        if athlete in self._configured:
            return
        config = self.settings.athlete(athlete)
        self.warehouse.ensure_athlete(
            athlete, body_mass_kg=config.body_mass_kg if config else None,
            height_m=config.height_m if config else None, display_name=config.name if config else None,
        )
        self._configured.add(athlete)


def stored_outcome(path: str, decoded: DecodedActivity, athlete: str, stored: StoredActivity) -> FileOutcome:
    code, reason = stored.reason_code, stored.reason  # truncated, replaced or athlete_conflict (or none)
    if stored.status == FileStatus.DUPLICATE:
        code, reason = "duplicate_activity", f"same activity as {stored.activity_id} already stored"
    return FileOutcome(path, stored.status, athlete, code, reason, stored.activity_id, decoded.content_hash)
