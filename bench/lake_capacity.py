"""Issue 8 capacity: files/s per writer on a DuckLake warehouse (PostgreSQL catalog), 1..N writers.

Generates a steady history for each of ``--athletes`` athletes (``--weeks`` weeks each), then for
each writer count W ingests + evaluates everything with W writer processes (athletes dealt
round-robin; ``ingest_workers=1`` so one writer is one core), into a fresh lake each time. The
same files go into the embedded DuckDB file by one process for reference. Prints a table,
writes bench/results/lake-<time>.json, compares with bench/lake_baseline.json
(``--save-baseline`` replaces it). Not part of the test run.

The catalog is a throw-away PostgreSQL started from Debian's package (tests/pg_server.py),
unless ``--catalog 'dbname=... host=...'`` names an existing server (a database per run is
created in it: the role needs CREATEDB).

    .venv/bin/python bench/lake_capacity.py                 # about 2 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # pg_server: the same throw-away server the tests use


def make_inbox(root: Path, athletes: int, weeks: int) -> int:
    from tendon_pipeline.examples.generate import _file_names, example_athletes, steady_block, write_activity

    template = example_athletes()["ana"]
    end = date(2026, 11, 20)
    start = end - timedelta(days=end.weekday()) - timedelta(weeks=weeks)
    count = 0
    for i in range(athletes):
        profile = template.model_copy(update={"athlete_id": f"runner{i:03d}", "serial_number": 3_910_000_000 + i})
        specs = steady_block(profile, start, weeks, base_km=30.0 + i % 10, seed=i)
        for name, spec in zip(_file_names(specs), specs):
            write_activity(root / profile.athlete_id / name, spec)
            count += 1
    return count


def writer(env: dict[str, str], folders: list[str], start_at: float, results) -> None:
    os.environ.update(env)
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = load_settings(None, ingest_workers=1)
    time.sleep(max(0.0, start_at - time.time()))
    began = time.time()
    files = 0
    with open_warehouse(settings.location) as wh:
        for folder in folders:
            report = ingest_paths(wh, settings, [folder], athlete=Path(folder).name)
            files += report.counts()["ingested"]
            evaluate_athletes(wh, settings, [Path(folder).name])
    results.put({"files": files, "seconds": time.time() - began})


def run_writers(env: dict[str, str], folders: list[str], writers: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start_at = time.time() + 5.0
    shares = [folders[i::writers] for i in range(writers)]
    procs = [ctx.Process(target=writer, args=(env, share, start_at, results)) for share in shares]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=1800) for _ in procs]
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            raise SystemExit(f"a writer failed (exit {proc.exitcode})")
    wall = max(r["seconds"] for r in out)
    files = sum(r["files"] for r in out)
    return {"writers": writers, "files": files, "wall_s": round(wall, 2), "files_per_s": round(files / wall, 1),
            "per_writer_files_per_s": [round(r["files"] / r["seconds"], 1) for r in out]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=6)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--writers", default="1,2", help="writer counts to measure, e.g. 1,2,4")
    parser.add_argument("--catalog", help="libpq conninfo of an existing PostgreSQL (default: start one)")
    parser.add_argument("--save-baseline", action="store_true")
    args = parser.parse_args()

    from pg_server import PostgresServer
    from tendon_pipeline.warehouse.location import LakeLocation

    work = Path(tempfile.mkdtemp(prefix="tendon-lake-bench-"))
    files = make_inbox(work / "inbox", args.athletes, args.weeks)
    folders = sorted(str(p) for p in (work / "inbox").iterdir())
    print(f"{files} files, {args.athletes} athletes x {args.weeks} weeks; work dir {work}")
    server = None if args.catalog else PostgresServer().start()
    rows = []
    try:
        embedded = run_writers({"TENDON_DB": str(work / "embedded.duckdb"), "TENDON_WAREHOUSE__URL": ""}, folders, 1)
        rows.append({"warehouse": "duckdb file", **embedded})
        for count in (int(w) for w in args.writers.split(",")):
            name = f"lake_bench_{count}_{os.getpid()}"
            conninfo = server.create_database(name) if server else _create_db(args.catalog, name)
            lake = LakeLocation(conninfo=conninfo, data_path=f"{work / name}/")
            env = {"TENDON_WAREHOUSE__URL": f"ducklake:postgres:{lake.conninfo}",
                   "TENDON_WAREHOUSE__DATA_PATH": lake.data_path}
            rows.append({"warehouse": "ducklake", **run_writers(env, folders, count)})
    finally:
        if server:
            server.stop()
    for row in rows:
        print(f"{row['warehouse']:12} writers {row['writers']}: {row['files']} files in {row['wall_s']:6.1f} s"
              f" = {row['files_per_s']:6.1f} files/s (per writer {row['per_writer_files_per_s']})")
    result = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": {"cpus": os.cpu_count(),
              "python": platform.python_version()}, "athletes": args.athletes, "weeks": args.weeks, "rows": rows}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"lake-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=1))
    baseline = HERE / "lake_baseline.json"
    if baseline.exists() and not args.save_baseline:
        before = {(r["warehouse"], r["writers"]): r for r in json.loads(baseline.read_text())["rows"]}
        for row in rows:
            old = before.get((row["warehouse"], row["writers"]))
            if old:
                print(f"  vs baseline {row['warehouse']} x{row['writers']}: {old['files_per_s']} -> {row['files_per_s']}")
    if args.save_baseline:
        baseline.write_text(json.dumps(result, indent=1) + "\n")
        print(f"baseline written to {baseline}")


def _create_db(conninfo: str, name: str) -> str:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    return " ".join(p for p in conninfo.split() if not p.startswith("dbname=")) + f" dbname={name}"


if __name__ == "__main__":
    main()
