"""Typed errors. Each says whether retrying can help and what to do about it.

Library code raises these; only the CLI turns them into a message and an exit
code (no ``sys.exit`` in the library).
"""

from __future__ import annotations


class TendonError(Exception):
    """Base class. ``transient`` tells a caller whether a retry can help."""

    transient: bool = False
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(TendonError):
    """A setting is missing, unknown or of the wrong type. Terminal: fix the config."""

    exit_code = 2


class WarehouseError(TendonError):
    """The DuckDB warehouse cannot be opened or written."""

    exit_code = 3


class WarehouseSchemaError(WarehouseError):
    """The warehouse was made by an older version and a read-only open cannot migrate it.
    Terminal until it is migrated (``tendon migrate``); retrying as is does not help."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file. Transient: retry when it is released."""

    transient = True


class WarehouseUnavailableError(WarehouseError):
    """The warehouse's catalog server cannot be reached. Transient: retry when it is back."""

    transient = True


class WarehouseConflictError(WarehouseError):
    """Another writer committed a conflicting change first. Transient: run the step again."""

    transient = True


class FitFileRejected(TendonError):
    """A FIT file cannot be stored. ``reason_code`` is a stable machine-readable code.

    Codes: ``not_fit``, ``empty``, ``bad_header``, ``crc_mismatch``,
    ``undefined_message``, ``truncated``, ``corrupt``, ``unreadable``, ``too_large``.
    """

    def __init__(self, reason_code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason_code = reason_code


class NotAnActivity(TendonError):
    """A valid FIT file that holds no activity (settings, workout, ...). Skipped, not an error."""

    def __init__(self, file_type: str) -> None:
        super().__init__(f"not an activity file (FIT file type: {file_type})")
        self.file_type = file_type


class AthleteUnknown(TendonError):
    """Nothing says whose file this is."""


class SourceError(TendonError):
    """A remote source (intervals.icu, Garmin Connect) could not be read.

    ``transient``: a rate limit (429), a server error (5xx), a timeout or a dropped
    connection -- the next scheduled sync picks up where this one stopped.
    ``retry_after_s``: how long the service asked us to wait, when it said so.
    """

    exit_code = 5

    def __init__(self, message: str, *, transient: bool, hint: str | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient
        self.retry_after_s = retry_after_s


class RelinkNeeded(SourceError):
    """The service refuses the stored credentials (revoked, wrong, expired, login changed).

    Terminal: retrying cannot help; the athlete must run ``tendon link`` again.
    """

    def __init__(self, message: str, *, provider: str, athlete: str, hint: str | None = None) -> None:
        super().__init__(message, transient=False,
                         hint=hint or f"re-link needed: run `tendon link {provider} --athlete {athlete}`")
        self.provider = provider
        self.athlete = athlete


class NotFound(TendonError):
    """What was asked for does not exist: an unknown athlete, no plan yet. Terminal: asking
    again does not help until it exists (the web server answers 404)."""

    exit_code = 2


class UsageError(TendonError):
    """A command-line value is wrong (a malformed athlete id, a date out of range).
    Terminal: fix the command."""

    exit_code = 2


class OrchestratorUnreachable(TendonError):
    """The Prefect server (``PREFECT_API_URL``) cannot be reached. Transient: a long-running
    command retries with back-off; start the server or correct the URL."""

    transient = True
    exit_code = 4
