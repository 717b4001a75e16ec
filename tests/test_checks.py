"""The static checks the README's test command runs: ruff (lint) and mypy (types).

Settings in pyproject.toml ([tool.ruff], [tool.mypy]); the import layers are tests/test_layers.py.
Each check runs once, in one test (so once per suite run whatever the number of workers);
mypy keeps its cache under .venv.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_domain_fit_warehouse_and_config():
    cache = Path(sys.prefix) / ".mypy_cache"  # inside the virtual environment: never committed
    result = _run(sys.executable, "-m", "mypy", "--cache-dir", str(cache))
    assert result.returncode == 0, result.stdout + result.stderr
