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
        pytest.skip(f"the shared real-device FIT corpus is not here ({CORPUS}); it exists on the project's machines"
                    " and in CI")
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


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::")[0]


def _rank(item: pytest.Item) -> int:
    """0: a long test running Prefect flows (the longest: each starts an API), 1: another long
    test, 2: one running Prefect flows, 3: the rest."""
    slow, prefect = item.get_closest_marker("slow"), item.get_closest_marker("prefect")
    return 0 if slow and prefect else 1 if slow else 2 if prefect else 3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Longest modules first (by their most expensive test, :func:`_rank`), each group in
    collection order. bin/test hands whole modules to the two xdist workers in this order
    (``--dist loadfile --no-loadscope-reorder``), so both start on the long ones and finish on
    short ones instead of two long tests ending up one after the other at the tail; and a
    module's tests share its module-scoped fixtures on one worker."""
    rank: dict[str, int] = {}
    for item in items:
        rank[_module(item)] = min(rank.get(_module(item), 3), _rank(item))
    items.sort(key=lambda item: rank[_module(item)])  # stable: collection order within a group
