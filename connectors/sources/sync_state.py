"""What the remote sources remember across restarts: links and fetched activities.

Two small JSON files under ``sync.state_dir``, each written atomically (temporary file,
fsync, rename), like the bucket source's state:

- ``links.json``: one :class:`Link` per (service, athlete). A link holds a *reference*
  to the credential (``env:VAR`` or ``prefect-secret:BLOCK``, the notifiers' secret
  reference format, :mod:`~tendon_pipeline.connectors.notifiers.secret_ref`), never the
  credential. Garmin's OAuth tokens live in a per-athlete token store
  (``garmin/<athlete>/``, mode 0700) written by the ``garminconnect`` library.
- ``<service>/<athlete>.json`` (:class:`FetchState`): the remote ids already landed
  (with the SHA-256 of the FIT file) or skipped (with the reason), and the start time of
  the newest one, from which the next sync lists.

Losing the fetch state costs a re-download, never a duplicate: ingest recognises the
same file by its content hash.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tendon_pipeline.connectors.notifiers import secret_ref
from tendon_pipeline.connectors.sources.config import ATHLETE_PATTERN
from tendon_pipeline.connectors.sources.providers import PROVIDERS as PROVIDERS
from tendon_pipeline.connectors.sources.providers import Provider
from tendon_pipeline.errors import ConfigError, SourceError


def write_json_atomic(path: Path, payload: object, *, mode: int = 0o600) -> None:
    """Write ``payload`` as JSON to ``path``: temporary file, fsync, rename (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, sort_keys=True, indent=1, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Link(BaseModel):
    """One athlete's link to one service. Holds a credential *reference* only."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider
    athlete: str = Field(pattern=ATHLETE_PATTERN)
    remote_athlete: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$",
                                       description="intervals.icu athlete id (i12345)")
    auth: Literal["api_key", "bearer", "token_store"]
    credential: str | None = Field(default=None, description="env:VAR or prefect-secret:BLOCK (never the secret)")
    linked_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("credential")
    @classmethod
    def _reference_only(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not secret_ref.is_reference(value):
            raise ValueError("a credential must be given as env:VARIABLE or prefect-secret:BLOCK, never as the"
                             " secret itself")
        secret_ref.check_reference(value)
        return value.strip()

    @model_validator(mode="after")
    def _credential_for_auth(self) -> Link:
        if self.auth in ("api_key", "bearer") and self.credential is None:
            raise ValueError(f"auth {self.auth} needs a credential reference")
        if self.provider == "intervals" and self.remote_athlete is None:
            raise ValueError("an intervals.icu link needs the athlete's intervals.icu id (i12345)")
        return self

    def resolve_credential(self) -> str:
        """The secret, read now from the environment or the Prefect Secret block (never stored, never logged)."""
        return resolve_reference(self.credential or "", f"{self.provider} credential of {self.athlete}",
                                 relink=f"tendon link {self.provider} --athlete {self.athlete}")


def resolve_reference(reference: str, what: str, *, relink: str) -> str:
    """Follow an ``env:`` / ``prefect-secret:`` reference; a missing one is a terminal
    :class:`SourceError` naming the variable or block, never a value."""
    from tendon_pipeline.connectors.notifiers.base import DeliveryError

    if not secret_ref.is_reference(reference):
        raise ConfigError(f"{what} must be given as env:VARIABLE or prefect-secret:BLOCK, never as the secret itself")
    try:
        secret_ref.check_reference(reference)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    try:
        return secret_ref.resolve(reference)
    except DeliveryError as exc:
        raise SourceError(f"{what}: {exc.message}", transient=False,
                          hint=f"{exc.hint}, or run `{relink}` again" if exc.hint
                          else f"run `{relink}` again") from None


class LinkStore:
    """``links.json``: every link, keyed by ``provider/athlete``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / "links.json"

    def all(self) -> list[Link]:
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except ValueError as exc:
            raise ConfigError(f"{self.path} is not valid JSON ({exc})",
                              hint="fix or delete it, then run `tendon link` again for each athlete") from None
        try:
            return [Link.model_validate(item) for item in raw.values()]
        except ValidationError as exc:
            raise ConfigError(f"{self.path} holds an invalid link: {exc.errors()[0]['msg']}",
                              hint="run `tendon link` again for that athlete") from None

    def get(self, provider: str, athlete: str) -> Link | None:
        return next((link for link in self.all() if link.provider == provider and link.athlete == athlete), None)

    def save(self, link: Link) -> None:
        links = {f"{old.provider}/{old.athlete}": old.model_dump(mode="json") for old in self.all()}
        links[f"{link.provider}/{link.athlete}"] = link.model_dump(mode="json")
        write_json_atomic(self.path, links)

    def token_dir(self, athlete: str) -> Path:
        """Garmin token store of one athlete (created 0700)."""
        folder = self.state_dir / "garmin" / athlete
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        return folder


class FetchState:
    """Which remote activities of one (service, athlete) were landed or skipped."""

    def __init__(self, state_dir: Path, provider: str, athlete: str) -> None:
        self.path = Path(state_dir) / provider / f"{athlete}.json"
        try:
            raw = json.loads(self.path.read_text())
        except FileNotFoundError:
            raw = {}
        except ValueError:  # a torn file cannot happen (atomic writes); a hand-edited one re-fetches
            raw = {}
        self.fetched: dict[str, str] = dict(raw.get("fetched", {}))
        self.skipped: dict[str, str] = dict(raw.get("skipped", {}))
        newest = raw.get("newest_start")
        self.newest_start: datetime | None = datetime.fromisoformat(newest) if newest else None

    def seen(self, remote_id: str) -> bool:
        return remote_id in self.fetched or remote_id in self.skipped

    def list_from(self, *, since: datetime | None, first_days: int, overlap: timedelta,
                  now: datetime | None = None) -> datetime:
        """Where the next listing starts: ``since`` if given, else the newest fetched start
        less ``overlap``, else ``first_days`` ago."""
        if since is not None:
            return since
        if self.newest_start is not None:
            return self.newest_start - overlap
        return (now or datetime.now(UTC)) - timedelta(days=first_days)

    def record(self, remote_id: str, start: datetime | None, *, sha256: str | None = None,
               skipped: str | None = None) -> None:
        """Remember one activity and write the state at once (a crash keeps what was done)."""
        if skipped is not None:
            self.skipped[remote_id] = skipped
        else:
            self.fetched[remote_id] = sha256 or ""
        if start is not None and (self.newest_start is None or start > self.newest_start):
            self.newest_start = start
        write_json_atomic(self.path, {"fetched": self.fetched, "skipped": self.skipped,
                                      "newest_start": self.newest_start.isoformat() if self.newest_start else None})
