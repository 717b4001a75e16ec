"""A reader holding the warehouse file (issue 14, item 4): an analyst's read-only DuckDB
connection in another process locks every writer out. Commands wait a bounded, stated time
(warehouse.busy_wait_s); a watcher retries until it gets through; nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.prefect]
START = datetime(2026, 5, 4, 6, tzinfo=UTC)

HOLD = """
import select, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("holding", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # that long, or until told to let go (stdin closed)
con.close()
"""


def _burst(inbox: Path, n: int, first: int = 0) -> None:
    for i in range(first, first + n):
        write_activity(inbox / "ana" / f"run-{i:02d}.fit",
                       ActivitySpec(start_utc=START + timedelta(days=i), distance_m=4000, duration_s=600))


def _env(tmp_path: Path, **extra: str) -> dict:
    return {**os.environ, "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"), **extra}


def _tendon(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def _hold(db: Path, seconds: float) -> subprocess.Popen:
    reader = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "holding"
    return reader


def _activities(db: Path) -> int:
    with open_warehouse(db, read_only=True, wait_s=60) as wh:
        return int(wh.query("SELECT count(*) AS n FROM activities").iloc[0].n)


@pytest.fixture
def db(tmp_path) -> Path:
    path = tmp_path / "w.duckdb"
    with open_warehouse(path):
        pass
    return path


def test_a_command_waits_for_a_reader_to_let_go(tmp_path, db):
    inbox = tmp_path / "inbox"
    _burst(inbox, 3)
    reader = _hold(db, 4.0)
    try:
        result = _tendon("--db", str(db), "ingest", str(inbox), env=_env(tmp_path))
    finally:
        reader.wait(timeout=60)
    assert result.returncode == 0, result.stderr
    assert _activities(db) == 3


def test_a_command_gives_up_after_the_stated_time_with_what_to_do(tmp_path, db):
    reader = _hold(db, 60.0)
    try:
        started = time.monotonic()
        result = _tendon("--db", str(db), "evaluate", env=_env(tmp_path, TENDON_WAREHOUSE__BUSY_WAIT_S="1.5"))
        took = time.monotonic() - started
    finally:
        reader.kill()
        reader.wait()
    assert result.returncode == 3
    assert "in use by another process for 1.5 s" in result.stderr and "busy_wait_s" in result.stderr
    assert took < 30


def test_a_watcher_gets_a_burst_through_a_long_held_reader(tmp_path, db):
    """The reader holds the file for longer than every step's wait and the flow's own task
    retries: the watcher keeps retrying with back-off and stores every file once it lets go.
    The reader lets go once the watcher has said it met a transient error (its own retry, after
    the flow's task retries were spent), not after a fixed 40 s: as strong, and no idle wait."""
    import signal
    import threading

    inbox = tmp_path / "inbox"
    _burst(inbox, 1)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "tendon_pipeline.cli", "--db", str(db), "watch", str(inbox), "-v"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(tmp_path, TENDON_WAREHOUSE__BUSY_WAIT_S="0.2"))
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(watcher.stdout), daemon=True).start()
    err: list[str] = []
    threading.Thread(target=lambda: err.extend(watcher.stderr), daemon=True).start()
    try:
        _wait(lambda: any(line.startswith("batch 1:") for line in lines), 300)  # warm, first file stored
        reader = _hold(db, 300.0)
        try:
            _burst(inbox, 20, first=1)  # lands while the reader holds the file
            _wait(lambda: any(_WATCHER_RETRIES in line for line in err), 300)
        finally:
            reader.stdin.close()  # let go
            reader.wait(timeout=120)
        assert sum(_ingested(line) for line in lines) == 1, "nothing got through while the reader held the file"
        _wait(lambda: sum(_ingested(line) for line in lines) == 21, 300)
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=120)
    assert any("transient" in line for line in err), "".join(err)[-2000:]  # it did meet the reader
    assert _activities(db) == 21
    with open_warehouse(db, read_only=True) as wh:
        assert wh.pending_evaluations() == []
        assert int(wh.query("SELECT count(*) AS n FROM run_loads").iloc[0].n) == 21


_WATCHER_RETRIES = "failed with a transient error"  # the watcher's own back-off (runtime/watch.py)


def _ingested(line: str) -> int:
    import re

    found = re.search(r"(\d+) ingested", line) if line.startswith("batch") else None
    return int(found.group(1)) if found else 0


def _wait(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
