"""The ``tendon`` command (presentation only: parse options, call the library, print)."""

from tendon_pipeline.cli.main import cli, main, run

__all__ = ["cli", "main", "run"]
