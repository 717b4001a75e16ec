"""Housekeeping on a DuckLake: many small commits leave many small files; `maintain` merges
them and deletes what nothing refers to, and the data reads the same."""

from __future__ import annotations

from datetime import date

import pytest

from tendon_pipeline.examples.generate import generate_example_inbox
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = pytest.mark.slow
_CHECK = ("SELECT (SELECT count(*) FROM records), (SELECT round(sum(distance_m), 3) FROM records),"
          " (SELECT count(*) FROM activities), (SELECT count(*) FROM laps)")


def test_maintain_merges_small_files_and_keeps_the_data(lake, tmp_path):
    inbox = tmp_path / "inbox"
    generate_example_inbox(inbox, weeks=3, end=date(2026, 11, 20))
    settings = load_settings(None, ingest_workers=1)
    files = sorted((inbox / "ben").glob("*.fit"))[:8]
    with open_warehouse(lake) as wh:
        for path in files:  # one sync at a time: a commit and a records file each
            ingest_paths(wh, settings, [str(path)], athlete="ben")
        before = wh.con.execute(_CHECK).fetchone()
        on_disk = len(list((tmp_path / "lake-data").rglob("*.parquet")))
        report = wh.maintain(keep_days=0)
        assert wh.con.execute(_CHECK).fetchone() == before
    assert report["by_table"]["records"] == [len(files), 1]
    assert report["files_after"] < report["files_before"]
    assert len(list((tmp_path / "lake-data").rglob("*.parquet"))) < on_disk  # old files deleted
    with open_warehouse(lake, read_only=True) as wh:
        assert wh.con.execute(_CHECK).fetchone() == before


def test_maintain_on_the_file_checkpoints(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        assert wh.maintain() == {"warehouse": "file", "checkpoint": True}
