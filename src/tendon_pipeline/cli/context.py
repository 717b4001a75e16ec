"""What every command reads from the ``tendon`` group: the settings (``--config``, ``--db``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # loaded by the first command that needs settings: `tendon --help` stays light
    from tendon_pipeline.config.paths import ReadTarget
    from tendon_pipeline.config.settings import Settings


def config_path(ctx: click.Context) -> str | None:
    """The ``--config`` given to the group (None: $TENDON_CONFIG or the default path)."""
    return (ctx.find_root().obj or {}).get("config")


def settings_of(ctx: click.Context, **overrides: Any) -> Settings:
    """The settings for this command: the group's ``--config`` and ``--db``, then ``overrides``."""
    from tendon_pipeline.config.settings import load_settings

    obj = ctx.find_root().obj or {}
    return load_settings(obj.get("config"), db=obj.get("db"), **overrides)


def read_target_of(ctx: click.Context) -> ReadTarget:
    """For a command that only reads the warehouse: which one, from the same ``--config`` and
    ``--db`` as :func:`settings_of`, without building the settings when nothing needs validating
    (``config/reading.py``: a read command starts in a fraction of the time)."""
    from tendon_pipeline.config.reading import read_target

    obj = ctx.find_root().obj or {}
    return read_target(obj.get("config"), db=obj.get("db"))
