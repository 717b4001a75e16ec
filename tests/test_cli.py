"""The `tendon` command as a user runs it: a real process, real files, real Prefect (embedded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from tendon_pipeline.examples.generate import ActivitySpec, write_activity


def tendon(*args: str, env: dict | None = None, timeout: int = 240) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout)


@pytest.fixture
def home(tmp_path) -> dict:
    return {"TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


@pytest.mark.prefect
def test_ingest_runs_the_flow_and_reports(tmp_path, home):
    inbox = tmp_path / "inbox"
    write_activity(inbox / "ana" / "run.fit", ActivitySpec(
        start_utc=datetime(2026, 5, 4, 7, tzinfo=UTC), distance_m=6000, duration_s=1900))
    (inbox / "ana" / "broken.fit").write_bytes(b"\x0e\x10garbage")
    db = tmp_path / "w.duckdb"
    # a flow run even without a Prefect API (else the steps run directly: tests/test_cli_speed.py)
    result = tendon("--db", str(db), "ingest", str(inbox), "--json", env={**home, "TENDON_FLOW_RUNS": "always"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["ingested"] == 1 and report["counts"]["quarantined"] == 1
    assert report["athletes_changed"] == ["ana"]
    assert "Traceback" not in result.stderr
    # the warehouse is released after the run: another process can read it
    again = tendon("--db", str(db), "files", "--status", "quarantined", env=home)
    assert again.returncode == 0, again.stderr
    assert "broken.fit" in again.stdout and "not a FIT file" in again.stdout


def test_bad_config_names_the_key_and_the_file(tmp_path, home):
    config = tmp_path / "config.toml"
    config.write_text('max_file_mb = "lots"\nwarehouse_colour = "blue"\n')
    result = tendon("--config", str(config), "summary", env=home)
    assert result.returncode == 2
    assert "max_file_mb" in result.stderr and "warehouse_colour" in result.stderr
    assert str(config) in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_a_clear_error(tmp_path, home):
    result = tendon("--config", str(tmp_path / "nope.toml"), "summary", env=home)
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_unwritable_warehouse_exits_non_zero_with_a_hint(tmp_path, home):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = tmp_path / "run.fit"
    write_activity(run, ActivitySpec(start_utc=datetime(2026, 5, 4, 7, tzinfo=UTC),
                                     distance_m=3000, duration_s=900))
    result = tendon("--db", str(blocker / "w.duckdb"), "ingest", str(run), "--athlete", "ana", env=home)
    assert result.returncode == 3
    assert "warehouse" in result.stderr and "--db" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_var_chooses_the_warehouse(tmp_path, home):
    db = tmp_path / "from-env.duckdb"
    result = tendon("summary", env={**home, "TENDON_DB": str(db)})
    assert result.returncode == 3
    assert f"no warehouse at {db}" in result.stderr
