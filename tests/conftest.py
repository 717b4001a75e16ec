"""Shared fixtures: real files, a real (in-memory or temporary) DuckDB, quiet Prefect."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before anything imports Prefect: quiet, local, and one Prefect home per xdist worker
# so parallel workers never share the ephemeral API's SQLite file.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
if "PREFECT_HOME" not in os.environ:
    _PREFECT_HOME = Path(tempfile.gettempdir()) / f"tendon-tests-prefect-{os.getpid()}-{_WORKER}"
    os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
    atexit.register(shutil.rmtree, _PREFECT_HOME, ignore_errors=True)
from tendon_pipeline.orchestration.embedded import QUIET_PREFECT_ENV  # noqa: E402 - imports no Prefect

for _key, _value in QUIET_PREFECT_ENV.items():
    os.environ.setdefault(_key, _value)
for _key in [k for k in os.environ if k.startswith("TENDON_")]:
    del os.environ[_key]  # the developer's own settings must not leak into tests

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "fit-corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.json").exists():
        pytest.skip(f"the shared real-device FIT corpus is not here ({CORPUS}); it exists on the project's machines and in CI")
    return CORPUS


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings isolated in tmp_path (no user config, no user data dir)."""
    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    return load_settings(db=tmp_path / "warehouse.duckdb", inbox=tmp_path / "inbox")


@pytest.fixture
def warehouse():
    """A real DuckDB warehouse in memory, migrated."""
    from tendon_pipeline.warehouse.store import open_warehouse

    with open_warehouse(":memory:") as wh:
        yield wh
