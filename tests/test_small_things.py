"""Small things of issue 14 (item 10): `tendon files` shows no "nan"; empty files are each
quarantined with their reason; a time-zone change that moves runs to other days is said;
the watcher's child processes (Prefect's API) die with it, however it is stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.app.ingest import bulk, ingest_paths
from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.warehouse.store import open_warehouse

START = datetime(2026, 5, 3, 23, 30, tzinfo=UTC)  # Sunday night UTC: in Tokyo, Monday: another week


def _tendon(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"), **env}
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env=full, timeout=300)


def test_files_shows_no_nan(settings, tmp_path):
    write_activity(settings.inbox / "ana" / "run.fit", ActivitySpec(start_utc=START, distance_m=5000, duration_s=900))
    (settings.inbox / "ana" / "broken.fit").write_bytes(b"\x0e\x10garbage")  # a row with a reason, one without
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [settings.inbox])
    result = _tendon("--db", str(settings.db), "files", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "ingested" in result.stdout and "quarantined" in result.stdout
    assert "(nan)" not in result.stdout and " nan " not in result.stdout


@pytest.mark.parametrize("count", [3, bulk.BULK_MIN_FILES + 4], ids=["per-file", "bulk"])
def test_each_empty_file_is_quarantined_with_its_reason(settings, count):
    for i in range(count):
        (settings.inbox / "ana").mkdir(parents=True, exist_ok=True)
        (settings.inbox / "ana" / f"empty-{i:02d}.fit").write_bytes(b"")
    with open_warehouse(settings.db) as wh:
        report = ingest_paths(wh, settings, [settings.inbox])
        rows = wh.query("SELECT status, reason_code, count(*) AS n FROM source_files GROUP BY 1, 2").values.tolist()
    assert report.counts()["quarantined"] == count and report.counts()["duplicate"] == 0
    assert all(o.reason_code == "empty" and "empty" in o.reason for o in report.outcomes)
    assert rows == [["quarantined", "empty", count]]
    with open_warehouse(settings.db) as wh:  # the same empty files again: seen before, nothing new
        again = ingest_paths(wh, settings, [settings.inbox])
    assert again.counts()["duplicate"] == count


def test_a_time_zone_change_that_moves_runs_is_said(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    for i in range(3):  # the app wrote no local time: the configured zone dates these runs
        write_activity(inbox / "ana" / f"run-{i}.fit", ActivitySpec(
            start_utc=START + timedelta(days=7 * i), distance_m=5000, duration_s=900, local_time=False))
    utc = tmp_path / "utc.toml"
    utc.write_text('[[athletes]]\nid = "ana"\ntimezone = "UTC"\n')
    tokyo = tmp_path / "tokyo.toml"
    tokyo.write_text('[[athletes]]\nid = "ana"\ntimezone = "Asia/Tokyo"\n')
    from tendon_pipeline.config.settings import load_settings

    settings = load_settings(utc, db=db)
    with open_warehouse(db) as wh:
        ingest_paths(wh, settings, [inbox])
    first = _tendon("--config", str(utc), "--db", str(db), "evaluate", "--as-of", "2026-06-01", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "re-dated" not in first.stdout
    moved = _tendon("--config", str(tokyo), "--db", str(db), "evaluate", "--as-of", "2026-06-01", tmp_path=tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert "ana: 3 run(s) re-dated by the time zone (Asia/Tokyo" in moved.stdout
    assert "2026-05-03 -> 2026-05-04" in moved.stdout and "3 into another week" in moved.stdout
    with open_warehouse(db, read_only=True) as wh:
        days = sorted(str(r[0]) for r in wh.con.execute("SELECT local_date FROM run_loads").fetchall())
    assert days[0] == "2026-05-04"
    again = _tendon("--config", str(tokyo), "--db", str(db), "evaluate", "--as-of", "2026-06-01", tmp_path=tmp_path)
    assert "re-dated" not in again.stdout  # said once, when it happened


# -- the watcher's children ----------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found |= {int(p) for p in (task / "children").read_text().split()}
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.prefect
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_watchers_prefect_api_dies_with_it(tmp_path, sig):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {**os.environ, "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    watcher = subprocess.Popen([sys.executable, "-m", "tendon_pipeline.cli", "--db", str(tmp_path / "w.duckdb"),
                                "watch", str(inbox)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 240
        api: set[int] = set()
        while not api:
            assert time.monotonic() < deadline and watcher.poll() is None, "the watcher never started its API"
            api = {p for p in _children(watcher.pid) if "uvicorn" in _cmdline(p)}
            time.sleep(0.2)
        time.sleep(1.0)  # the reaper reports children every 0.2 s
        watcher.send_signal(sig)
        watcher.wait(timeout=120)
        deadline = time.monotonic() + 30
        while not all(_gone(p) for p in api):
            assert time.monotonic() < deadline, f"still running after the watcher ended: {api}"
            time.sleep(0.2)
    finally:
        if watcher.poll() is None:
            watcher.kill()
