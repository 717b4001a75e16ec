"""Where the configuration comes from, without pydantic: the data home, the default warehouse
file, the config file's path, whether the environment holds a setting (``reading.py`` decides
from these whether a read command must build the settings)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tendon_pipeline.warehouse.location import WarehouseLocation

ENV_PREFIX = "TENDON_"
_NOT_VALIDATED = {f"{ENV_PREFIX}HOME", f"{ENV_PREFIX}DB"}  # a folder, a file: any text is a path


def data_home() -> Path:
    """Where the embedded default keeps its warehouse: ``$TENDON_HOME`` or the XDG data dir."""
    if os.environ.get("TENDON_HOME"):
        return Path(os.environ["TENDON_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "tendon-pipeline"


def default_db() -> Path:
    """The default of ``db``: the DuckDB file in :func:`data_home`."""
    return data_home() / "warehouse.duckdb"


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "tendon-pipeline" / "config.toml"


def resolve_config_path(explicit: str | Path | None) -> Path | None:
    """``--config``, else ``TENDON_CONFIG``, else the default path if it exists."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get("TENDON_CONFIG"):
        return Path(os.environ["TENDON_CONFIG"]).expanduser()
    default = default_config_path()
    return default if default.exists() else None


@dataclass(frozen=True)
class ReadTarget:
    """What a read-only command opens: ``Settings.location`` and ``warehouse.busy_wait_s``."""

    location: WarehouseLocation
    busy_wait_s: float


def settings_in_environment() -> bool:
    """Whether a ``TENDON_*`` variable other than ``TENDON_HOME`` and ``TENDON_DB`` is set (in any
    letter case, as pydantic-settings reads them): it may be a setting, so the settings are built."""
    return any(k.upper().startswith(ENV_PREFIX) and k.upper() not in _NOT_VALIDATED for k in os.environ)
