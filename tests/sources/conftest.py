"""Fixtures of the source tests: real FIT files written the way sync tools write them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.examples.generate import ActivitySpec, fit_bytes, write_activity

START = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def spec(n: int, **overrides) -> ActivitySpec:
    """A short run, distinct per ``n`` (one activity each)."""
    values = dict(start_utc=START + timedelta(hours=7 * n), distance_m=2000.0 + 10 * n, duration_s=600,
                  serial_number=3_900_000_001)
    values.update(overrides)
    return ActivitySpec(**values)


@pytest.fixture
def drop() -> Callable[..., Path]:
    """Write activity ``n`` to ``path`` (temp file + rename, as sync tools do)."""

    def write(path: Path, n: int, **overrides) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_activity(path, spec(n, **overrides))

    return write


@pytest.fixture
def fit_of() -> Callable[..., bytes]:
    return lambda n, **overrides: fit_bytes(spec(n, **overrides))


def wait_for(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def wait() -> Callable[..., object]:
    return wait_for


@pytest.fixture(autouse=True)
def _events_listeners_clean():
    """Listeners are process-wide: make sure no test leaves one behind."""
    from tendon_pipeline.orchestration import events

    before = list(events._listeners)
    yield
    events._listeners[:] = before


@pytest.fixture
def no_prefect_events(monkeypatch):
    monkeypatch.setenv("TENDON_EVENTS", "off")


@pytest.fixture
def cli_main(tmp_path, monkeypatch):
    """``tendon`` in this process (returns the exit code), with no user config or data."""
    from tendon_pipeline.cli.main import main

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    return main
