"""The CLI on a DuckLake warehouse, chosen by configuration alone (environment here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date

import pytest
from conftest import lake_settings_env

from tendon_pipeline.examples.generate import generate_example_inbox

pytestmark = [pytest.mark.slow, pytest.mark.prefect]


def tendon(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_ingest_alerts_and_summary_through_the_cli_on_a_lake(lake, tmp_path):
    inbox = tmp_path / "inbox"
    generate_example_inbox(inbox, weeks=4, end=date(2026, 11, 20))
    env = {**lake_settings_env(lake), "TENDON_HOME": str(tmp_path / "home"), "TENDON_NOTIFY__CONSOLE": "false",
           "TENDON_WAREHOUSE__PASSWORD": "never-printed"}  # trust auth: accepted, unused
    ingested = tendon("ingest", str(inbox / "cleo"), "--athlete", "cleo", "--json", env=env)
    assert ingested.returncode == 0, ingested.stderr
    report = json.loads(ingested.stdout)
    files = len(list((inbox / "cleo").glob("*.fit")))
    assert report["counts"]["ingested"] == files
    summary = tendon("summary", env=env)
    assert summary.returncode == 0, summary.stderr
    assert f"{files} activities" in summary.stdout and summary.stdout.startswith("warehouse ducklake:postgres:")
    alerts = tendon("alerts", "--json", env=env)
    assert alerts.returncode == 0, alerts.stderr
    stored = json.loads(alerts.stdout)
    assert len(stored) == len(report["new_alerts"]) and {a["athlete"] for a in stored} <= {"cleo"}
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()  # nothing went to the file default
    for result in (ingested, summary, alerts):
        assert "never-printed" not in result.stdout + result.stderr


def test_a_lake_that_cannot_be_reached_exits_non_zero_with_what_to_do(tmp_path):
    env = {"TENDON_WAREHOUSE__URL": "ducklake:postgres:dbname=x host=127.0.0.1 port=9 connect_timeout=2",
           "TENDON_WAREHOUSE__DATA_PATH": f"{tmp_path}/", "TENDON_HOME": str(tmp_path)}
    result = tendon("summary", env=env)
    assert result.returncode == 3
    assert "cannot attach the DuckLake warehouse" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr
