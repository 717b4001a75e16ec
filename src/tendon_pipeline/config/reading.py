"""Which warehouse a read command opens, without building the settings when nothing needs validating.

``Settings`` (``settings.py``) reads, highest first: command-line options, ``TENDON_*``
environment variables, the TOML config file, defaults. Building it validates every setting,
which costs more than a read command's whole work (pydantic and pydantic-settings, ~0.2 s of
CPU; issue 17). A command that only reads the warehouse (``tendon summary``, ``tendon files``)
needs two settings, the warehouse and how long to wait for it. :func:`read_target` builds the
settings as every command does whenever there is something to validate (a config file, a
``TENDON_*`` setting in the environment), so a mistake is always reported; with neither, every
setting is its default except ``db`` (``--db``, ``TENDON_DB`` or the default file), and it
gives that file without building anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from tendon_pipeline.config.paths import (
    ENV_PREFIX,
    ReadTarget,
    default_db,
    resolve_config_path,
    settings_in_environment,
)
from tendon_pipeline.warehouse.location import BUSY_WAIT_S


def read_target(config: str | Path | None = None, *, db: str | Path | None = None) -> ReadTarget:
    """The warehouse a read command opens: ``load_settings(config, db=db).read_target``, without
    building the settings when there is nothing to validate (no config file, no setting in the
    environment: every setting is its default but ``db``, from ``--db``, ``TENDON_DB`` or the default)."""
    env_db = [v for k, v in os.environ.items() if k.upper() == f"{ENV_PREFIX}DB"]
    if resolve_config_path(config) is not None or len(env_db) > 1 or settings_in_environment():
        from tendon_pipeline.config.settings import load_settings

        return load_settings(config, db=db).read_target  # validates every setting, reports every mistake
    chosen = db if db is not None else env_db[0] if env_db else None
    return ReadTarget(Path(chosen).expanduser() if chosen is not None else default_db(), BUSY_WAIT_S)
