"""Helpers for tests/views: the view commands under a root group shaped like `tendon`."""

from __future__ import annotations

from pathlib import Path

import click


def cli_group() -> click.Group:
    """`report`, `coach` and `export` under a root group that sets obj config and db, like `tendon`."""
    from tendon_pipeline.cli.views import COMMANDS

    @click.group()
    @click.option("--config")
    @click.option("--db")
    @click.pass_context
    def root(ctx: click.Context, config: str | None, db: str | None) -> None:
        ctx.obj = {"config": config, "db": db}

    for command in COMMANDS:
        root.add_command(command)
    return root


def invoke(config: Path, db: Path, *args: str):
    """Run a view command; a TendonError's exit code replaces click's 1 (as `tendon` does)."""
    from click.testing import CliRunner

    from tendon_pipeline.errors import TendonError

    result = CliRunner().invoke(cli_group(), ["--config", str(config), "--db", str(db), *args])
    if isinstance(result.exception, TendonError):
        result.exit_code = result.exception.exit_code
    return result
