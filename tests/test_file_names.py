"""File names that are not UTF-8 (issue 14, item 5): the file is ingested, its path stored with
the odd bytes escaped, and the files around it are not affected, on both ingest paths, through
the CLI and through the watcher."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.app.ingest import bulk, ingest_paths
from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.warehouse.store import open_warehouse

START = datetime(2026, 5, 4, 6, tzinfo=UTC)
LATIN1_NAME = b"caf\xe9-run.fit"  # "café" in Latin-1: not UTF-8


def _inbox(root: Path, good: int) -> Path:
    for i in range(good):
        write_activity(root / "ana" / f"run-{i}.fit",
                       ActivitySpec(start_utc=START + timedelta(days=i), distance_m=5000, duration_s=900))
    odd = Path(os.fsdecode(os.fsencode(root / "ana") + b"/" + LATIN1_NAME))
    write_activity(odd, ActivitySpec(start_utc=START + timedelta(days=good), distance_m=5000, duration_s=900))
    return root


def _stored(db) -> tuple[int, list[str]]:
    with open_warehouse(db, read_only=True) as wh:
        n = int(wh.query("SELECT count(*) AS n FROM activities").iloc[0].n)
        paths = wh.query("SELECT path FROM source_files WHERE status = 'ingested'")["path"].tolist()
    return n, paths


@pytest.mark.parametrize("good", [2, bulk.BULK_MIN_FILES + 2], ids=["per-file", "bulk"])
def test_a_latin1_file_name_is_ingested_with_the_others(settings, tmp_path, good):
    inbox = _inbox(tmp_path / "inbox", good)
    with open_warehouse(settings.db) as wh:
        report = ingest_paths(wh, settings, [inbox])
    assert report.counts()["ingested"] == good + 1, [o.reason for o in report.problems()]
    n, paths = _stored(settings.db)
    assert n == good + 1
    assert any(p.endswith("ana/caf\\xe9-run.fit") for p in paths)


def _tendon(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.mark.prefect
def test_the_cli_ingests_a_small_batch_with_a_latin1_name(tmp_path):
    inbox = _inbox(tmp_path / "inbox", 2)
    result = _tendon("--db", str(tmp_path / "w.duckdb"), "ingest", str(inbox), tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "3 ingested" in result.stdout
    assert _stored(tmp_path / "w.duckdb")[0] == 3


@pytest.mark.prefect
def test_the_watcher_ingests_a_latin1_name_and_evaluates(tmp_path):
    inbox = _inbox(tmp_path / "inbox", 2)
    db = tmp_path / "w.duckdb"
    result = _tendon("--db", str(db), "watch", str(inbox), "--once", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert _stored(db)[0] == 3
    with open_warehouse(db, read_only=True) as wh:
        assert int(wh.query("SELECT count(*) AS n FROM run_loads").iloc[0].n) == 3


def test_the_shown_path_of_such_a_file_names_it_again(settings, tmp_path):
    """An event (server mode) or `tendon files` carries the escaped text; ingesting that text
    reads the real file."""
    from tendon_pipeline.app.ingest.discover import path_text
    from tendon_pipeline.connectors.sources.base import Arrival
    from tendon_pipeline.orchestration.events import file_received_event

    inbox = _inbox(tmp_path / "inbox", 0)
    odd = next((inbox / "ana").iterdir())
    event = file_received_event(Arrival(path=odd, athlete_id="ana", source="folder", size=odd.stat().st_size))
    assert event.payload["path"] == path_text(odd) and event.payload["path"].encode("utf-8")
    with open_warehouse(settings.db) as wh:
        report = ingest_paths(wh, settings, [event.payload["path"]], athlete="ana")
    assert report.counts()["ingested"] == 1
