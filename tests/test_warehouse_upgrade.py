"""A warehouse an older version made (schema 8, before 0009 identity/escalations and 0010
alert_feedback) opened by this version's read-only commands: a clear message naming both schema
versions and `tendon migrate`, a non-zero exit, no SQL error; after `tendon migrate` they work."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import tendon_pipeline.warehouse.store as store
from tendon_pipeline.errors import WarehouseSchemaError

READ_COMMANDS = [["alerts", "--athlete", "ana", "--json"], ["status", "--athlete", "ana"],
                 ["plan", "--athlete", "ana", "--json"], ["summary"]]


def tendon(db, *args):
    env = {**os.environ, "TENDON_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True,
                          text=True, env=env, timeout=120)


@pytest.fixture
def old_warehouse(tmp_path, monkeypatch):
    """Only the migrations up to 0008 applied, with an athlete and an alert as that version wrote them."""
    path = tmp_path / "old.duckdb"
    every = store.migrations()
    with monkeypatch.context() as patch:
        patch.setattr(store, "migrations", lambda: [m for m in every if m[0] <= 8])
        with store.open_warehouse(path) as wh:
            wh.con.execute("INSERT INTO athletes (athlete_id) VALUES ('ana')")
            wh.con.execute("INSERT INTO alerts (alert_key, athlete_id, rule, severity, alert_date, period, message,"
                           " evidence, source) VALUES ('ana:x:2026-W09', 'ana', 'x', 'caution', '2026-02-23',"
                           " '2026-W09', 'm', '{}', 's')")
    return path


def test_a_read_only_open_of_an_old_warehouse_names_both_schemas(old_warehouse):
    newest = store.migrations()[-1][0]
    with pytest.raises(WarehouseSchemaError) as caught, store.open_warehouse(old_warehouse, read_only=True):
        pass
    assert f"at schema 8, this version of tendon-pipeline needs {newest}" in caught.value.message
    assert "tendon migrate" in (caught.value.hint or "") and not caught.value.transient


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_commands_on_an_old_warehouse_say_to_migrate(old_warehouse, command):
    result = tendon(old_warehouse, *command)
    assert result.returncode == 3, result.stderr
    assert "is at schema 8" in result.stderr and "tendon migrate" in result.stderr
    assert "Catalog Error" not in result.stderr and "Binder Error" not in result.stderr


def test_tendon_migrate_brings_it_up_to_date_and_keeps_the_rows(old_warehouse):
    newest = store.migrations()[-1][0]
    migrated = tendon(old_warehouse, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    missing = ", ".join(str(version) for version, _, _ in store.migrations() if version > 8)
    assert f"schema {newest} (applied migration(s) {missing}, every row kept)" in migrated.stdout
    again = tendon(old_warehouse, "migrate")
    assert again.returncode == 0 and f"schema {newest} (already up to date, nothing to do)" in again.stdout
    alerts = tendon(old_warehouse, "alerts", "--athlete", "ana", "--json")
    assert alerts.returncode == 0, alerts.stderr
    assert [a["rule"] for a in json.loads(alerts.stdout)] == ["x"]
    assert tendon(old_warehouse, "summary").returncode == 0


def test_one_missing_migration_is_named_in_the_singular(tmp_path, monkeypatch):
    every = store.migrations()
    path = tmp_path / "one-behind.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr(store, "migrations", lambda: every[:-1])
        with store.open_warehouse(path):
            pass
    with pytest.raises(WarehouseSchemaError) as caught, store.open_warehouse(path, read_only=True):
        pass
    assert f"(migration {every[-1][0]} is not applied)" in caught.value.message
    assert "migrations" not in caught.value.message
