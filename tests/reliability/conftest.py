"""Fixtures for the issue-14 reliability tests: isolated settings, the CLI run in process."""

from __future__ import annotations

import pytest


@pytest.fixture
def env(tmp_path, monkeypatch):
    """No user config or data leaks in: TENDON_HOME and XDG_CONFIG_HOME under tmp_path."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    return tmp_path


@pytest.fixture
def cli(env, capsys):
    """Run ``tendon ARGS`` in process: (exit code, stdout, stderr)."""
    from tendon_pipeline.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
