"""Several writer processes on one DuckLake warehouse (real PostgreSQL catalog): nothing lost,
nothing twice, and the same loads, alerts and plans as the embedded DuckDB file."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import lake_settings_env
from lake_workers import ingest_and_evaluate, notify

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.examples.generate import generate_example_inbox
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse

END = date(2026, 11, 20)  # a Friday: the example histories end here
AS_OF = date(2026, 11, 22)
ATHLETES = ("ana", "ben", "cleo")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lake-inbox")
    generate_example_inbox(root, weeks=6, end=END)
    return root


def _run_writers(jobs: list[tuple], timeout: float = 240) -> list[dict]:
    """Start one spawned process per job at the same moment; their results."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 4.0  # after every process has imported the package
    procs = [ctx.Process(target=fn, args=(*args, start_at, results)) for fn, *args in jobs]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return out


_TABLES = ("athletes", "source_files", "activities", "sessions", "laps", "records", "run_loads", "alerts", "plans")


def _contents(wh) -> dict:
    return {
        "counts": {t: wh.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES},
        "files": wh.con.execute("SELECT file_hash, status, athlete_id, activity_id FROM source_files ORDER BY 1").fetchall(),
        "loads": wh.con.execute("SELECT run_id, round(distance_m, 3), round(tendon_load_bw, 3) FROM run_loads"
                                " ORDER BY 1").fetchall(),
        "alerts": wh.con.execute("SELECT alert_key, athlete_id, rule, severity, alert_date, CAST(evidence AS VARCHAR),"
                                 " source FROM alerts ORDER BY 1").fetchall(),
        "plans": wh.con.execute("SELECT athlete_id, week_start, status, target_km_low, target_km_high,"
                                " long_run_cap_km, CAST(reasons AS VARCHAR) FROM plans ORDER BY 1, 2").fetchall(),
    }


def _embedded(inbox: Path, tmp_path: Path) -> dict:
    settings = load_settings(None, db=str(tmp_path / "embedded.duckdb"), ingest_workers=1)
    with open_warehouse(settings.location) as wh:
        for athlete in ATHLETES:
            ingest_paths(wh, settings, [str(inbox / athlete)], athlete=athlete)
        evaluate_athletes(wh, settings, list(ATHLETES), as_of=AS_OF)
        return _contents(wh)


def test_concurrent_writers_of_different_athletes_lose_nothing_and_match_the_file(inbox, lake, tmp_path):
    env = lake_settings_env(lake)
    results = _run_writers([(ingest_and_evaluate, env, [str(inbox / a)], a, AS_OF) for a in ATHLETES])
    files = sorted(inbox.rglob("*.fit"))
    assert sum(r["counts"]["ingested"] for r in results) == len(files)
    assert all(r["counts"]["ingested"] == r["files"] for r in results)
    with open_warehouse(lake, read_only=True) as wh:
        on_lake = _contents(wh)
        keys = wh.con.execute("SELECT count(DISTINCT activity_key), count(*) FROM activities").fetchone()
    assert keys[0] == keys[1] == len(files)
    embedded = _embedded(inbox, tmp_path)
    assert on_lake["counts"] == embedded["counts"]
    assert on_lake["loads"] == embedded["loads"]
    assert on_lake["alerts"] == embedded["alerts"] and embedded["alerts"]  # the example data raises alerts
    assert on_lake["plans"] == embedded["plans"]

    # offered again, by two writers at once: nothing changes
    again = _run_writers([(ingest_and_evaluate, env, [str(inbox / a)], a, AS_OF) for a in ATHLETES[:2]])
    assert all(r["counts"]["ingested"] == 0 and r["new_alerts"] == 0 for r in again)
    with open_warehouse(lake, read_only=True) as wh:
        assert _contents(wh) == on_lake


def test_two_writers_offered_the_same_files_store_each_once(inbox, lake, tmp_path):
    """The race DuckLake alone does not prevent (no UNIQUE): the same athlete's files, and the
    same bytes under two athletes' folders, offered by two writers at the same moment."""
    shared = tmp_path / "shared"
    shutil.copytree(inbox / "ben", shared / "ben")
    one = sorted((inbox / "cleo").glob("*.fit"))[0]
    for athlete in ("ben", "dora"):  # the same bytes for two athletes
        (shared / athlete).mkdir(exist_ok=True)
        shutil.copy(one, shared / athlete / "copied.fit")
    with open_warehouse(lake) as wh:  # athletes known with their body: no update that could
        for athlete in ("ben", "dora"):  # make DuckLake's own conflict check serialise the writers
            wh.ensure_athlete(athlete, body_mass_kg=70.0, height_m=1.8)
    env = lake_settings_env(lake)
    results = _run_writers([(ingest_and_evaluate, env, [str(shared)], None, AS_OF) for _ in range(2)])
    offered = len(list((inbox / "ben").glob("*.fit"))) + 1  # ben's activities and the copied one
    per_writer = len(list(shared.rglob("*.fit")))  # the copied activity is offered twice by each
    assert sum(r["counts"]["ingested"] for r in results) == offered
    assert sum(r["counts"]["duplicate"] for r in results) == 2 * per_writer - offered
    with open_warehouse(lake, read_only=True) as wh:
        hashes = wh.con.execute("SELECT count(*), count(DISTINCT file_hash) FROM source_files").fetchone()
        activities = wh.con.execute("SELECT count(*), count(DISTINCT activity_key) FROM activities").fetchone()
        alerts = wh.con.execute("SELECT count(*), count(DISTINCT alert_key) FROM alerts").fetchone()
    assert hashes[0] == hashes[1] == offered
    assert activities[0] == activities[1] == offered
    assert alerts[0] == alerts[1]


def test_two_notifiers_deliver_each_message_once(inbox, lake, tmp_path):
    env = lake_settings_env(lake)
    _run_writers([(ingest_and_evaluate, env, [str(inbox / a)], a, AS_OF) for a in ATHLETES])
    outbox = tmp_path / "notifications.jsonl"
    env = {**env, "TENDON_NOTIFY__CONSOLE": "false", "TENDON_NOTIFY__OUTBOX_FILE": str(outbox)}
    now = datetime(2026, 11, 22, 12, 0).isoformat()
    sent = _run_writers([(notify, env, now) for _ in range(2)])
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    keys = [line["idempotency_key"] for line in lines]
    assert lines and len(keys) == len(set(keys)) == sum(r["sent"] for r in sent)
    with open_warehouse(lake, read_only=True) as wh:
        delivered = wh.con.execute("SELECT count(DISTINCT message_key), count(DISTINCT seq), count(*)"
                                   " FROM deliveries WHERE status = 'delivered'").fetchone()
    assert delivered[0] == len(keys) and delivered[1] == delivered[2]
