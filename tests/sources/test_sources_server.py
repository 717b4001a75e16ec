"""Server mode against a real local Prefect server (slow: about 2-4 minutes).

One ``prefect server start`` on loopback with its own PREFECT_HOME (a module fixture) serves
the two server tests of this module when they run in one process (xdist may give them one
worker each; ``--dist loadgroup`` cannot pin them together here: pytest-xdist 3.8 does not
rename the test ids of pytest 9, so its groups are ignored):

- the per-event deployments: creates the process work pool (concurrency 1: the single
  writer), deploys ``deploy/prefect.yaml``, starts a worker and ``tendon watch --server``,
  drops files and waits for the ``alert.raised`` event to come back through ingest ->
  athlete.data.changed -> evaluate; at the end it deletes its deployments' automations;
- the warm worker (``tendon worker``, issue 17): posts ``fit.file.received`` events the way
  ``tendon watch --server`` does and waits for ``alert.raised`` from the worker's in-process
  flow runs; the same event posted twice; a restart that finds files which arrived while it
  was down; its refusal to run next to the per-event deployments.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
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
        for _name, proc in reversed(self.started):  # watcher, worker, then the server
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


def _prefect_env(home: Path, api: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TENDON_"))}
    env.update({
        "PREFECT_HOME": str(home), "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_LOGGING_LEVEL": "INFO",
        "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_WORKER_PREFETCH_SECONDS": "1", "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    })
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """(API URL, environment, seconds it took to answer): one server for this module's tests."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = _prefect_env(folder / "prefect-home", api)
    procs = Processes(folder)
    try:
        started = time.monotonic()
        procs.start("server", [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env)
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < 180, procs.log("server")
            time.sleep(0.5)
        yield api, env, time.monotonic() - started
    finally:
        procs.stop_all()


def _run(args: list[str], env: dict) -> str:
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _events(api: str, prefix: str, since: datetime, athlete: str = "dan") -> list[dict]:
    body = {"filter": {"event": {"prefix": [prefix]}, "occurred": {"since": since.isoformat()},
                       "resource": {"labels": {"tendon.athlete": [athlete]}}}, "limit": 50}
    response = httpx.post(f"{api}/events/filter", json=body, timeout=10)
    response.raise_for_status()
    return response.json()["events"]


def _delete_pipeline_automations(api: str) -> None:
    response = httpx.post(f"{api}/automations/filter", json={}, timeout=10)
    response.raise_for_status()
    for automation in response.json():
        if {"fit.file.received", "athlete.data.changed", "alert.raised"} & set(automation["trigger"].get("expect", [])):
            httpx.delete(f"{api}/automations/{automation['id']}", timeout=10).raise_for_status()


def _flow_runs(api: str) -> list[dict]:
    response = httpx.post(f"{api}/flow_runs/filter", json={"limit": 200}, timeout=10)
    response.raise_for_status()
    return response.json()


def _spike_week_stored(tmp_path: Path, server_env: dict, db: Path, inbox: Path, athlete: str):
    """Four weeks of steady history and most of a spike week for ``athlete``, stored in ``db``
    beforehand (no events). Returns the environment of a pipeline process on that warehouse, every
    (file name, activity) of the six weeks, and the spike week's last three, not yet written."""
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.examples.generate import AthleteProfile, _file_names, volume_spike, write_activity
    from tendon_pipeline.warehouse.store import open_warehouse

    env = {**server_env, "TENDON_DB": str(db), "TENDON_HOME": str(tmp_path / "tendon-home"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    today = date.today()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=6)
    specs = volume_spike(AthleteProfile(athlete_id=athlete), monday, weeks=6)
    named = sorted(zip(_file_names(specs), specs), key=lambda pair: pair[1].start_utc)
    history, late = named[:-3], named[-3:]
    for name, spec in history:
        write_activity(tmp_path / "history" / name, spec)
    with open_warehouse(db) as wh:
        stored = ingest_paths(wh, load_settings(db=db, inbox=inbox), [tmp_path / "history"], athlete=athlete)
        assert stored.counts()["ingested"] == len(history)
    return env, named, late


def test_server_mode_file_to_alert_through_deployments_and_triggers(tmp_path, prefect_server):
    from tendon_pipeline.examples.generate import write_activity
    from tendon_pipeline.warehouse.store import open_warehouse

    api, server_env, server_start = prefect_server
    db, inbox = tmp_path / "warehouse.duckdb", tmp_path / "inbox"
    env, named, late = _spike_week_stored(tmp_path, server_env, db, inbox, "dan")

    procs = Processes(tmp_path)
    try:
        _run([PREFECT, "work-pool", "create", "tendon", "--type", "process", "--overwrite"], env)
        _run([PREFECT, "work-pool", "set-concurrency-limit", "tendon", "1"], env)
        _run([PREFECT, "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"], env)
        procs.start("worker", [PREFECT, "worker", "start", "--pool", "tendon", "--type", "process"], env)
        procs.start("watch", [sys.executable, "-m", "tendon_pipeline.cli", "watch", "--server",
                              str(inbox)], env)
        time.sleep(3)  # the watcher's catch-up of an empty inbox
        since = datetime.now(UTC) - timedelta(seconds=5)

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
        _delete_pipeline_automations(api)  # the server is shared: the warm worker's test must not race them

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
          f" max {max(to_ingested):.1f} s; first file -> first alert.raised {first_alert - min(dropped.values()):.1f}"
          " s;"
          f" {len(alerts)} alerts ({sorted({e['resource']['tendon.rule'] for e in alerts})}); stored: {stored};"
          f" re-delivered event -> {redelivery_runs} extra ingest run(s), nothing new")


def _has(wh, table: str) -> bool:
    return bool(wh.query("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).iloc[0, 0])


# -- the warm worker (issue 17) ------------------------------------------------------------


def _post_file_received(api: str, path: Path, athlete: str) -> dict:
    """What ``tendon watch --server`` sends for a landed file (events.file_received_event), posted."""
    from tendon_pipeline.connectors.sources.base import Arrival
    from tendon_pipeline.orchestration.events import file_received_event

    event = file_received_event(Arrival.for_file(path, source="folder", athlete_id=athlete))
    body = {"id": str(event.id), "occurred": event.occurred.isoformat(), "event": event.event,
            "resource": event.resource, "related": event.related, "payload": event.payload}
    httpx.post(f"{api}/events", json=[body], timeout=10).raise_for_status()
    return body


def _wait_log(procs: Processes, name: str, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in procs.log(name):
        assert time.monotonic() < deadline, f"no {text!r} in the {name} log:\n" + procs.log(name)[-4000:]
        time.sleep(0.2)


def _occurred(event: dict) -> float:
    return datetime.fromisoformat(event["occurred"].replace("Z", "+00:00")).timestamp()


def test_warm_worker_takes_server_events_alerts_in_seconds_once_and_catches_up(tmp_path, prefect_server, drop,
                                                                                 wait):
    from tendon_pipeline.connectors.notifiers.outbox_file import read_outbox
    from tendon_pipeline.examples.generate import write_activity
    from tendon_pipeline.warehouse.store import open_warehouse

    api, server_env, _ = prefect_server
    db, inbox = tmp_path / "warehouse.duckdb", (tmp_path / "inbox").resolve()
    env, named, late = _spike_week_stored(tmp_path, server_env, db, inbox, "eva")
    worker = [sys.executable, "-m", "tendon_pipeline.cli", "worker", "-v", str(inbox)]

    # next to a deployment triggered by fit.file.received, the worker refuses to start
    competing = httpx.post(f"{api}/automations/", timeout=10, json={
        "name": "ingest-on-arrival-trigger", "enabled": True,
        "trigger": {"type": "event", "expect": ["fit.file.received"], "posture": "Reactive", "threshold": 1,
                    "within": 0},
        "actions": [{"type": "run-deployment", "source": "inferred"}]})
    competing.raise_for_status()
    refused = subprocess.run(worker, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
    httpx.delete(f"{api}/automations/{competing.json()['id']}", timeout=10).raise_for_status()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "ingest-on-arrival-trigger" in refused.stderr and "processed twice" in refused.stderr

    procs = Processes(tmp_path)
    since = datetime.now(UTC) - timedelta(seconds=5)
    try:
        procs.start("worker", worker, env)
        _wait_log(procs, "worker", "caught up the inbox")
        dropped, posted = {}, []
        for name, spec in late:
            path = write_activity(inbox / "eva" / name, spec)
            dropped[str(path)] = time.time()
            posted.append(_post_file_received(api, path, "eva"))
        alerts = wait(lambda: _events(api, "alert.raised", since, "eva"), 120, 0.2)
        first_alert = min(map(_occurred, alerts)) - min(dropped.values())
        wait(lambda: len(_events(api, "athlete.data.changed", since, "eva")) >= 1, 30, 0.2)

        # the same event posted again: nothing new is stored, changed, raised or delivered
        repost = {k: v for k, v in posted[0].items()}
        httpx.post(f"{api}/events", json=[repost], timeout=10).raise_for_status()
        _post_file_received(api, Path(posted[1]["resource"]["tendon.path"]), "eva")  # a copy under a new id
        time.sleep(6)  # room for a (wrong) second ingest, evaluation or alert
        changed = _events(api, "athlete.data.changed", since, "eva")
        alerts_after = _events(api, "alert.raised", since, "eva")

        # a restart: files that arrived while the worker was down are taken at start
        procs.stop_all()
        assert "stopped" in procs.log("worker"), procs.log("worker")[-3000:]
        while_down = [drop(inbox / "eva" / "while-down-1.fit", 1), drop(inbox / "eva" / "while-down-2.fit", 2)]
        _post_file_received(api, while_down[0], "eva")  # announced while nobody listened; the other one not
        procs.start("worker-again", worker, env)
        _wait_log(procs, "worker-again", "caught up the inbox")
        deadline = time.monotonic() + 60
        while "batch" not in procs.log("worker-again").split("caught up the inbox", 1)[1]:
            assert time.monotonic() < deadline, procs.log("worker-again")[-3000:]
            time.sleep(0.2)
    finally:
        procs.stop_all()

    assert {e["resource"]["tendon.athlete"] for e in alerts} == {"eva"}
    assert len(alerts_after) == len(alerts)  # each alert raised once
    assert len(changed) <= len(late)  # one per batch with new data: the re-posted events changed nothing
    with open_warehouse(db, read_only=True) as wh:
        stored = wh.query("SELECT count(*) FROM activities").iloc[0, 0]
        alert_rows = wh.query("SELECT count(*) FROM alerts WHERE athlete_id = 'eva'").iloc[0, 0]
    assert stored == len(named) + len(while_down)
    assert alert_rows > len(alerts)  # the files taken at the restart raised alerts of their own
    # every alert stored came back as alert.raised, once (the server persists events every few seconds)
    wait(lambda: len(_events(api, "alert.raised", since, "eva")) >= alert_rows, 30, 0.5)
    assert len(_events(api, "alert.raised", since, "eva")) == alert_rows
    outbox = read_outbox(db.parent / "notifications.jsonl")
    keys = [m.get("idempotency_key") for m in outbox]
    assert outbox and len(keys) == len(set(keys)), keys  # delivered, each message once
    runs = [r for r in _flow_runs(api) if r["name"] and r["flow_id"] and r["state_type"] == "COMPLETED"
            and set(r["parameters"].get("paths") or []) & set(dropped)]
    assert runs, "no process-fit-files flow run reported to the server for the dropped files"
    print(f"\n[latency] server mode, warm worker: first file -> first alert.raised {first_alert:.1f} s;"
          f" {len(alerts)} alerts; {len(changed)} athlete.data.changed; outbox {len(outbox)} messages")


def test_warm_worker_event_names_a_file_under_its_inbox_or_is_left(tmp_path, drop):
    from prefect.events import Event

    from tendon_pipeline.orchestration.server_events import arrival_of

    inbox = (tmp_path / "inbox").resolve()
    mine, elsewhere = drop(inbox / "ann" / "run.fit", 1), drop(tmp_path / "other-inbox" / "ann" / "run.fit", 2)

    def event(path: Path, athlete: str = "") -> Event:
        return Event(event="fit.file.received", resource={"prefect.resource.id": "tendon.fit-file.0123456789abcdef",
                                                          "tendon.path": str(path), "tendon.athlete": athlete,
                                                          "tendon.source": "http"})

    arrival = arrival_of(event(mine), inbox)
    assert (arrival.path, arrival.athlete_id, arrival.arrival_id, arrival.source) == (
        mine, "ann", "0123456789abcdef", "http")
    assert arrival.fingerprint == (str(mine), mine.stat().st_size, mine.stat().st_mtime_ns)  # as the folder sees it
    assert arrival_of(event(mine, "bea"), inbox).athlete_id == "bea"  # the event's label wins (an upload token)
    assert arrival_of(event(elsewhere), inbox) is None  # another worker's inbox
    assert arrival_of(event(inbox / "ann" / "gone.fit"), inbox) is None  # not here (any more)


def test_warm_worker_waits_for_an_unreachable_server_and_says_what_to_do(tmp_path):
    api = f"http://127.0.0.1:{_free_port()}/api"  # nothing listens there
    env = {**_prefect_env(tmp_path / "prefect-home", api), "TENDON_DB": str(tmp_path / "warehouse.duckdb"),
           "TENDON_HOME": str(tmp_path / "tendon-home"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    procs = Processes(tmp_path)
    try:
        procs.start("worker", [sys.executable, "-m", "tendon_pipeline.cli", "worker", str(tmp_path / "inbox")], env)
        deadline = time.monotonic() + 90
        while procs.log("worker").count("retrying in") < 2:  # it retries, with back-off
            assert time.monotonic() < deadline, procs.log("worker")
            time.sleep(0.2)
        assert procs.started[0][1].poll() is None  # still running: transient
    finally:
        procs.stop_all()
    log = procs.log("worker")
    assert f"the Prefect server at {api} is not reachable" in log
    assert "start it (prefect server start) or correct PREFECT_API_URL" in log
    assert "retrying in 1 s" in log and "retrying in 2 s" in log
    assert procs.started[0][1].returncode == 0 and log.rstrip().endswith("stopped")  # SIGTERM: a clean stop


def test_warm_worker_batch_without_a_server_is_a_transient_error(tmp_path, drop):
    api = f"http://127.0.0.1:{_free_port()}/api"  # the server went away
    path = drop(tmp_path / "inbox" / "ann" / "run.fit", 1)
    # in a process of its own: a flow run against a dead API leaves Prefect's client state behind
    script = ("import sys\n"
              "from tendon_pipeline.config.settings import load_settings\n"
              "from tendon_pipeline.errors import OrchestratorUnreachable\n"
              "from tendon_pipeline.runtime.warm import process_batch_on_server\n"
              "try:\n"
              "    process_batch_on_server([sys.argv[1]], load_settings(db=sys.argv[2], inbox=sys.argv[3]),"
              " athlete='ann')\n"
              "except OrchestratorUnreachable as exc:\n"
              "    print('transient' if exc.transient else 'terminal', str(exc).replace(chr(10), ' '))\n")
    env = {**_prefect_env(tmp_path / "prefect-home", api), "TENDON_HOME": str(tmp_path / "tendon-home"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "warehouse.duckdb"),
                           str(tmp_path / "inbox")], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("transient ")  # the Watcher retries the batch with back-off
    assert api in done.stdout and "prefect server start" in done.stdout
