"""SIGKILL between storing a batch and evaluating it (issue 14, item 1): after a restart of the
same entry point, the alerts and deliveries are those of a run that was never interrupted.

The kill is real: the subprocess SIGKILLs itself at the fault point ``after_store``
(``TENDON_FAULT_POINT``, see tendon_pipeline/faults.py), right after the ingest committed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.examples.generate import generate_example_inbox
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = [pytest.mark.slow, pytest.mark.prefect]


def tendon(*args: str, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=timeout)


def outcome(db: Path) -> dict:
    """What reached the warehouse and the receivers: alerts, deliveries, outbox file lines."""
    with open_warehouse(db, read_only=True) as wh:
        alerts = sorted(wh.query("SELECT alert_key FROM alerts")["alert_key"])
        deliveries = sorted(map(tuple, wh.query(
            "SELECT item_key, recipient, channel, status FROM deliveries WHERE item_kind = 'alert'").values.tolist()))
        pending = int(wh.query("SELECT count(*) AS n FROM pending_evaluations").iloc[0].n)
        run_loads = int(wh.query("SELECT count(*) AS n FROM run_loads").iloc[0].n)
    outbox = db.parent / "notifications.jsonl"
    lines = [json.loads(line) for line in outbox.read_text().splitlines()] if outbox.exists() else []
    # each message's alerts (which alerts travel together); its key holds the evaluation id, new each run
    sent = sorted(tuple(sorted(a["alert_key"] for a in line["tendon"]["alerts"])) for line in lines
                  if line["tendon"]["alerts"])
    return {"alerts": alerts, "deliveries": deliveries, "pending": pending, "run_loads": run_loads,
            "outbox_alerts": sent}


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash-inbox")
    generate_example_inbox(root, weeks=6)
    return root


@pytest.fixture(scope="module")
def uninterrupted(inbox, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("reference")
    env = {"TENDON_HOME": str(base / "home"), "XDG_CONFIG_HOME": str(base / "cfg")}
    result = tendon("--db", str(base / "w.duckdb"), "ingest", str(inbox), env=env)
    assert result.returncode == 0, result.stderr
    found = outcome(base / "w.duckdb")
    assert found["alerts"] and found["deliveries"], "the example data raises alerts that are delivered"
    return found


def _home(tmp_path: Path) -> dict:
    return {"TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def test_cli_killed_between_storing_and_evaluating_catches_up_on_the_next_run(inbox, uninterrupted, tmp_path):
    db, env = tmp_path / "w.duckdb", _home(tmp_path)
    killed = tendon("--db", str(db), "ingest", str(inbox), env={**env, "TENDON_FAULT_POINT": "after_store"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after_kill = outcome(db)
    assert after_kill["alerts"] == [] and after_kill["run_loads"] == 0 and after_kill["pending"] > 0

    again = tendon("--db", str(db), "ingest", str(inbox), env=env)  # every file is a duplicate now
    assert again.returncode == 0, again.stderr
    assert outcome(db) == {**uninterrupted, "pending": 0}


def test_watcher_killed_between_storing_and_evaluating_catches_up_when_it_starts(inbox, uninterrupted, tmp_path):
    db, env = tmp_path / "w.duckdb", _home(tmp_path)
    killed = tendon("--db", str(db), "watch", str(inbox), "--once",
                    env={**env, "TENDON_FAULT_POINT": "after_store"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert outcome(db)["alerts"] == [] and outcome(db)["pending"] > 0

    # the kill came after the first athlete's group was stored; nothing new arrives: the start
    # alone must evaluate what that group stored
    empty = tmp_path / "empty-inbox"
    empty.mkdir()
    again = tendon("--db", str(db), "watch", str(empty), "--once", env=env)
    assert again.returncode == 0, again.stderr
    caught_up = outcome(db)
    assert caught_up["pending"] == 0 and caught_up["run_loads"] > 0
    # then the rest of the inbox: the same as a watcher that was never killed
    rest = tendon("--db", str(db), "watch", str(inbox), "--once", env=env)
    assert rest.returncode == 0, rest.stderr
    assert outcome(db) == {**uninterrupted, "pending": 0}


def test_killed_after_the_evaluation_sends_on_the_next_run(inbox, uninterrupted, tmp_path):
    """The evaluation queued the deliveries in its own commit; the kill came before sending."""
    db, env = tmp_path / "w.duckdb", _home(tmp_path)
    killed = tendon("--db", str(db), "ingest", str(inbox), env={**env, "TENDON_FAULT_POINT": "after_evaluate"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    queued = outcome(db)
    assert queued["alerts"] == uninterrupted["alerts"] and queued["outbox_alerts"] == []
    assert {d[:3] for d in queued["deliveries"]} == {d[:3] for d in uninterrupted["deliveries"]}

    again = tendon("--db", str(db), "watch", str(tmp_path / "nothing"), "--once", env=env)
    assert again.returncode == 0, again.stderr
    assert f"there is no folder {tmp_path / 'nothing'}: no files taken in" in again.stderr  # a typo is said
    assert outcome(db) == {**uninterrupted, "pending": 0}


# -- the routing horizon after a late evaluation (in process, the clock given) --------------------
def _alert_deliveries(wh) -> set[tuple[str, str, str]]:
    return set(map(tuple, wh.query("SELECT item_key, recipient, channel FROM deliveries"
                                   " WHERE item_kind = 'alert'").values.tolist()))


def _store_only(settings, inbox):
    from tendon_pipeline.app.ingest import ingest_paths

    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [inbox])
        return max(p.since for p in wh.pending_evaluations())


def test_an_evaluation_days_late_routes_what_an_evaluation_on_arrival_would(tmp_path, monkeypatch):
    from tendon_pipeline.app.delivery import plan_deliveries
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    inbox = tmp_path / "inbox"
    generate_example_inbox(inbox, weeks=6)
    on_time = load_settings(db=tmp_path / "on-time.duckdb")
    late = load_settings(db=tmp_path / "late.duckdb")
    arrived = _store_only(on_time, inbox)
    _store_only(late, inbox)
    with open_warehouse(on_time.db) as wh:
        evaluate_athletes(wh, on_time, now=arrived)
        plan_deliveries(wh, on_time, now=arrived)
        expected = _alert_deliveries(wh)
    assert expected, "the example data raises alerts inside the horizon"
    twenty_days_later = arrived + timedelta(days=20)  # e.g. the watcher crashed and was restarted then
    with open_warehouse(late.db) as wh:
        evaluate_athletes(wh, late, now=twenty_days_later)
        plan_deliveries(wh, late, now=twenty_days_later)  # the notify step of that late run
        assert _alert_deliveries(wh) == expected
        assert wh.pending_evaluations() == []


def test_an_athletes_first_import_of_an_old_history_routes_no_old_alerts(tmp_path, monkeypatch):
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.config.settings import load_settings

    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    inbox = tmp_path / "inbox"
    generate_example_inbox(inbox, weeks=6, end=date.today() - timedelta(days=90))
    settings = load_settings(db=tmp_path / "w.duckdb")
    _store_only(settings, inbox)
    with open_warehouse(settings.db) as wh:
        report = evaluate_athletes(wh, settings, now=datetime.now(UTC).replace(tzinfo=None))
        assert report.new_alerts(), "the old history raises alerts"
        assert _alert_deliveries(wh) == set()
