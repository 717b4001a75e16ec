"""All configuration in one pydantic-settings class.

Precedence, highest first: command-line options, environment (``TENDON_*``,
nested with ``__``, e.g. ``TENDON_RULES__MONOTONY_WARNING=2.5``), the TOML config
file (``--config FILE``, else ``TENDON_CONFIG``, else
``$XDG_CONFIG_HOME/tendon-pipeline/config.toml`` when it exists), then defaults.
Every rule threshold lives under ``rules``.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from tendon_pipeline.config.paths import (
    ENV_PREFIX,
    ReadTarget,
    data_home,
    default_db,
    resolve_config_path,
)
from tendon_pipeline.config.web import WebSettings
from tendon_pipeline.connectors.notifiers.config import Coaches, NotifySettings, Runners
from tendon_pipeline.connectors.sources.config import SyncSettings, UploadSettings, WatchSettings
from tendon_pipeline.domain.ids import ATHLETE_ID_PATTERN
from tendon_pipeline.domain.plausibility import PlausibilitySettings
from tendon_pipeline.domain.privacy import PrivacySettings
from tendon_pipeline.domain.thresholds import RuleThresholds
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.warehouse.location import WarehouseLocation
from tendon_pipeline.warehouse.settings import WarehouseSettings, location_of

_toml_path: ContextVar[Path | None] = ContextVar("tendon_toml_path", default=None)


class RaceConfig(BaseModel):
    """A race in ``[[athletes]] races``: ``{date = 2026-10-04, distance_km = 42.2, priority = "A"}``."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    distance_km: float = Field(gt=0, le=400)
    priority: Literal["A", "B", "C"] = "A"
    name: str | None = None


class AthleteConfig(BaseModel):
    """An athlete known to the pipeline. Only ``id`` is required."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ATHLETE_ID_PATTERN)
    name: str | None = None
    body_mass_kg: float | None = Field(default=None, gt=20, lt=300)
    height_m: float | None = Field(default=None, gt=1.0, lt=2.5)
    timezone: str | None = Field(default=None, description="IANA zone, used when a file has no local time")
    devices: list[int] = Field(default_factory=list, description="watch serial numbers that belong to this athlete")
    program_start: date | None = Field(default=None, description="first day of the 12-week tendon program")
    baseline_weekly_km: float | None = Field(
        default=None, ge=0, le=400,
        description="usual weekly running distance, used until there are 3 weeks of history (issue 15)",
    )
    races: list[RaceConfig] = Field(default_factory=list, description="races and planned hard efforts")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Oslo')") from None
        return value


class Settings(BaseSettings):
    """Every setting of tendon-pipeline, with its default."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True,
    )

    db: Path = Field(default_factory=default_db,
                     description="the DuckDB warehouse file; default $TENDON_HOME/warehouse.duckdb, TENDON_HOME"
                                 " defaulting to ~/.local/share/tendon-pipeline")
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings,
                                         description="a DuckLake warehouse instead of the file `db` (scale-out)")
    inbox: Path = Field(default_factory=lambda: data_home() / "inbox",
                        description="folder watched for new FIT files: INBOX/<athlete>/*.fit;"
                                    " default $TENDON_HOME/inbox")
    athletes: list[AthleteConfig] = Field(default_factory=list,
                                          description="[[athletes]]: known athletes (section below)")
    max_file_mb: float = Field(default=64.0, gt=0, description="larger files are refused unread")
    flow_runs: Literal["auto", "always"] = Field(
        default="auto",
        description="one-shot commands (tendon ingest, tendon demo): 'auto' runs them as a Prefect flow run when a"
                    " Prefect API is configured (PREFECT_API_URL, or in the active Prefect profile) and otherwise"
                    " calls the same steps directly, without starting Prefect's local API (7-20 s here);"
                    " 'always' starts it and records a flow run every time. Long-running commands (watch,"
                    " serve-api, serve) always run flows (docs/event-driven.md)")
    ingest_workers: int = Field(default=0, ge=0,
                                description="decode processes for large batches (16+ new files); 0 = one per core,"
                                            " 1 = decode in the ingesting process")
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="GPS positions at ingest")
    plausibility: PlausibilitySettings = Field(default_factory=PlausibilitySettings,
                                               description="what an activity may claim before it is quarantined")
    watch: WatchSettings = Field(default_factory=WatchSettings, description="the folder watcher (tendon watch)")
    upload: UploadSettings = Field(default_factory=UploadSettings,
                                   description="the HTTP upload endpoint (tendon serve-api, tendon serve)")
    sync: SyncSettings = Field(default_factory=SyncSettings,
                               description="intervals.icu / Garmin Connect sync (tendon link, tendon sync)")
    rules: RuleThresholds = Field(default_factory=RuleThresholds, description="every rule threshold")
    coaches: Coaches = Field(default_factory=list, description="[[coaches]]: who gets which athletes' alerts")
    runners: Runners = Field(default_factory=list,
                             description="[[runners]]: runners who get their own alerts and plans")
    notify: NotifySettings = Field(default_factory=NotifySettings, description="console, outbox file, retries")
    web: WebSettings = Field(default_factory=WebSettings,
                             description="the web pages (tendon serve): who signs in, sessions")

    @field_validator("db", "inbox", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("athletes", mode="after")
    @classmethod
    def _one_entry_per_athlete_and_device(cls, value: list[AthleteConfig]) -> list[AthleteConfig]:
        """An athlete id listed twice, or a device serial under two athletes, is ambiguous: refused."""
        first_index: dict[str, int] = {}
        owner: dict[int, tuple[str, int]] = {}
        problems = []
        for index, athlete in enumerate(value):
            if athlete.id in first_index:
                problems.append(f"athlete id '{athlete.id}' is listed twice (athletes[{first_index[athlete.id]}]"
                                f" and athletes[{index}]): keep one entry")
            first_index.setdefault(athlete.id, index)
            for serial in athlete.devices:
                other = owner.setdefault(serial, (athlete.id, index))
                if other[0] != athlete.id:
                    problems.append(f"device serial {serial} is under athlete '{other[0]}'"
                                    f" (athletes[{other[1]}].devices)"
                                    f" and athlete '{athlete.id}' (athletes[{index}].devices): a watch has one owner")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # -- lookups ------------------------------------------------------------
    @property
    def location(self) -> WarehouseLocation:
        """What :func:`open_warehouse` opens: the DuckLake when ``warehouse.url`` is set, else ``db``."""
        return location_of(self.warehouse, self.db)

    @property
    def read_target(self) -> ReadTarget:
        """What a read-only command opens (``config/reading.py: read_target`` finds it without these settings)."""
        return ReadTarget(self.location, self.warehouse.busy_wait_s)

    def athlete(self, athlete_id: str) -> AthleteConfig | None:
        return next((a for a in self.athletes if a.id == athlete_id), None)

    def athlete_for_serial(self, serial: int | None) -> str | None:
        if serial is None:
            return None
        return next((a.id for a in self.athletes if serial in a.devices), None)


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings; any problem becomes a ``ConfigError`` naming key and origin."""
    path = resolve_config_path(config)
    file_data: dict[str, Any] = {}
    if path is not None:
        file_data = _read_toml(path)
    token = _toml_path.set(path)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, file_data, overrides),
                          hint="fix the setting(s) above; see docs/configuration.md") from None
    finally:
        _toml_path.reset(token)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist",
                          hint="create it, or point --config / TENDON_CONFIG at an existing file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text"
                          f" (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                          hint="save the file as UTF-8 (TOML files are UTF-8 by definition)") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _describe(exc: ValidationError, path: Path | None, file_data: dict[str, Any], overrides: dict[str, Any]) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "(root)"
        top = str(error["loc"][0]) if error["loc"] else ""
        lines.append(f"  - {loc}: {error['msg']} (from {_origin(top, path, file_data, overrides)})")
    return "\n".join(lines)


def _origin(top: str, path: Path | None, file_data: dict[str, Any], overrides: dict[str, Any]) -> str:
    if overrides.get(top) is not None:
        return "the command line"
    env_name = f"{ENV_PREFIX}{top.upper()}"
    if any(k.upper() == env_name or k.upper().startswith(env_name + "__") for k in os.environ):
        return f"environment variable {env_name}"
    if top in file_data and path is not None:
        return f"config file {path}"
    return "defaults" if path is None else f"config file {path} or defaults"
