"""What every command reads from the ``tendon`` group: the settings (``--config``, ``--db``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # loaded by the first command that needs settings: `tendon --help` stays light
    from tendon_pipeline.config.settings import Settings


def config_path(ctx: click.Context) -> str | None:
    """The ``--config`` given to the group (None: $TENDON_CONFIG or the default path)."""
    return (ctx.find_root().obj or {}).get("config")


def settings_of(ctx: click.Context, **overrides: Any) -> Settings:
    """The settings for this command: the group's ``--config`` and ``--db``, then ``overrides``."""
    from tendon_pipeline.config.settings import load_settings

    obj = ctx.find_root().obj or {}
    return load_settings(obj.get("config"), db=obj.get("db"), **overrides)
