"""Migration 0009 on a warehouse that already holds rows (DuckDB cannot alter and update a table
with rows in one transaction): old activities keep their identity, old alerts read as revision 1."""

from __future__ import annotations

from reliab_helpers import run_file

import tendon_pipeline.warehouse.store as store
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.fit.decode import decode_bytes


def test_schema_9_applies_to_a_populated_schema_4_warehouse(settings, tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    old_file = run_file(tmp_path / "old" / "run.fit", 0)
    device_key = decode_bytes(old_file.read_bytes()).activity_key
    every = store.migrations()
    monkeypatch.setattr(store, "migrations", lambda: [m for m in every if m[0] <= 4])
    with store.open_warehouse(path) as wh:  # rows as the code before schema 9 wrote them
        wh.con.execute("INSERT INTO activities (activity_id, activity_key, athlete_id, file_hash, start_utc)"
                       " VALUES (?, ?, 'ana', 'h-old', '2026-03-02 06:30:00')", [device_key[:16], device_key])
        wh.con.execute("INSERT INTO sessions (activity_id, session_index, sport, distance_m, timer_s)"
                       " VALUES (?, 0, 'running', 5000.0, 1700.0)", [device_key[:16]])
        wh.con.execute("INSERT INTO alerts (alert_key, athlete_id, rule, severity, alert_date, period, message,"
                       " evidence, source) VALUES ('ana:x:2026-W09', 'ana', 'x', 'caution', '2026-02-23',"
                       " '2026-W09', 'm', '{}', 's')")
    monkeypatch.setattr(store, "migrations", lambda: every)
    with store.open_warehouse(path) as wh:
        assert wh.schema_version() >= 9
        assert wh.con.execute("SELECT revision, escalation FROM alerts").fetchall() == [(1, 0)]
        # the same recording exported again (other bytes, same sessions) is still that stored activity
        copy = run_file(tmp_path / "new" / "ana" / "copy.fit", 0, seed=7)
        [outcome] = ingest_paths(wh, settings, [copy], athlete="ana").outcomes
        assert (outcome.status, outcome.activity_id) == ("duplicate", device_key[:16])
        assert wh.con.execute("SELECT count(*) FROM activities").fetchone() == (1,)
