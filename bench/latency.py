"""Issue 17 benchmark: what a runner and a coach wait for, against fresh-process references.

Every figure is a whole command in a fresh process (``python -m tendon_pipeline.cli ...``),
run back to back with its reference, also a fresh process, on the same files; a figure is
the ratio of the two, so it survives a noisy machine (other load slows both). p50 and p95
over ``--repeat`` runs.

* one-shot -- ``tendon ingest`` of a runner's newest few files (a spike week: alerts are
  raised, printed and delivered) into a warehouse holding their history, against a fresh
  process that imports fitparse and decodes the same files;
* year -- a year of one runner's smart-recorded files (about 260) through ``tendon ingest``
  into a fresh warehouse, against fresh-process fitparse decoding of the same files;
* decade -- 3,000 such files through ``tendon ingest`` (``--decade``; seconds end to end);
* reads -- ``alerts``, ``plan``, ``status``, ``summary``, ``--help``, ``--version`` against a
  fresh process that imports duckdb, opens the same warehouse read-only and runs the
  command's query;
* watcher -- the embedded watcher (``tendon watch`` in process, warm): file landed ->
  ``alert.raised``, seconds (``--watcher``);
* server -- server mode (``--server``): a ``prefect server`` on loopback, ``tendon watch --server``
  announcing files and the warm worker (``tendon worker``) started and warm (it has caught up),
  each a fresh process with a fresh warehouse and inbox per run, warmed by one file already
  stored (announced and taken as a duplicate): file landed -> first ``alert.raised``
  recorded by the server, seconds; with ``--per-event N`` also N runs of the
  per-event deployments of deploy/prefect.yaml (a process worker, a flow-run process per event).

``--before DIR`` also measures a checkout of an older commit (e.g. ``git worktree add
/tmp/before main``) in the same run, with the same environment, references and files:
its package is laid out under a temporary folder put first on PYTHONPATH.

    .venv/bin/python bench/latency.py --quick                  # ~2 min: repeat 3, no decade
    .venv/bin/python bench/latency.py --before /tmp/before     # before and after, same run
    .venv/bin/python bench/latency.py --save-baseline          # replace bench/latency_baseline.json
    .venv/bin/python bench/latency.py --only reads,one-shot    # a subset of the scenarios
    .venv/bin/python bench/latency.py --server --only-server --per-event 2 --save-baseline
                                                               # replace bench/latency_server_baseline.json

Each variant's package is byte-compiled first (as an installed package is): with
PYTHONDONTWRITEBYTECODE set, a checkout would compile its modules from source in every command.

Results: printed, written to bench/results/latency-<UTC time>.json (git-ignored) and compared
with bench/latency_baseline.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BASELINE = HERE / "latency_baseline.json"
SERVER_BASELINE = HERE / "latency_server_baseline.json"  # --only-server runs (server mode, issue 17)
RESULTS = HERE / "results"
END = date(2025, 6, 2)  # a Monday: histories end in the week before

FITPARSE_DECODE = ("import sys, fitparse\n"
                   "for p in sys.argv[1:]:\n"
                   "    for m in fitparse.FitFile(p).get_messages():\n"
                   "        m.get_values()\n")
QUERY = ("import sys, duckdb\n"
         "con = duckdb.connect(sys.argv[1], read_only=True)\n"
         "rows = con.execute(sys.argv[2], sys.argv[3:]).fetchall()\n"
         "print(len(rows))\n")
COMPILE = ("import compileall, tendon_pipeline as p, tendon_pipeline.connectors as c, tendon_pipeline.flows as f\n"
           "for m in (p, c, f):\n"
           "    compileall.compile_dir(m.__path__[0], quiet=1)\n")
READS = {  # command -> (arguments, the reference query and its parameters)
    "alerts": (["alerts", "--athlete", "ben"],
               "SELECT athlete_id, rule, severity, alert_date, period, message, evidence, source FROM alerts"
               " WHERE athlete_id = ? ORDER BY alert_date, athlete_id, rule, period", ["ben"]),
    "plan": (["plan", "--athlete", "ben"],
             "SELECT plan FROM plans WHERE athlete_id = ? ORDER BY week_start DESC LIMIT 1", ["ben"]),
    "status": (["status", "--athlete", "ben", "--as-of", "2025-06-01"],
               "SELECT * FROM run_loads WHERE athlete_id = ? ORDER BY local_date", ["ben"]),
    "summary": (["summary"],
                "SELECT a.athlete_id, count(*) FROM activities a LEFT JOIN sessions s USING (activity_id)"
                " GROUP BY 1", []),
    "--help": (["--help"], "SELECT count(*) FROM activities", []),
    "--version": (["--version"], "SELECT count(*) FROM activities", []),
}


# --------------------------------------------------------------------------- data


def _profile(athlete: str, **extra: Any) -> Any:
    from tendon_pipeline.examples.generate import AthleteProfile

    return AthleteProfile(athlete_id=athlete, body_mass_kg=70.0, cadence_spm=170.0, serial_number=3_900_000_555,
                          easy_pace_s_per_km=330.0, running_dynamics=True, with_power=True, smart_recording=True,
                          **extra)


def _write(folder: Path, specs: list[Any]) -> list[Path]:
    from tendon_pipeline.examples.generate import _file_names, write_activity

    return [write_activity(folder / name, spec) for name, spec in zip(_file_names(specs), specs)]


def make_year(root: Path, weeks: int = 52, athlete: str = "runner") -> list[Path]:
    """A year of one runner's smart-recorded files (heart rate, running dynamics, power): 4 runs and
    1 calf-raise session a week."""
    from tendon_pipeline.examples.generate import weekly_plan_history

    monday = date.fromordinal(END.toordinal() - 7 * weeks)
    km = [34.0 + 6.0 * ((w % 4) - 1.5) / 1.5 for w in range(weeks)]  # steady 30-40 km, a down week in 4
    return _write(root / athlete, weekly_plan_history(_profile(athlete), km, monday, runs_per_week=4,
                                                      strength_per_week=1, seed=7))


def make_spike(root: Path) -> tuple[list[Path], list[Path]]:
    """ben's example history (a long-run spike and a volume jump at the end): history, newest week."""
    from tendon_pipeline.examples.generate import example_histories

    specs = example_histories(weeks=8, end=END)["ben"]
    paths = _write(root / "ben", specs)
    last_week = [p for p, s in zip(paths, specs) if s.local_start.date() >= date.fromordinal(END.toordinal() - 7)]
    newest = [p for p in last_week if "running" in p.name][-3:]
    return [p for p in paths if p not in newest], newest


# --------------------------------------------------------------------------- processes


class Variant:
    """How to run the product: this checkout (the installed package) or an older checkout."""

    def __init__(self, name: str, pythonpath: str | None) -> None:
        self.name, self.pythonpath = name, pythonpath

    def env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TENDON_", "PREFECT_"))}
        env.update(TENDON_HOME=str(home), XDG_CONFIG_HOME=str(home / "xdg"), PREFECT_HOME=str(home / "prefect"),
                   DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING",
                   PREFECT_LOGGING_TO_API_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="CRITICAL")
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env

    def tendon(self, home: Path, *args: str) -> float:
        return _timed([sys.executable, "-m", "tendon_pipeline.cli", *args], self.env(home))

    def compile(self, home: Path) -> None:
        """Write the package's bytecode cache first, as an installed package has it: with
        PYTHONDONTWRITEBYTECODE set (as here) a checkout compiles its ~90 modules from source in every
        command, 0.3-1 s that a user pays once (site-packages, the references' fitparse, has it)."""
        _timed([sys.executable, "-c", COMPILE], self.env(home))


def overlay(checkout: Path, into: Path) -> str:
    """An older checkout's package laid out as installed (flows/ and connectors/ inside it)."""
    package = into / "tendon_pipeline"
    shutil.copytree(checkout / "src" / "tendon_pipeline", package)
    for extra in ("flows", "connectors"):
        shutil.copytree(checkout / extra, package / extra, dirs_exist_ok=True)
    return str(into)


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:6])} ... exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds


def fitparse_reference(files: list[Path]) -> float:
    return _timed([sys.executable, "-c", FITPARSE_DECODE, *map(str, files)])


def query_reference(db: Path, sql: str, params: list[str]) -> float:
    return _timed([sys.executable, "-c", QUERY, str(db), sql, *params])


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": statistics.median(ordered), "p95": p95, "n": len(ordered)}


def _paired(rows: list[tuple[float, float]]) -> dict[str, Any]:
    """(command seconds, reference seconds) pairs -> seconds, reference and ratio p50/p95."""
    return {"seconds": stats([c for c, _ in rows]), "reference_s": stats([r for _, r in rows]),
            "ratio": stats([c / r for c, r in rows])}


# --------------------------------------------------------------------------- scenarios


def one_shot(variant: Variant, tmp: Path, newest: list[Path], repeat: int) -> dict[str, Any]:
    """The newest files into a copy of the seed warehouse (the runner's history)."""
    seed_home = tmp / f"seed-{variant.name}"
    rows = []
    for n in range(repeat):
        home = tmp / f"one-{variant.name}-{n}"
        shutil.copytree(seed_home, home, ignore=shutil.ignore_patterns("prefect"))
        reference = fitparse_reference(newest)
        rows.append((variant.tendon(home, "ingest", "--athlete", "ben", *map(str, newest)), reference))
        shutil.rmtree(home, ignore_errors=True)
    return _paired(rows)


def bulk(variant: Variant, tmp: Path, files: list[Path], folder: Path, repeat: int, label: str,
         with_reference: bool = True) -> dict[str, Any]:
    rows = []
    for n in range(repeat):
        home = tmp / f"{label}-{variant.name}-{n}"
        reference = fitparse_reference(files) if with_reference else float("nan")
        rows.append((variant.tendon(home, "ingest", str(folder)), reference))
        shutil.rmtree(home, ignore_errors=True)
    if not with_reference:
        return {"seconds": stats([c for c, _ in rows]), "files": len(files)}
    return {**_paired(rows), "files": len(files)}


def reads(variant: Variant, home: Path, repeat: int) -> dict[str, Any]:
    db = home / "warehouse.duckdb"
    out = {}
    for name, (args, sql, params) in READS.items():
        rows = []
        for _ in range(repeat):
            reference = query_reference(db, sql, params)
            rows.append((variant.tendon(home, *args), reference))
        out[name] = _paired(rows)
    return out


def watcher(tmp: Path, history: list[Path], newest: list[Path], repeat: int) -> dict[str, Any]:
    """The embedded watcher in this process (warm): newest files landed -> first alert.raised."""
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.connectors.sources.folder import FolderSource
    from tendon_pipeline.orchestration import events
    from tendon_pipeline.runtime.watch import Watcher

    seconds = []
    for n in range(repeat):
        home = tmp / f"watch-{n}"
        inbox = home / "inbox"
        (inbox / "ben").mkdir(parents=True)
        for path in history:
            shutil.copy(path, inbox / "ben" / path.name)
        os.environ.update(TENDON_HOME=str(home), PREFECT_HOME=str(tmp / "prefect-watch"))
        settings = load_settings(db=home / "warehouse.duckdb", inbox=inbox)
        raised: list[float] = []
        def on_event(event: Any, raised: list[float] = raised) -> None:
            if event.event == events.ALERT_RAISED:
                raised.append(time.perf_counter())

        unsubscribe = events.subscribe(on_event)
        source = FolderSource(inbox, settle_s=settings.watch.settle_s)
        with Watcher(settings, sources=[source]) as w:
            w.wait_ready(120)
            w.wait_idle(300)
            raised.clear()
            start = time.perf_counter()
            for path in newest:
                shutil.copy(path, inbox / "ben" / (path.name + ".part"))
                os.rename(inbox / "ben" / (path.name + ".part"), inbox / "ben" / path.name)
            while not raised and time.perf_counter() - start < 120:
                time.sleep(0.01)
            w.wait_idle(120)
        unsubscribe()
        seconds.append(raised[0] - start if raised else float("inf"))
    return {"seconds": stats(seconds)}


class PrefectServer:
    """``prefect server start`` on a free loopback port with its own PREFECT_HOME (stopped on exit)."""

    def __init__(self, home: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.env = {**Variant("after", None).env(home), "PREFECT_API_URL": self.api,
                    "PREFECT_WORKER_QUERY_SECONDS": "1",
                    "PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1",
                    "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "INFO"}
        self.home = home
        self.procs: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.home / f"{name}.log").open("w")
        proc = subprocess.Popen(args, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        import signal

        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)

    def __enter__(self) -> PrefectServer:
        import httpx

        self.home.mkdir(parents=True, exist_ok=True)
        server = self.start("server", [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", str(self.port)], self.env)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"prefect server did not start: {(self.home / 'server.log').read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs):
            self.stop(proc)

    def wait_runs_finished(self, timeout: float) -> None:
        """Until no flow run is scheduled, pending or running: a run killed with its worker would
        hold the pool's one slot, and the next run's files would wait for it forever."""
        import httpx

        body = {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED", "PENDING", "RUNNING"]}}}}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not httpx.post(f"{self.api}/flow_runs/filter", json=body, timeout=10).json():
                return
            time.sleep(0.5)
        raise RuntimeError(f"flow runs still not finished after {timeout} s")

    def wait_run_for(self, path: Path, timeout: float) -> None:
        """Until a flow run for ``path`` has been created and every run has finished."""
        import httpx

        deadline = time.monotonic() + timeout
        while not any(str(path) in json.dumps(run["parameters"])
                      for run in httpx.post(f"{self.api}/flow_runs/filter", json={}, timeout=10).json()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no flow run for {path} within {timeout} s")
            time.sleep(0.2)
        self.wait_runs_finished(max(1.0, deadline - time.monotonic()))

    def first_alert(self, since: datetime, timeout: float) -> float | None:
        """When the first alert.raised since ``since`` occurred (epoch seconds), polling the server."""
        import httpx

        body = {"filter": {"event": {"name": ["alert.raised"]}, "occurred": {"since": since.isoformat()}},
                "limit": 50}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = httpx.post(f"{self.api}/events/filter", json=body, timeout=10).json()["events"]
            if found:
                return min(datetime.fromisoformat(e["occurred"].replace("Z", "+00:00")).timestamp() for e in found)
            time.sleep(0.1)
        return None


def _wait_for_text(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"no {text!r} in {path}: {path.read_text(errors='replace')[-2000:] if path.exists() else ''}")


def _seeded(tmp: Path, history: list[Path], athlete: str) -> Path:
    """A warehouse holding ben's history as ``athlete``'s. Every run has its own athlete: an
    alert.raised event's id is derived from the alert's key (athlete, rule, period), so the
    server would take the same alert of a second warehouse as the same event and drop it."""
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    db = tmp / f"seed-{athlete}" / "warehouse.duckdb"
    db.parent.mkdir(parents=True)
    with open_warehouse(db) as wh:
        ingest_paths(wh, load_settings(db=db, inbox=tmp / "unused"), history, athlete=athlete)
    return db


def _server_run(server: PrefectServer, tmp: Path, label: str, history: list[Path], newest: list[Path],
                start_consumer: Any) -> float:
    """One run: a fresh warehouse, inbox and athlete, the consumer started and warm, `tendon watch
    --server` announcing; the newest files landed -> the first alert.raised on the server, seconds."""
    run = tmp / label
    athlete = f"ben-{label}"
    seed = _seeded(tmp, history, athlete)
    folder = run / "inbox" / athlete
    folder.mkdir(parents=True)
    shutil.copy(seed, run / "warehouse.duckdb")
    env = {**server.env, "TENDON_DB": str(run / "warehouse.duckdb"), "TENDON_HOME": str(run / "home")}
    consumer = start_consumer(run, env)
    watch = server.start(f"{label}-watch", [sys.executable, "-m", "tendon_pipeline.cli", "watch", "--server", "-v",
                                            str(run / "inbox")], env)
    try:
        # warm: a file already stored, announced by the watcher and taken by the consumer (a duplicate)
        time.sleep(3)
        probe = folder / f"probe-{history[-1].name}"
        shutil.copy(history[-1], probe)
        server.wait_run_for(probe, 300)
        since = datetime.now(UTC)
        start = time.time()
        for path in newest:
            shutil.copy(path, folder / (path.name + ".part"))
            os.rename(folder / (path.name + ".part"), folder / path.name)
        first = server.first_alert(since, timeout=300)
        server.wait_runs_finished(300)  # the rest of the chain (and the flows' own events) end in this run
        return first - start if first is not None else float("inf")
    finally:
        server.stop(watch)
        server.stop(consumer)


def server_mode(tmp: Path, history: list[Path], newest: list[Path], repeat: int, per_event: int) -> dict[str, Any]:
    """Server mode, file landed -> first alert.raised: the warm worker, then the per-event deployments."""
    out: dict[str, Any] = {}
    with PrefectServer(tmp / "prefect-server") as server:
        def warm_worker(run: Path, env: dict[str, str]) -> subprocess.Popen:
            proc = server.start(f"{run.name}-worker", [sys.executable, "-m", "tendon_pipeline.cli", "worker", "-v",
                                                      str(run / "inbox")], env)
            _wait_for_text(server.home / f"{run.name}-worker.log", "caught up the inbox", 180)
            time.sleep(2)  # the start-up catch-up flow run finishes: the worker is idle and warm
            return proc

        seconds = [_server_run(server, tmp, f"warm-{n}", history, newest, warm_worker) for n in range(repeat)]
        out["warm worker file -> alert"] = {"seconds": stats(seconds)}
        if per_event:
            prefect = [sys.executable, "-m", "prefect"]
            for args in (["work-pool", "create", "tendon", "--type", "process", "--overwrite"],
                         ["work-pool", "set-concurrency-limit", "tendon", "1"],
                         ["--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"]):
                subprocess.run(prefect + args, env=server.env, cwd=REPO, check=True, capture_output=True)

            def process_worker(run: Path, env: dict[str, str]) -> subprocess.Popen:
                proc = server.start(f"{run.name}-worker", prefect + ["worker", "start", "--pool", "tendon"], env)
                _wait_for_text(server.home / f"{run.name}-worker.log", "started", 180)
                return proc

            seconds = [_server_run(server, tmp, f"per-event-{n}", history, newest, process_worker)
                       for n in range(per_event)]
            out["per-event deployments file -> alert"] = {"seconds": stats(seconds)}
    return out


# --------------------------------------------------------------------------- report


def flat(result: dict[str, Any]) -> dict[str, float]:
    """The comparable numbers: ratios to the references (lower is better) and decade seconds."""
    out = {}
    for variant, scenarios in result["variants"].items():
        for scenario, row in scenarios.items():
            if scenario == "reads":
                for name, r in row.items():
                    out[f"{variant} read {name} ratio p50"] = r["ratio"]["p50"]
            elif "ratio" in row:
                out[f"{variant} {scenario} ratio p50"] = row["ratio"]["p50"]
                out[f"{variant} {scenario} s p50"] = row["seconds"]["p50"]
            else:
                out[f"{variant} {scenario} s p50"] = row["seconds"]["p50"]
    return out


def show(result: dict[str, Any]) -> None:
    print(f"\n{'variant / scenario':<34} {'p50 s':>8} {'p95 s':>8} {'ref p50':>8} {'x ref p50':>10} {'x ref p95':>10}")
    for variant, scenarios in result["variants"].items():
        for scenario, row in scenarios.items():
            items = row.items() if scenario == "reads" else [(scenario, row)]
            for name, r in items:
                label = f"{variant} {'read ' if scenario == 'reads' else ''}{name}"
                ref = r.get("reference_s", {}).get("p50", float("nan"))
                ratio = r.get("ratio", {})
                print(f"{label:<34} {r['seconds']['p50']:>8.2f} {r['seconds']['p95']:>8.2f} {ref:>8.2f}"
                      f" {ratio.get('p50', float('nan')):>10.2f} {ratio.get('p95', float('nan')):>10.2f}")
    print("x ref: the command's time over its fresh-process reference (fitparse decode of the same files for"
          " ingest; duckdb opening the warehouse and running the query for reads), per pair of runs")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeat", type=int, default=7, help="runs of each quick figure (one-shot, reads)")
    p.add_argument("--slow-repeat", type=int, default=3, help="runs of the year ingest and its reference")
    p.add_argument("--decade", action="store_true", help="also 3,000 files (10 years) through tendon ingest")
    p.add_argument("--watcher", action="store_true", help="also the embedded watcher, file -> alert.raised")
    p.add_argument("--server", action="store_true", help="also server mode with the warm worker, file -> alert.raised")
    p.add_argument("--per-event", type=int, default=0, metavar="N",
                   help="with --server: also N runs of the per-event deployments (each takes 30-90 s)")
    p.add_argument("--only-server", action="store_true",
                   help="with --server: no other scenario (baseline: bench/latency_server_baseline.json)")
    p.add_argument("--before", type=Path, help="also measure this checkout (an older commit), same run")
    p.add_argument("--after", type=Path, help="measure this checkout as 'after' instead of the installed package"
                   " (a snapshot, e.g. git archive HEAD: the working tree may change while the benchmark runs)")
    p.add_argument("--no-after", action="store_true", help="measure only --before (not this checkout)")
    p.add_argument("--quick", action="store_true", help="repeat 3, slow-repeat 1")
    p.add_argument("--only", type=lambda v: set(v.split(",")), default={"one-shot", "year", "reads"},
                   help="comma-separated: one-shot, year, reads, watcher (default: the first three;"
                        " --decade and --watcher add theirs)")
    p.add_argument("--save-baseline", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.repeat, args.slow_repeat = 3, 1
    args.watcher = args.watcher or "watcher" in args.only
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"),
                              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                          "load_avg_start": os.getloadavg()},
                              "args": {k: str(v) for k, v in vars(args).items()}, "variants": {}}
    with tempfile.TemporaryDirectory(prefix="tendon-latency-") as name:
        tmp = Path(name)
        history, newest = make_spike(tmp / "spike")
        year = make_year(tmp / "year") if "year" in args.only and not args.only_server else []
        result["files"] = {"year": len(year), "year_mb": round(sum(p.stat().st_size for p in year) / 1e6, 2),
                           "one_shot": len(newest)}
        decade: list[Path] = []
        if args.decade:
            decade = make_year(tmp / "decade", weeks=600)
            result["files"].update(decade=len(decade), decade_mb=round(sum(p.stat().st_size for p in decade) / 1e6, 1))
        if args.watcher:  # first: it runs in this process, on the code installed now
            result["variants"]["watcher"] = {"embedded file -> alert": watcher(tmp, history, newest, args.repeat)}
        if args.server:
            result["variants"]["server"] = server_mode(tmp, history, newest, args.repeat, args.per_event)
        after = overlay(args.after, tmp / "after-pkg") if args.after else None
        variants = [] if args.no_after or args.only_server else [Variant("after", after)]
        if not args.only & {"one-shot", "year", "reads"} and not decade:  # e.g. --only watcher
            variants, args.before = [], None
        if args.before:
            variants.insert(0, Variant("before", overlay(args.before, tmp / "before-pkg")))
        for variant in variants:
            print(f"== {variant.name}", flush=True)
            variant.compile(tmp / f"seed-{variant.name}")
            variant.tendon(tmp / f"seed-{variant.name}", "ingest", "--athlete", "ben", *map(str, history))
            rows: dict[str, Any] = {}
            if "one-shot" in args.only:
                rows["one-shot ingest"] = one_shot(variant, tmp, newest, args.repeat)
            if "year" in args.only:
                rows["year ingest"] = bulk(variant, tmp, year, tmp / "year", args.slow_repeat, "year")
            if decade and variant.name == "after":  # the goal is absolute (under 20 s); before took minutes
                rows["decade ingest"] = bulk(variant, tmp, decade, tmp / "decade", 1, "decade", with_reference=False)
            if "reads" in args.only:
                home = tmp / f"reads-{variant.name}"
                shutil.copytree(tmp / f"seed-{variant.name}", home, ignore=shutil.ignore_patterns("prefect"))
                variant.tendon(home, "ingest", "--athlete", "ben", *map(str, newest))
                rows["reads"] = reads(variant, home, args.repeat)
            result["variants"][variant.name] = rows
    result["machine"]["load_avg_end"] = os.getloadavg()
    show(result)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"latency-{result['when'].replace(':', '')}.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwritten {out}")
    baseline = SERVER_BASELINE if args.only_server else BASELINE
    if baseline.exists():
        base = flat(json.loads(baseline.read_text()))
        print("\ncompared with the baseline (", baseline.name, ")")
        for key, value in flat(result).items():
            if key in base:
                print(f"  {key:<40} {value:>8.2f}  baseline {base[key]:>8.2f}")
    if args.save_baseline:
        baseline.write_text(json.dumps(result, indent=1) + "\n")
        print(f"baseline saved: {baseline}")


if __name__ == "__main__":
    main()
