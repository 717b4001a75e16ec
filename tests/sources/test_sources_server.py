"""Server mode against a real local Prefect server (slow: about 1-3 minutes).

Starts ``prefect server start`` on loopback with its own PREFECT_HOME, creates the
process work pool (concurrency 1: the single writer), deploys ``deploy/prefect.yaml``,
starts a worker and ``tendon watch --server``, drops files and waits for the
``alert.raised`` event to come back through ingest -> athlete.data.changed -> evaluate.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")

pytestmark = [pytest.mark.slow, pytest.mark.prefect]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """Subprocesses in their own process groups, ended group by group (their own children too)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict, cwd: Path = REPO) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("w")
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((name, proc))
        return proc

    def stop_all(self) -> None:
        for name, proc in reversed(self.started):  # watcher, worker, then the server
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text() if path.exists() else ""


def _run(args: list[str], env: dict) -> str:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _events(api: str, prefix: str, since: datetime) -> list[dict]:
    body = {"filter": {"event": {"prefix": [prefix]}, "occurred": {"since": since.isoformat()}}, "limit": 50}
    response = httpx.post(f"{api}/events/filter", json=body, timeout=10)
    response.raise_for_status()
    return response.json()["events"]


def _flow_runs(api: str) -> list[dict]:
    response = httpx.post(f"{api}/flow_runs/filter", json={"limit": 200}, timeout=10)
    response.raise_for_status()
    return response.json()


def test_server_mode_file_to_alert_through_deployments_and_triggers(tmp_path):
    from tendon_pipeline.examples.generate import AthleteProfile, _file_names, volume_spike, write_activity
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    db, inbox = tmp_path / "warehouse.duckdb", tmp_path / "inbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TENDON_"))}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1", "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "TENDON_DB": str(db), "TENDON_HOME": str(tmp_path / "tendon-home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    })
    # four weeks of steady history and most of a spike week, stored beforehand (no events)
    today = date.today()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=6)
    specs = volume_spike(AthleteProfile(athlete_id="dan"), monday, weeks=6)
    named = sorted(zip(_file_names(specs), specs), key=lambda pair: pair[1].start_utc)
    history, late = named[:-3], named[-3:]
    for name, spec in history:
        write_activity(tmp_path / "history" / name, spec)
    settings = load_settings(db=db, inbox=inbox)
    with open_warehouse(db) as wh:
        assert ingest_paths(wh, settings, [tmp_path / "history"], athlete="dan").counts()["ingested"] == len(history)

    procs = Processes(tmp_path)
    try:
        started = time.monotonic()
        procs.start("server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < 120, procs.log("server")
            time.sleep(0.5)
        server_start = time.monotonic() - started
        _run([PREFECT, "work-pool", "create", "tendon", "--type", "process", "--overwrite"], env)
        _run([PREFECT, "work-pool", "set-concurrency-limit", "tendon", "1"], env)
        _run([PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"], env)
        procs.start("worker", [PREFECT, "worker", "start", "--pool", "tendon", "--type", "process"], env)
        procs.start("watch", [sys.executable, "-m", "tendon_pipeline.cli", "watch", "--server",
                              str(inbox)], env)
        time.sleep(3)  # the watcher's catch-up of an empty inbox
        since = datetime.now(timezone.utc) - timedelta(seconds=5)

        dropped = {}
        for name, spec in late:
            dropped[str(inbox / "dan" / name)] = time.time()
            write_activity(inbox / "dan" / name, spec)

        deadline = time.monotonic() + 300
        alerts: list[dict] = []
        while time.monotonic() < deadline:
            alerts = _events(api, "alert.raised", since)
            ingested = [r for r in _flow_runs(api) if r["parameters"].get("path") in dropped
                        and r["state_type"] == "COMPLETED"]
            if alerts and len(ingested) == len(late):
                break
            time.sleep(1)
        assert alerts, "no alert.raised event\n" + procs.log("worker")[-4000:] + procs.log("watch")[-2000:]

        received = _events(api, "fit.file.received", since)

        # the same event delivered a second time: a run may follow, nothing new may come of it
        again = {k: v for k, v in received[0].items() if k != "received"}
        path = again["resource"]["tendon.path"]
        runs_for_path = lambda: [r for r in _flow_runs(api) if r["parameters"].get("path") == path]  # noqa: E731
        httpx.post(f"{api}/events", json=[again], timeout=10).raise_for_status()
        settle = time.monotonic() + 40
        while time.monotonic() < settle:
            if len(runs_for_path()) > 1 and all(r["state_type"] == "COMPLETED" for r in runs_for_path()):
                break
            time.sleep(1)
        time.sleep(3)  # room for any (wrong) follow-up event
        redelivery_runs = len(runs_for_path()) - 1
        changed = _events(api, "athlete.data.changed", since)
        alerts_after = _events(api, "alert.raised", since)
        runs = _flow_runs(api)
    finally:
        procs.stop_all()

    assert sorted(e["resource"]["tendon.path"] for e in received) == sorted(dropped)
    assert {e["resource"]["tendon.athlete"] for e in changed} == {"dan"}
    assert {e["resource"]["tendon.athlete"] for e in alerts} == {"dan"}
    ingest_runs = [r for r in runs if r["parameters"].get("path") in dropped]
    assert len(ingest_runs) == len(late) + redelivery_runs
    assert {r["state_type"] for r in ingest_runs} == {"COMPLETED"}
    assert len(changed) == len(late)  # the re-delivered event changed nothing, so no new data event
    assert len(alerts_after) == len(alerts)
    ingest_runs = sorted(ingest_runs, key=lambda r: r["start_time"])[: len(late)] if redelivery_runs else ingest_runs
    with open_warehouse(db, read_only=True) as wh:
        assert wh.query("SELECT count(*) FROM activities").iloc[0, 0] == len(named)
        stored = wh.query("SELECT alert_key FROM alerts").iloc[:, 0].tolist() if _has(wh, "alerts") else None

    def ended(run: dict) -> float:
        return datetime.fromisoformat(run["end_time"].replace("Z", "+00:00")).timestamp()

    to_ingested = [ended(r) - dropped[r["parameters"]["path"]] for r in ingest_runs]
    first_alert = min(datetime.fromisoformat(e["occurred"].replace("Z", "+00:00")).timestamp() for e in alerts)
    print(f"\n[latency] server mode (process worker, pool concurrency 1): server start {server_start:.1f} s;"
          f" {len(late)} files dropped together, file -> ingested median {statistics.median(to_ingested):.1f} s,"
          f" max {max(to_ingested):.1f} s; first file -> first alert.raised {first_alert - min(dropped.values()):.1f} s;"
          f" {len(alerts)} alerts ({sorted({e['resource']['tendon.rule'] for e in alerts})}); stored: {stored};"
          f" re-delivered event -> {redelivery_runs} extra ingest run(s), nothing new")


def _has(wh, table: str) -> bool:
    return bool(wh.query("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).iloc[0, 0])
