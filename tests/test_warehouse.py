"""The warehouse against a real DuckDB: migrations, one transaction per file, idempotency."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tendon_pipeline.errors import WarehouseError, WarehouseLockedError
from tendon_pipeline.fit.decode import decode_bytes
from tendon_pipeline.examples.generate import ActivitySpec, fit_bytes
from tendon_pipeline.warehouse.store import migrations, open_warehouse

from datetime import datetime, timezone


def _run(**overrides) -> bytes:
    spec = dict(start_utc=datetime(2026, 3, 1, 7, 0, tzinfo=timezone.utc), distance_m=5000.0,
                duration_s=1500, running_dynamics=True, body_mass_kg=70.0, height_m=1.78)
    spec.update(overrides)
    return fit_bytes(ActivitySpec(**spec))


def test_migrations_apply_once_and_record_the_version(tmp_path):
    db = tmp_path / "w.duckdb"
    with open_warehouse(db) as wh:
        assert wh.schema_version() == migrations()[-1][0]
    with open_warehouse(db) as wh:
        assert wh.migrate() == []  # nothing left to apply on reopen


def test_store_activity_writes_every_table_in_one_go(warehouse):
    decoded = decode_bytes(_run())
    stored = warehouse.store_activity(decoded, athlete_id="ana", path="a.fit")
    assert stored.status == "ingested"
    counts = warehouse.table_counts()
    assert counts["activities"] == 1 and counts["sessions"] == 1 and counts["source_files"] == 1
    assert counts["records"] == len(decoded.records) > 1000
    assert counts["laps"] == len(decoded.laps) >= 5
    row = warehouse.query("SELECT body_mass_kg, body_mass_source FROM athletes WHERE athlete_id = 'ana'")
    assert row.iloc[0].body_mass_kg == pytest.approx(70.0)
    assert row.iloc[0].body_mass_source == "fit_user_profile"


def test_same_activity_under_another_name_is_a_duplicate(warehouse):
    data = _run()
    decoded = decode_bytes(data)
    warehouse.store_activity(decoded, athlete_id="ana", path="a.fit")
    renamed = decode_bytes(data + b"")  # same bytes, other path: the file-level check is the ingestor's
    renamed.content_hash = "another-hash"
    again = warehouse.store_activity(renamed, athlete_id="ana", path="copy/a.fit")
    assert again.status == "duplicate"
    counts = warehouse.table_counts()
    assert counts["activities"] == 1
    assert counts["records"] == len(decoded.records)
    assert counts["source_files"] == 2


def test_a_failure_mid_file_leaves_nothing_behind(warehouse):
    decoded = decode_bytes(_run())
    decoded.sets = decoded.sets.assign(set_index=[0]) if len(decoded.sets) else decoded.laps.iloc[:0]
    decoded.laps = decoded.laps.assign(lap_index=0)  # duplicate primary keys: the laps insert fails
    with pytest.raises(Exception):
        warehouse.store_activity(decoded, athlete_id="ana", path="bad.fit")
    counts = warehouse.table_counts()
    assert counts["activities"] == 0 and counts["records"] == 0 and counts["source_files"] == 0


def test_config_body_mass_overrides_the_file_and_the_file_only_fills_gaps(warehouse):
    warehouse.ensure_athlete("ana", body_mass_kg=62.0, source="config")
    warehouse.ensure_athlete("ana", body_mass_kg=70.0, source="fit_user_profile")
    row = warehouse.query("SELECT body_mass_kg, body_mass_source FROM athletes").iloc[0]
    assert (row.body_mass_kg, row.body_mass_source) == (62.0, "config")


def test_second_process_gets_a_clear_locked_error(tmp_path):
    db = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)",
         str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLockedError) as caught:
            with open_warehouse(db):
                pass
        assert caught.value.transient
        assert "in use by another process" in str(caught.value)
    finally:
        holder.kill()
        holder.wait()


def test_unwritable_location_is_a_warehouse_error(tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    with pytest.raises(WarehouseError) as caught:  # a folder cannot be made inside a file, even as root
        with open_warehouse(a_file / "sub" / "w.duckdb"):
            pass
    assert "--db" in str(caught.value)


def test_not_a_duckdb_file_is_a_warehouse_error(tmp_path):
    bogus = tmp_path / "not-a-db.duckdb"
    bogus.write_text("hello, I am a text file\n" * 100)
    with pytest.raises(WarehouseError) as caught:
        with open_warehouse(bogus):
            pass
    assert str(bogus) in str(caught.value)
