"""Configuration models of the sources (pydantic only: ``settings.py`` imports this).

In the TOML config::

    [watch]
    batch_window_s = 0.5      # collect arrivals this long, then one flow run per batch
    batch_quiet_s = 0.15      # ... or until nothing arrived for this long
    settle_s = 1.0            # a file whose FIT header does not prove it complete is taken
                              # once its size and mtime are unchanged this long
    poll = false              # poll instead of inotify (network / fuse mounts)

    [upload]
    max_mb = 16

    [[upload.tokens]]         # per athlete ...
    athlete = "ana"
    token = "long-random-string"

    [[upload.tokens]]         # ... or per device (the device name is recorded on the arrival)
    athlete = "ana"
    device = "ana-forerunner"
    token_sha256 = "<hex sha256 of the token>"   # store a digest instead of the token

or in the environment: ``TENDON_UPLOAD__TOKENS='[{"athlete": "ana", "token": "..."}]'``.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ATHLETE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class UploadToken(BaseModel):
    """One bearer token: it names exactly one athlete, and optionally the device it is for."""

    model_config = ConfigDict(extra="forbid")

    athlete: str = Field(pattern=ATHLETE_PATTERN)
    device: str | None = Field(default=None, max_length=64, description="label of the device this token is for")
    token: SecretStr | None = Field(default=None, description="the token itself (keep the config file private)")
    token_sha256: SecretStr | None = Field(default=None, description="hex SHA-256 of the token instead of the token")

    @model_validator(mode="after")
    def _one_secret(self) -> UploadToken:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of `token` or `token_sha256`")
        if self.token is not None and len(self.token.get_secret_value()) < 16:
            raise ValueError("an upload token must be at least 16 characters long")
        if self.token_sha256 is not None:
            digest = self.token_sha256.get_secret_value().lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError("token_sha256 must be 64 hex digits")
        return self

    def matches(self, presented: str) -> bool:
        """Constant-time comparison of digests (equal length whatever was presented)."""
        offered = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).hexdigest()
        if self.token_sha256 is not None:
            expected = self.token_sha256.get_secret_value().lower()
        else:
            expected = hashlib.sha256(self.token.get_secret_value().encode()).hexdigest()  # type: ignore[union-attr]
        return hmac.compare_digest(offered, expected)


class UploadSettings(BaseModel):
    """The HTTP upload endpoint (``tendon serve-api``)."""

    model_config = ConfigDict(extra="forbid")

    tokens: list[UploadToken] = Field(default_factory=list, description="bearer tokens, per athlete or per device")
    max_mb: float = Field(default=16.0, gt=0, le=1024, description="uploads larger than this are refused (413)")
    header_timeout_s: float = Field(
        default=10.0, gt=0, le=600,
        description="a connection must send a request's headers within this long (else closed, 408)")
    body_timeout_s: float = Field(
        default=120.0, gt=0, le=3600,
        description="an upload's body must arrive within this long (else refused, 408, nothing kept)")
    keep_uploads: bool = Field(
        default=False,
        description="keep uploaded files in the inbox after they are stored (default: removed once the"
                    " warehouse has them, i.e. ingested, salvaged or a duplicate; quarantined and skipped"
                    " uploads stay for inspection)")

    def find(self, presented: str) -> UploadToken | None:
        """The token entry matching ``presented``; every entry is compared (no early exit)."""
        found = None
        for entry in self.tokens:
            if entry.matches(presented) and found is None:
                found = entry
        return found


class WatchSettings(BaseModel):
    """The folder watcher (``tendon watch``)."""

    model_config = ConfigDict(extra="forbid")

    batch_window_s: float = Field(default=0.5, ge=0, le=60,
                                  description="arrivals within this window after the first go into one batch")
    batch_quiet_s: float = Field(
        default=0.15, ge=0, le=60,
        description="the batch closes before the window ends once nothing arrived for this long: a burst"
                    " still shares one flow run, a lone file does not wait the whole window (issue 17;"
                    " 0 = always the whole window)")
    max_batch: int = Field(default=500, ge=1, description="at most this many files per batch")
    settle_s: float = Field(default=1.0, ge=0, le=600,
                            description="unchanged this long = complete, for files whose header does not prove it")
    poll: bool = Field(default=False, description="poll the folder instead of OS notifications (network mounts)")
    poll_interval_ms: int = Field(default=300, ge=50, le=60_000)


class SyncSettings(BaseModel):
    """Pulling activities from intervals.icu and Garmin Connect (``tendon link``, ``tendon sync``).

    Links (which athlete, which service, which credential reference) and what was fetched
    are kept under ``state_dir``; credentials themselves never are (see docs/sources.md).
    """

    model_config = ConfigDict(extra="forbid")

    state_dir: Path | None = Field(default=None, description="links, fetch state and Garmin token stores;"
                                   " default: a `sync` folder beside the warehouse file")
    interval_minutes: int = Field(default=15, ge=1, le=1440,
                                  description="poll interval of a long-running sync source; the Prefect deployment's"
                                              " schedule (deploy/prefect.yaml) uses the same 15 min")
    first_sync_days: int = Field(default=30, ge=1, le=3650,
                                 description="a first sync without --since fetches this many days back")
    overlap_hours: float = Field(default=48.0, ge=0, le=720,
                                 description="each sync looks this far before the newest activity already fetched"
                                             " (late uploads, edited start times); fetched ids are skipped")
    page_size: int = Field(default=100, ge=1, le=1000, description="activities asked for per listing request")
    timeout_s: float = Field(default=30.0, gt=0, le=600, description="connect/read timeout of one HTTP request")
    attempts: int = Field(default=4, ge=1, le=10,
                          description="tries of one request on 429/5xx/timeouts before the sync stops (transient)")
    backoff_s: float = Field(default=2.0, ge=0, le=300,
                             description="first wait between tries, doubled each time, when no Retry-After is given")
    max_wait_s: float = Field(default=120.0, ge=0, le=3600,
                              description="a Retry-After longer than this stops the sync (transient)"
                                          " instead of waiting")
    intervals_url: str = Field(default="https://intervals.icu", description="intervals.icu API base URL")
    intervals_request_gap_s: float = Field(default=0.1, ge=0, le=60,
                                           description="at least this long between two intervals.icu requests"
                                                       " (its developer: about 10 requests/s per IP, docs/sources.md)")
    garmin_domain: Literal["garmin.com", "garmin.cn"] = Field(default="garmin.com",
                                                        description="garmin.cn for Garmin China accounts")
    max_file_mb: float = Field(default=64.0, gt=0, description="a downloaded activity larger than this is skipped")
