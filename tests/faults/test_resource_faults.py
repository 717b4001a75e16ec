"""Resource faults on real filesystems: a full disk and a read-only warehouse.

Uses small tmpfs mounts (needs root, as on the project's machines and CI; skipped with the
reason elsewhere). Expect a clear WarehouseError, nothing half-written, and recovery once the
fault is gone.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tendon_pipeline.errors import WarehouseError
from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({result.stderr.strip()}): needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _runs(folder: Path, count: int) -> Path:
    start = datetime(2026, 3, 2, 6, tzinfo=timezone.utc)
    for i in range(count):
        write_activity(folder / "ana" / f"{i:02d}.fit",
                       ActivitySpec(start_utc=start + timedelta(days=i), distance_m=9000, duration_s=3000))
    return folder


def test_disk_full_is_a_clear_error_and_ingest_resumes_after_space_is_freed(tmp_path, small_disk):
    inbox = _runs(tmp_path / "inbox", 12)
    ballast = small_disk / "ballast"
    ballast.write_bytes(b"\0" * 21 * 1024 * 1024)  # leave little room for the warehouse
    settings = load_settings(db=small_disk / "w.duckdb")
    with pytest.raises(WarehouseError) as caught:
        with open_warehouse(settings.db) as wh:
            ingest_paths(wh, settings, [inbox])
    assert "cannot write to the warehouse" in str(caught.value) or "cannot open" in str(caught.value)
    assert "run the same command again" in str(caught.value) or "--db" in str(caught.value)
    ballast.unlink()
    with open_warehouse(settings.db) as wh:
        report = ingest_paths(wh, settings, [inbox])
        counts = wh.table_counts()
        complete = wh.query("SELECT count(*) AS n FROM (SELECT activity_id FROM records GROUP BY 1 HAVING count(*) <> 3000)")
    assert counts["activities"] == 12  # everything stored once: before and after the fault
    assert complete.iloc[0].n == 0  # no activity with part of its records
    assert report.counts()["ingested"] + report.counts()["duplicate"] == 12


def test_read_only_warehouse_is_a_clear_error_and_nothing_changes(tmp_path, small_disk):
    inbox = _runs(tmp_path / "inbox", 2)
    settings = load_settings(db=small_disk / "w.duckdb")
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [inbox / "ana" / "00.fit"], athlete="ana")
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True)
    if remount.returncode != 0:
        pytest.skip(f"cannot remount read-only: {remount.stderr.strip()}")
    with pytest.raises(WarehouseError) as caught:
        with open_warehouse(settings.db) as wh:
            ingest_paths(wh, settings, [inbox])
    assert str(settings.db) in str(caught.value) or "warehouse" in str(caught.value)
    with open_warehouse(settings.db, read_only=True) as wh:  # analysts can still read it
        assert wh.table_counts()["activities"] == 1


def test_an_inbox_that_is_not_a_folder_is_a_clear_error(tmp_path):
    import os
    import sys

    not_a_folder = tmp_path / "inbox"
    not_a_folder.write_text("I am a file")
    result = subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", "--db", str(tmp_path / "w.duckdb"),
                             "watch", str(not_a_folder), "--once"], capture_output=True, text=True,
                            env={**os.environ, "TENDON_HOME": str(tmp_path / "home")}, timeout=120)
    assert result.returncode == 2
    assert "is a file" in result.stderr and "Traceback" not in result.stderr
