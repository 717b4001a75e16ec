"""The per-file ingest decision: one pure function, used by the one-by-one and the bulk paths.

Given what the warehouse already knows of the file (its ``source_files`` row, by content
hash), the decoder's verdict (asked only when needed) and the athlete the folder or the caller
names, :func:`decide` says what becomes of the file. The caller carries the decision out
(record the row, forget a quarantined row, store the activity): at once file by file, or in
batches on the bulk path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tendon_pipeline.app.ingest.attribution import athlete_problem
from tendon_pipeline.app.ingest.report import FileOutcome
from tendon_pipeline.domain.models import STORED_STATUSES, FileStatus
from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit.decode import DecodedActivity, decode_bytes

# (status, reason[, athlete]) of the file's source_files row; "pending" on the bulk path
Seen = tuple[str, str | None] | tuple[str, str | None, str | None]


# -- the decoder's verdict (picklable: it comes back from decode worker processes) ----------------
@dataclass(frozen=True)
class Decoded:
    activity: DecodedActivity


@dataclass(frozen=True)
class NotActivityFile:
    message: str


@dataclass(frozen=True)
class RejectedFile:
    code: str
    message: str


DecodeResult = Decoded | NotActivityFile | RejectedFile


def decode_job(data: bytes) -> DecodeResult:
    """decode_bytes as a verdict instead of an exception (run in a worker process or here)."""
    try:
        return Decoded(decode_bytes(data))
    except NotAnActivity as exc:
        return NotActivityFile(str(exc))
    except FitFileRejected as exc:
        return RejectedFile(exc.reason_code, exc.message)


# -- the decision --------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlreadySeen:
    """The same bytes were seen before: a duplicate, nothing written."""

    reason: str

    def outcome(self, path: str, file_hash: str) -> FileOutcome:
        return FileOutcome(path, FileStatus.DUPLICATE, reason_code="already_seen", reason=self.reason,
                           file_hash=file_hash)


@dataclass(frozen=True)
class OfferedForAnother:
    """The same bytes are stored for another athlete: not stored again, the conflict recorded on the
    file's row (both athletes named) and reported, never a silent duplicate."""

    owner: str
    athlete: str
    status: str

    def outcome(self, path: str, file_hash: str) -> FileOutcome:
        return FileOutcome(path, "skipped", self.athlete, "athlete_conflict",
                           f"these exact bytes are already stored for athlete '{self.owner}' ({self.status});"
                           f" offered now for '{self.athlete}': if the file is theirs, run"
                           f" `tendon activity reassign ID --to {self.athlete}` (ID from `tendon files`)",
                           file_hash=file_hash)


@dataclass(frozen=True)
class Refused:
    """Not stored, and remembered in ``source_files`` (first sighting wins): skipped or quarantined."""

    status: FileStatus
    code: str
    reason: str
    athlete: str | None

    def outcome(self, path: str, file_hash: str) -> FileOutcome:
        return FileOutcome(path, self.status, self.athlete, self.code, self.reason, file_hash=file_hash)


@dataclass(frozen=True)
class Unattributed:
    """An activity whose athlete is unknown or invalid: skipped, not remembered (a rerun with
    ``--athlete`` or a config listing the serial takes it)."""

    athlete: str | None
    reason: str
    forget_quarantined: bool

    def outcome(self, path: str, file_hash: str) -> FileOutcome:
        return FileOutcome(path, FileStatus.SKIPPED, self.athlete, "no_athlete", self.reason, file_hash=file_hash)


@dataclass(frozen=True)
class Accept:
    """Store the activity for ``athlete``; first forget the file's quarantined row if it had one
    (a newer decoder reads it now)."""

    decoded: DecodedActivity
    athlete: str
    forget_quarantined: bool


FileDecision = AlreadySeen | OfferedForAnother | Refused | Unattributed | Accept


def decide(seen: Seen | None, decode: Callable[[], DecodeResult], athlete: str | None,
           athlete_for_serial: Callable[[int | None], str | None],
           implausible: Callable[[DecodedActivity], str | None] = lambda decoded: None) -> FileDecision:
    """What becomes of one file. ``decode`` is called only for a file not seen, or seen and quarantined;
    ``implausible`` says why a decoded activity is not believed (quarantined, code ``implausible``)."""
    if seen is not None and seen[0] != FileStatus.QUARANTINED:
        owner = seen[2] if len(seen) > 2 else None
        if athlete and owner and owner != athlete and seen[0] in (*STORED_STATUSES, FileStatus.DUPLICATE):
            return OfferedForAnother(owner, athlete, seen[0])
        return AlreadySeen(f"file already seen ({seen[0]})")
    verdict = decode()
    if isinstance(verdict, NotActivityFile):
        return Refused(FileStatus.SKIPPED, "not_activity", verdict.message, athlete)
    if isinstance(verdict, RejectedFile):
        if seen is not None:  # still damaged: nothing new to record
            return AlreadySeen(f"file already seen (quarantined: {seen[1]})")
        return Refused(FileStatus.QUARANTINED, verdict.code, verdict.message, athlete)
    decoded = verdict.activity
    problem = implausible(decoded)
    if problem:
        if seen is not None:  # still implausible: nothing new to record
            return AlreadySeen(f"file already seen (quarantined: {seen[1]})")
        return Refused(FileStatus.QUARANTINED, "implausible", problem, athlete)
    athlete = athlete or athlete_for_serial(decoded.serial_number)
    problem = athlete_problem(athlete, decoded)
    if problem or athlete is None:
        return Unattributed(athlete, problem or "", forget_quarantined=seen is not None)
    return Accept(decoded, athlete, forget_quarantined=seen is not None)
