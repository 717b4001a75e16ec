"""Backfills (issue 8): the plan (files grouped by athlete, chunked, stable order), one athlete's
backfill as a library call, and the flow on a real Dask LocalCluster against an embedded DuckDB
file: every file stored once, the same alerts and plans as the ordinary path, a rerun changes
nothing, athletes written one at a time, every task run reported to the flow's Prefect API."""

from __future__ import annotations

import multiprocessing
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from tendon_pipeline.examples import generate as g
from tendon_pipeline.app.backfill import AthleteBatch, backfill_athlete, plan_backfill, writers_for
from tendon_pipeline.runtime.backfill import run_backfill
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import AthleteConfig
from tendon_pipeline.warehouse.location import LakeLocation
from tendon_pipeline.warehouse.store import open_warehouse

END = date(2025, 11, 26)  # histories end on Sunday 2025-11-23


def _touch(*paths: Path) -> None:
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


# --------------------------------------------------------------------------- plan_backfill (no Prefect)


def test_plan_groups_by_athlete_folder_in_a_stable_order(settings, tmp_path):
    inbox = tmp_path / "inbox"
    _touch(inbox / "ben" / "2025-01-02.fit", inbox / "ana" / "2025-01-03.fit",
           inbox / "ana" / "old" / "2024-12-30.FIT", inbox / "ana" / "2025-01-01.fit", inbox / "loose.fit",
           inbox / "ana" / "notes.txt", inbox / "ana" / ".hidden" / "x.fit")
    plan = plan_backfill(settings, [inbox])
    assert [b.athlete for b in plan] == ["ana", "ben", None]  # by id; no folder athlete last
    assert [Path(p).name for p in plan[0].chunks[0]] == ["2025-01-01.fit", "2025-01-03.fit", "2024-12-30.FIT"]
    assert plan[2].label == "by-device-serial" and plan[2].files == 1
    # the same files offered in another order, some twice: the same plan
    again = plan_backfill(settings, [inbox / "loose.fit", inbox, inbox / "ana" / "2025-01-01.fit"])
    assert again == plan


def test_plan_chunks_one_athletes_files_in_order(settings, tmp_path):
    files = [tmp_path / "inbox" / "ana" / f"2025-01-{d:02d}.fit" for d in range(7, 0, -1)]
    _touch(*files)
    (batch,) = plan_backfill(settings, [tmp_path / "inbox"], chunk_files=3)
    assert [len(c) for c in batch.chunks] == [3, 3, 1] and batch.files == 7
    assert [p for c in batch.chunks for p in c] == sorted(str(f) for f in files)
    with pytest.raises(ValueError):
        plan_backfill(settings, [tmp_path / "inbox"], chunk_files=0)


def test_plan_explicit_athlete_and_inbox_athlete_root(settings, tmp_path):
    inbox = settings.inbox
    _touch(inbox / "ana" / "a.fit", inbox / "ben" / "b.fit", tmp_path / "elsewhere" / "c.fit")
    (only,) = plan_backfill(settings, [inbox, tmp_path / "elsewhere"], athlete="cleo")
    assert only.athlete == "cleo" and only.files == 3
    (ana,) = plan_backfill(settings, [inbox / "ana"])  # a root that is INBOX/<athlete> itself
    assert ana.athlete == "ana"
    assert plan_backfill(settings, []) == []


def test_one_writer_on_a_duckdb_file_workers_on_a_lake(settings):
    assert writers_for(settings.location, 4) == 1
    assert writers_for(LakeLocation("dbname=lake", "/data/lake"), 4) == 4
    assert writers_for(LakeLocation("dbname=lake", "/data/lake"), 0) == 1


def test_backfill_of_files_only_a_device_serial_assigns(settings, tmp_path):
    serial = 3_900_777_001
    settings = settings.model_copy(update={"athletes": [AthleteConfig(id="dan", devices=[serial])]})
    for day in range(3):
        g.write_activity(tmp_path / "drop" / f"run{day}.fit", g.ActivitySpec(
            start_utc=datetime(2025, 11, 17 + day, 7, tzinfo=timezone.utc), distance_m=8000,
            duration_s=2700, serial_number=serial))
    (batch,) = plan_backfill(settings, [tmp_path / "drop"], chunk_files=2)
    assert batch.athlete is None and len(batch.chunks) == 2
    result = backfill_athlete(settings, batch, as_of=END)
    assert result.counts["ingested"] == 3 and result.evaluated == ["dan"] and result.plans["dan"]
    again = backfill_athlete(settings, batch, as_of=END)
    assert again.counts["duplicate"] == 3 and again.new_alerts == []


# --------------------------------------------------------------------------- the fan-out window (Dask, no Prefect)

_EVENTS: list[tuple[float, int, str]] = []
_EVENTS_LOCK = threading.Lock()


def _pretend_backfill(label: str) -> str:
    with _EVENTS_LOCK:
        _EVENTS.append((time.monotonic(), +1, label))
    time.sleep(0.15)
    with _EVENTS_LOCK:
        _EVENTS.append((time.monotonic(), -1, label))
    return label


class _FakeRunner:
    """Stands in for the DaskTaskRunner: same client and future shapes, a plain function instead of the task."""

    def __init__(self, client) -> None:
        self.client = client

    def submit(self, task, parameters):
        future = self.client.submit(_pretend_backfill, parameters["batch"].label, pure=False)
        return SimpleNamespace(wrapped_future=future)


def test_fan_out_keeps_at_most_writers_in_flight_and_serial_files_alone():
    from distributed import Client, LocalCluster

    from tendon_pipeline.flows.backfill import _fan_out

    batches = [AthleteBatch(a, (("x.fit",),)) for a in ("a", "b", "c", "d", "e")] + [AthleteBatch(None, (("y.fit",),))]
    _EVENTS.clear()
    with LocalCluster(n_workers=1, threads_per_worker=4, processes=False,
                      dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        finished = _fan_out(_FakeRunner(client), batches, 2, None, None)
        assert [f.wrapped_future.result() for _, f in finished] == [b.label for b in batches]  # plan order
    running, most, serial_start = 0, 0, None
    for _, step, label in sorted(_EVENTS):
        running += step
        most = max(most, running)
        if label == "by-device-serial" and step == +1:
            serial_start = running
    assert most == 2  # the cluster has 4 threads; the window allows 2 writers
    assert serial_start == 1  # the by-serial batch ran alone, after every athlete had finished
    assert max(t for t, step, label in _EVENTS if label != "by-device-serial") <= \
           min(t for t, step, label in _EVENTS if label == "by-device-serial")


# --------------------------------------------------------------------------- the flow on a Dask LocalCluster


def _warehouse_state(db: Path) -> dict:
    with open_warehouse(db, read_only=True) as wh:
        q = wh.con.execute
        return {
            "source_files": q("SELECT count(*), count(DISTINCT file_hash) FROM source_files").fetchone(),
            "activities": q("SELECT count(*) FROM activities").fetchone()[0],
            "alerts": q("SELECT alert_key, athlete_id, rule, severity, alert_date, period, message, evidence"
                        " FROM alerts ORDER BY alert_key").fetchall(),
            "plans": q("SELECT athlete_id, week_start, status, target_km_low, target_km_high, long_run_cap_km,"
                       " plan, reasons FROM plans ORDER BY athlete_id, week_start").fetchall(),
            "deliveries": q("SELECT count(*) FROM deliveries").fetchone()[0],
        }


def _task_runs(flow_run_id) -> list[tuple[str, str]]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter

    for _ in range(20):  # task runs are recorded from events: allow them a moment
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id={"any_": [flow_run_id]}))
        found = sorted((r.name, r.state_name) for r in runs)
        if len(found) >= 4:
            return found
        time.sleep(0.5)
    return found


@pytest.mark.prefect
@pytest.mark.slow
def test_backfill_flow_on_a_local_dask_cluster_matches_the_ordinary_path(settings, tmp_path):
    from tendon_pipeline.flows.backfill import backfill_flow
    from tendon_pipeline.orchestration.embedded import run_flow_embedded

    inbox = tmp_path / "inbox"
    files = g.generate_example_inbox(inbox, weeks=4, end=END)
    per_athlete = {a: sum(1 for f in files if f.parent.name == a) for a in ("ana", "ben", "cleo")}
    assert min(per_athlete.values()) > 16  # chunks of 16: two per athlete, the first on the bulk path

    # the ordinary path (no Prefect, no Dask) into a second warehouse: what the backfill must equal
    reference = tmp_path / "reference.duckdb"
    with open_warehouse(reference) as wh:
        ingest_paths(wh, settings, [inbox])
        evaluate_athletes(wh, settings, ["ana", "ben", "cleo"])

    db = settings.db
    state = run_flow_embedded(backfill_flow, paths=[str(inbox)], db=str(db), workers=2, chunk_files=16,
                              return_state=True)
    report = state.result()
    assert report.writers == 1  # a DuckDB file: one athlete at a time whatever `workers` says
    assert [r.athlete for r in report.athletes] == ["ana", "ben", "cleo"] and report.failed == {}
    assert {r.athlete: r.files for r in report.athletes} == per_athlete
    assert all(r.chunks == 2 for r in report.athletes)
    assert report.counts()["ingested"] == len(files)
    spans = sorted((r.started_at, r.started_at + r.seconds) for r in report.athletes)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:])), spans
    assert report.delivery and report.new_alerts()

    stored = _warehouse_state(db)
    assert stored["source_files"] == (len(files), len(files)) and stored["activities"] == len(files)
    expected = _warehouse_state(reference)
    assert stored["alerts"] == expected["alerts"] and stored["alerts"]
    assert stored["plans"] == expected["plans"] and len(stored["plans"]) == 3
    assert sorted(report.new_alerts()) == [a[0] for a in stored["alerts"]]

    # every task ran on Dask and was reported to this run's Prefect API
    runs = _task_runs(state.state_details.flow_run_id)
    assert [r for r in runs if r[0].startswith("backfill")] == [
        ("backfill-ana", "Completed"), ("backfill-ben", "Completed"), ("backfill-cleo", "Completed")]
    assert [s for n, s in runs if n.startswith("deliver-notifications")] == ["Completed"]
    assert not [p for p in multiprocessing.active_children() if "Dask" in p.name]  # cluster closed

    # a rerun: every file recognised, nothing stored, raised or sent again
    again = run_backfill([inbox], settings, workers=2, chunk_files=16, console_to_stderr=True)  # as the CLI
    assert again.counts()["duplicate"] == len(files) and again.new_alerts() == []
    assert _warehouse_state(db) == stored

    # a cluster elsewhere cannot reach the embedded API on this machine's loopback: refused up front
    with pytest.raises(ConfigError, match="cannot report to the Prefect API"):
        run_flow_embedded(backfill_flow, paths=[str(inbox)], db=str(db), dask_address="tcp://scheduler.example:8786")
