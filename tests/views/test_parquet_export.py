"""tendon export --format parquet: partitioned Parquet that round-trips, GPS optional, never half-written."""

from __future__ import annotations

import json

import duckdb
import pytest

from tendon_pipeline.warehouse import views
from tendon_pipeline.warehouse.store import open_warehouse

PARTITIONED = {"activities", "sessions", "laps", "records", "strength_sets", "run_loads", "alerts", "plans",
               "pain_log", "strength_log", "visa_a_log"}


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory):
    from views_helpers import invoke

    root = tmp_path_factory.mktemp("export")
    full = invoke(built.config, built.db, "export", "--format", "parquet", "--out", str(root / "full"))
    assert full.exit_code == 0, full.output + repr(full.exception)
    private = invoke(built.config, built.db, "export", "--out", str(root / "private"), "--no-gps")
    assert private.exit_code == 0, private.output
    return root / "full", root / "private", full.output


def _counts(db) -> dict[str, int]:
    with open_warehouse(db, read_only=True) as wh:
        tables = [r[0] for r in wh.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        return {t: wh.con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_every_table_round_trips_with_its_row_count(built, exported):
    full, _, output = exported
    manifest = json.loads((full / "manifest.json").read_text())
    counts = _counts(built.db)
    assert set(counts) <= set(manifest["objects"])
    for table, rows in counts.items():
        entry = manifest["objects"][table]
        assert entry["rows"] == rows, table
        if rows == 0:
            continue
        if entry["partitioned_by"]:
            got = duckdb.sql(f"SELECT count(*) FROM read_parquet('{full / table}/*/*.parquet',"
                             " hive_partitioning = true)").fetchone()[0]
        else:
            got = duckdb.sql(f"SELECT count(*) FROM '{full / entry['path']}'").fetchone()[0]
        assert got == rows, table
    assert {n for n, o in manifest["objects"].items() if o["partitioned_by"] == "athlete_id"} >= PARTITIONED
    assert manifest["objects"]["athletes"]["partitioned_by"] is None
    assert "records/" in output and "partitioned by athlete_id" in output


def test_partitions_hold_each_athletes_own_rows(built, exported):
    full, _, _ = exported
    assert sorted(p.name for p in (full / "records").iterdir()) == ["athlete_id=ana", "athlete_id=ben"]
    with open_warehouse(built.db, read_only=True) as wh:
        expected = dict(wh.con.execute("SELECT a.athlete_id, count(*) FROM records r JOIN activities a"
                                       " USING (activity_id) GROUP BY 1").fetchall())
    got = dict(duckdb.sql(f"SELECT athlete_id, count(*) FROM read_parquet('{full}/records/*/*.parquet',"
                          " hive_partitioning = true) GROUP BY 1").fetchall())
    assert got == expected
    one = duckdb.sql(f"SELECT DISTINCT activity_id FROM '{full}/records/athlete_id=ben/*.parquet'").fetchall()
    with open_warehouse(built.db, read_only=True) as wh:
        bens = {r[0] for r in wh.con.execute("SELECT activity_id FROM activities WHERE athlete_id = 'ben'").fetchall()}
    assert {r[0] for r in one} <= bens


def test_views_are_exported_too(built, exported):
    full, _, _ = exported
    weekly = duckdb.sql(f"SELECT athlete_id, running_km FROM '{full}/views/weekly_load.parquet'"
                        " ORDER BY athlete_id, week_start").fetchall()
    with open_warehouse(built.db, read_only=True) as wh:
        assert weekly == wh.con.execute("SELECT athlete_id, running_km FROM weekly_load"
                                        " ORDER BY athlete_id, week_start").fetchall()


def test_no_gps_drops_positions_and_says_so(exported):
    full, private, _ = exported
    with_gps = duckdb.sql(f"SELECT count(lat_deg), count(lon_deg) FROM read_parquet('{full}/records/*/*.parquet',"
                          " hive_partitioning = true)").fetchone()
    assert with_gps[0] > 0 and with_gps[1] > 0  # the fixture gave ana's runs positions
    columns = [r[0] for r in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{private}/records/*/*.parquet',"
                                        " hive_partitioning = true)").fetchall()]
    assert "lat_deg" not in columns and "lon_deg" not in columns and "speed_mps" in columns
    manifest = json.loads((private / "manifest.json").read_text())
    assert manifest["gps"] == "dropped"
    assert manifest["objects"]["records"]["dropped_columns"] == ["lat_deg", "lon_deg"]
    assert "long_run_cap_km" in manifest["objects"]["plans"]["columns"]  # 'long' is not a longitude


def test_an_existing_export_is_kept_unless_replaced(run_cli, exported):
    full, _, _ = exported
    before = (full / "manifest.json").read_text()
    refused = run_cli("export", "--out", str(full))
    assert refused.exit_code == 2 and "already exists" in str(refused.exception)
    assert (full / "manifest.json").read_text() == before
    replaced = run_cli("export", "--out", str(full), "--replace", "--no-gps")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((full / "manifest.json").read_text())["gps"] == "dropped"
    assert not [p for p in full.parent.iterdir() if p.name.startswith(".")]  # no temporary folders left


def test_a_failed_export_leaves_nothing_behind(built, tmp_path, monkeypatch):
    real_copy, calls = views._copy, []

    def failing_copy(warehouse, work, name, kind, drop_gps):
        calls.append(name)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real_copy(warehouse, work, name, kind, drop_gps)

    monkeypatch.setattr(views, "_copy", failing_copy)
    out = tmp_path / "exports" / "x"
    from tendon_pipeline.errors import WarehouseError

    with open_warehouse(built.db, read_only=True) as wh, pytest.raises(WarehouseError, match="nothing was written"):
        views.export_parquet(wh, out)
    assert len(calls) == 4
    assert list((tmp_path / "exports").iterdir()) == []  # neither the export nor its work folder


def test_the_listing_names_only_what_was_written(built, exported):
    """Each line's path exists, but an empty partitioned table's, which says it has no folder."""
    full, _, output = exported
    listed = [line.split() for line in output.splitlines() if line.startswith("  ") and " rows" in line]
    assert len(listed) == len(json.loads((full / "manifest.json").read_text())["objects"])
    for path, rows, *rest in listed:
        empty_partitioned = path.endswith("/") and int(rows) == 0
        assert (full / path).exists() != empty_partitioned, (path, rows)
        assert ("no folder" in " ".join(rest)) == empty_partitioned, (path, rows, rest)
