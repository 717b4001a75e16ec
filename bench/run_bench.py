"""Issue 6 benchmark: FIT decoding, end-to-end ingest into DuckDB, and rules evaluation.

One run, on the same files:

* decode -- every corpus file through the fast path and fitparse (both as ``decode_bytes``,
  the product path, and as bare message decoders), fitdecode and garmin-fit-sdk: MB/s and
  record messages/s, CPU time of this process (other load on the machine does not count);
* ingest -- generated example histories and the corpus into a fresh DuckDB file with
  ``ingest_paths``, fast path and fitparse path: files/s;
* rules -- ``domain.rules.evaluate`` over athletes with a year of generated history each:
  the time for 1,000 athletes (measured on a sample and scaled, unless --rules-sample 1000).

Prints a table, writes bench/results/bench-<time>.json and compares with bench/baseline.json
(``--save-baseline`` replaces it). Not part of the test run.

    .venv/bin/python bench/run_bench.py             # about 3 minutes on 2 cores
    .venv/bin/python bench/run_bench.py --quick     # about 1 minute, smaller samples
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "fit-corpus"
BASELINE = HERE / "baseline.json"
RESULTS = HERE / "results"
MB = 1e6


# --------------------------------------------------------------------------- decoders


def _fast_decode_bytes(data: bytes) -> int:
    return _decoded_records(data, fast=True)


def _fitparse_decode_bytes(data: bytes) -> int:
    return _decoded_records(data, fast=False)


def _decoded_records(data: bytes, fast: bool) -> int:
    from tendon_pipeline.errors import FitFileRejected, NotAnActivity
    from tendon_pipeline.fit.decode import decode_bytes

    try:
        return len(decode_bytes(data, fast=fast).records)
    except (FitFileRejected, NotAnActivity):
        return 0


def _fast_columns(data: bytes) -> int:
    """The fast path alone: record columns + the other messages' dicts (None: it falls back)."""
    from tendon_pipeline.fit.decode import _WANTED
    from tendon_pipeline.fit.fast import read_fast

    result = read_fast(data, _WANTED)
    return result.record_count if result is not None else 0


def _fitparse_messages(data: bytes) -> int:
    """fitparse as a message decoder: every message's values, as the reference path reads them."""
    import fitparse

    records = 0
    try:
        for message in fitparse.FitFile(io.BytesIO(data), check_crc=True).get_messages():
            message.get_values()
            records += message.name == "record"
    except fitparse.FitParseError:
        return records  # damaged file: the messages before the damage count
    return records


def _fitdecode_messages(data: bytes) -> int:
    import fitdecode

    records = 0
    try:
        with fitdecode.FitReader(io.BytesIO(data)) as fit:
            for frame in fit:
                if frame.frame_type == fitdecode.FIT_FRAME_DATA:
                    {f.name: f.value for f in frame.fields}
                    records += frame.name == "record"
    except fitdecode.FitError:
        return records  # damaged file: the messages before the damage count
    return records


def _garmin_sdk_messages(data: bytes) -> int:
    from garmin_fit_sdk import Decoder, Stream

    messages, _errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    return len(messages.get("record_mesgs", []))


@dataclass
class Decoder:
    name: str
    decode: Callable[[bytes], int]
    slow: bool  # a reference decoder: --slow-repeat applies
    note: str


def decoders() -> list[Decoder]:
    found = [
        Decoder("fast: decode_bytes", _fast_decode_bytes, False, "DecodedActivity (the product path)"),
        Decoder("fast: columns only", _fast_columns, False, "read_fast: record columns + message dicts"),
        Decoder("fitparse: decode_bytes", _fitparse_decode_bytes, True, "DecodedActivity, fast=False"),
        Decoder("fitparse: messages", _fitparse_messages, True, "FitFile.get_messages + get_values"),
    ]
    if _importable("fitdecode"):
        found.append(Decoder("fitdecode", _fitdecode_messages, True, "FitReader frames + field values"))
    if _importable("garmin_fit_sdk"):
        found.append(Decoder("garmin-fit-sdk", _garmin_sdk_messages, True, "Decoder.read() defaults"))
    return found


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@dataclass
class Timing:
    cpu_s: float = 0.0
    wall_s: float = 0.0
    records: int = 0

    def add(self, other: Timing) -> None:
        self.cpu_s += other.cpu_s
        self.wall_s += other.wall_s
        self.records += other.records


def _time_once(decode: Callable[[bytes], int], data: bytes) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    records = decode(data)
    return Timing(time.process_time() - cpu, time.perf_counter() - wall, records)


def _best(a: Timing | None, b: Timing) -> Timing:
    return b if a is None or b.cpu_s < a.cpu_s else a


def bench_decode(files: list[Path], repeat: int, slow_repeat: int) -> dict[str, Any]:
    """Each file through each decoder in turn (interleaved, so load spikes hit all alike).

    Per file and decoder the best of the repeats counts; totals are sums over files.
    """
    blobs = [p.read_bytes() for p in files]
    found = decoders()
    best: dict[str, list[Timing | None]] = {d.name: [None] * len(blobs) for d in found}
    for round_ in range(max(repeat, slow_repeat)):
        for i, data in enumerate(blobs):
            for d in found:
                if round_ < (slow_repeat if d.slow else repeat):
                    best[d.name][i] = _best(best[d.name][i], _time_once(d.decode, data))
    size = sum(len(b) for b in blobs)
    results = {d.name: _decode_summary(d, best[d.name], size) for d in found}
    return {"files": len(blobs), "bytes": size, "repeat": repeat, "slow_repeat": slow_repeat,
            "decoders": results, "speedup": _speedups(results)}


def _decode_summary(d: Decoder, per_file: list[Timing | None], size: int) -> dict[str, Any]:
    total = Timing()
    for timing in per_file:
        total.add(timing)
    return {"note": d.note, "cpu_s": total.cpu_s, "wall_s": total.wall_s, "records": total.records,
            "mb_per_s": size / MB / total.cpu_s, "records_per_s": total.records / total.cpu_s}


def _speedups(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    fast, ref = results["fast: decode_bytes"], results["fitparse: decode_bytes"]
    out = {"decode_bytes fast / fitparse (MB/s)": fast["mb_per_s"] / ref["mb_per_s"],
           "fast columns / fitparse messages (MB/s)":
               results["fast: columns only"]["mb_per_s"] / results["fitparse: messages"]["mb_per_s"]}
    for other in ("fitdecode", "garmin-fit-sdk"):
        if other in results:
            out[f"decode_bytes fast / {other} (MB/s)"] = fast["mb_per_s"] / results[other]["mb_per_s"]
    return out


# --------------------------------------------------------------------------- ingest


@contextmanager
def _isolated_env(tmp: Path) -> Iterator[None]:
    """No user config or TENDON_* variables leak into the benchmark's settings."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith("TENDON_")]:
        del os.environ[key]
    os.environ.update({"XDG_CONFIG_HOME": str(tmp / "xdg"), "TENDON_HOME": str(tmp / "home")})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _decode_path(fast: bool) -> Iterator[None]:
    """Make ingest use the fast path or the fitparse path."""
    import tendon_pipeline.app.ingest.decision as ingest
    from tendon_pipeline.fit.decode import decode_bytes

    original = ingest.decode_bytes
    ingest.decode_bytes = functools.partial(decode_bytes, fast=fast)
    try:
        yield
    finally:
        ingest.decode_bytes = original


def _ingest_once(inbox: Path, tmp: Path, fast: bool, athlete: str | None) -> dict[str, Any]:
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    db = tmp / f"bench-{'fast' if fast else 'fitparse'}-{inbox.name}.duckdb"
    settings = load_settings(db=db, inbox=inbox)
    if not fast:  # the fitparse patch reaches this process only, not spawned decode workers
        settings = settings.model_copy(update={"ingest_workers": 1})
    with _decode_path(fast), open_warehouse(db) as warehouse:
        wall, cpu = time.perf_counter(), time.process_time()
        report = ingest_paths(warehouse, settings, [inbox], athlete=athlete)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stored = int(warehouse.query("SELECT count(*) AS n FROM records").iloc[0, 0])
    files = len(report.outcomes)
    workers = settings.ingest_workers or os.cpu_count() or 1
    return {"files": files, "workers": workers if files >= 16 else 1,
            "outcomes": report.counts(), "records_stored": stored, "cpu_s": cpu,
            "wall_s": wall, "files_per_s": files / wall, "records_per_s": stored / wall}


def bench_ingest(corpus: Path | None, weeks: int, with_reference: bool) -> dict[str, Any]:
    from tendon_pipeline.examples.generate import generate_example_inbox

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tendon-bench-") as name, _isolated_env(Path(name)):
        tmp = Path(name)
        generated = tmp / "inbox"
        paths = generate_example_inbox(generated, weeks=weeks, end=date(2025, 6, 1))
        sets = {"generated": (generated, None, sum(p.stat().st_size for p in paths))}
        if corpus is not None:
            sets["corpus"] = (corpus, "corpus", sum(p.stat().st_size for p in _fit_files(corpus)))
        for label, (inbox, athlete, size) in sets.items():
            for fast in (True, False) if with_reference else (True,):
                row = _ingest_once(inbox, tmp, fast, athlete)
                row["mb_per_s"] = size / MB / row["wall_s"]
                out[f"{label}, {'fast' if fast else 'fitparse'} path"] = row
    return out


# --------------------------------------------------------------------------- rules

try:
    from tendon_pipeline.domain.rules import evaluate as _evaluate_rules
except ImportError:  # TODO(issue 6): rules not importable yet -- the rules part is skipped until it is
    _evaluate_rules = None


def _athlete_specs(index: int, start_monday: date, weeks: int) -> tuple[Any, list[Any]]:
    """One generated athlete: a year of runs and calf-raise sessions, some ending in a spike."""
    from tendon_pipeline.examples import generate as g

    profile = g.AthleteProfile(
        athlete_id=f"a{index:04d}", body_mass_kg=55.0 + index % 35, cadence_spm=160.0 + index % 25,
        easy_pace_s_per_km=300.0 + (index * 7) % 90, serial_number=3_900_000_000 + index,
    )
    base = 20.0 + (index * 13) % 40
    scenario = index % 5
    if scenario == 1:
        return profile, g.volume_spike(profile, start_monday, weeks, base_km=base, seed=index)
    if scenario == 2:
        return profile, g.long_run_spike(profile, start_monday, weeks, base_km=base, seed=index)
    if scenario == 3:
        return profile, g.no_strength(profile, start_monday, weeks, base_km=base, seed=index)
    km = g.progressive_weekly_km(weeks, base_km=base)
    return profile, g.weekly_plan_history(profile, km, start_monday, seed=index)


def _history(profile: Any, specs: list[Any]) -> Any:
    """The AthleteHistory the warehouse would build for these activities (cadence-based loads)."""
    from tendon_pipeline.domain.models import AthleteHistory, PainEntry, StrengthEntry
    from tendon_pipeline.examples.generate import expected_run_summary

    athlete = profile.athlete_id
    runs, strength, pain = [], [], []
    for i, spec in enumerate(specs):
        day = spec.local_start.date()
        if spec.strength_sets:
            strength += _strength_entries(athlete, day, spec, StrengthEntry)
            continue
        runs.append(expected_run_summary(athlete, f"{athlete}-{i}", spec))
        if i % 9 == 0:
            pain.append(PainEntry(athlete_id=athlete, local_date=day, during=i % 4, next_morning=i % 3))
    return AthleteHistory(athlete_id=athlete, body_mass_kg=profile.body_mass_kg, runs=runs,
                          strength=strength, pain=pain)


def _strength_entries(athlete: str, day: date, spec: Any, entry: type) -> list[Any]:
    raises = [s for s in spec.strength_sets if s.category == "calf_raise" and (s.repetitions or 0) > 1]
    holds = [s for s in spec.strength_sets if s.category == "calf_raise" and (s.repetitions or 0) <= 1]
    out = []
    if raises:
        out.append(entry(athlete_id=athlete, local_date=day, exercise="calf_raise", kind="strength",
                         sets=len(raises), reps=raises[0].repetitions, load_kg=raises[0].weight_kg, source="fit"))
    if holds:
        out.append(entry(athlete_id=athlete, local_date=day, exercise="isometric_calf_raise_hold",
                         kind="isometric", sets=len(holds), seconds=holds[0].duration_s,
                         load_kg=holds[0].weight_kg, source="fit"))
    return out


def bench_rules(athletes: int, sample: int, weeks: int) -> dict[str, Any]:
    if _evaluate_rules is None:
        return {"skipped": "tendon_pipeline.domain.rules.evaluate is not importable yet (TODO hook)"}
    from tendon_pipeline.domain.thresholds import RuleThresholds

    start = date(2025, 1, 6)
    as_of = start + timedelta(weeks=weeks, days=-1)  # the Sunday ending the last week
    # every scenario (index % 5) in the sample: evenly spread, then shifted by i so a stride
    # that is a multiple of 5 does not pick one scenario only
    chosen = sorted({(round(i * athletes / sample) + i) % athletes for i in range(sample)})
    build = evaluate_cpu = evaluate_wall = 0.0
    alerts = runs = 0
    thresholds = RuleThresholds()
    for index in chosen:
        t0 = time.process_time()
        history = _history(*_athlete_specs(index, start, weeks))
        build += time.process_time() - t0
        wall, cpu = time.perf_counter(), time.process_time()
        alerts += len(_evaluate_rules(history, thresholds, as_of))
        evaluate_cpu += time.process_time() - cpu
        evaluate_wall += time.perf_counter() - wall
        runs += len(history.runs)
    per_athlete = evaluate_cpu / len(chosen)
    return {"athletes": athletes, "measured_athletes": len(chosen), "weeks": weeks,
            "runs_per_athlete": runs / len(chosen), "alerts": alerts,
            "history_build_cpu_s": build, "evaluate_cpu_s": evaluate_cpu, "evaluate_wall_s": evaluate_wall,
            "cpu_s_per_athlete": per_athlete, "cpu_s_for_all": per_athlete * athletes,
            "scaled": len(chosen) < athletes}


# --------------------------------------------------------------------------- report


def _fit_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".fit")


def metrics(result: dict[str, Any]) -> dict[str, float]:
    """The figures compared with the baseline (higher is better unless the name says _s)."""
    out: dict[str, float] = {}
    for name, row in result.get("decode", {}).get("decoders", {}).items():
        out[f"decode {name} MB/s"] = row["mb_per_s"]
        out[f"decode {name} records/s"] = row["records_per_s"]
    for name, value in result.get("decode", {}).get("speedup", {}).items():
        out[f"speedup {name}"] = value
    for name, row in result.get("ingest", {}).items():
        out[f"ingest {name} files/s"] = row["files_per_s"]
    rules = result.get("rules", {})
    if "cpu_s_for_all" in rules:
        out[f"rules {rules['athletes']} athletes x {rules['weeks']} weeks cpu_s"] = rules["cpu_s_for_all"]
    return out


def print_report(result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    decode = result.get("decode")
    if decode:
        print(f"\nDecode: {decode['files']} corpus files, {decode['bytes'] / MB:.2f} MB, CPU time, "
              f"best of {decode['repeat']} (reference decoders: {decode['slow_repeat']})")
        print(f"  {'decoder':26s} {'MB/s':>9s} {'records/s':>11s} {'cpu s':>8s} {'records':>8s}  what")
        for name, row in decode["decoders"].items():
            print(f"  {name:26s} {row['mb_per_s']:9.3f} {row['records_per_s']:11.0f} {row['cpu_s']:8.3f} "
                  f"{row['records']:8d}  {row['note']}")
        for name, value in decode["speedup"].items():
            print(f"  speed-up {name}: {value:.1f}x")
    if result.get("ingest"):
        print("\nIngest into DuckDB (wall time, ingest_paths end to end)")
        print(f"  {'set':28s} {'files':>6s} {'workers':>7s} {'files/s':>9s} {'MB/s':>8s} {'records/s':>10s}  outcomes")
        for name, row in result["ingest"].items():
            print(f"  {name:28s} {row['files']:6d} {row.get('workers', 1):7d} {row['files_per_s']:9.2f} "
                  f"{row['mb_per_s']:8.2f} {row['records_per_s']:10.0f}  {row['outcomes']}")
    rules = result.get("rules")
    if rules:
        print("\nRules (domain.rules.evaluate, CPU time)")
        if "skipped" in rules:
            print(f"  skipped: {rules['skipped']}")
        else:
            how = f"scaled from {rules['measured_athletes']} measured" if rules["scaled"] else "all measured"
            print(f"  {rules['athletes']} athletes x {rules['weeks']} weeks ({rules['runs_per_athlete']:.0f} runs each): "
                  f"{rules['cpu_s_for_all']:.1f} s ({how}; {rules['cpu_s_per_athlete'] * 1000:.0f} ms per athlete)")
    if baseline:
        _print_comparison(metrics(result), metrics(baseline), baseline.get("meta", {}))


def _print_comparison(now: dict[str, float], then: dict[str, float], meta: dict[str, Any]) -> None:
    print(f"\nAgainst the baseline ({meta.get('when', '?')}, {meta.get('machine', '?')}):")
    for name, value in now.items():
        if name in then and then[name]:
            ratio = value / then[name]
            better = ratio >= 1 if not name.endswith("cpu_s") else ratio <= 1
            print(f"  {name:62s} {value:12.3f} vs {then[name]:12.3f}  x{ratio:5.2f} {'' if better else '(worse)'}")


def meta() -> dict[str, Any]:
    import duckdb
    import numpy
    import pandas

    return {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus, {platform.system()} {platform.release()}",
        "python": sys.version.split()[0], "numpy": numpy.__version__, "pandas": pandas.__version__,
        "duckdb": duckdb.__version__, "load_average_at_start": list(os.getloadavg()),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder of .fit files")
    p.add_argument("--repeat", type=int, default=5, help="repeats of the fast decoders (best counts)")
    p.add_argument("--slow-repeat", type=int, default=1, help="repeats of fitparse, fitdecode, garmin-fit-sdk")
    p.add_argument("--ingest-weeks", type=int, default=4, help="weeks of generated example history to ingest")
    p.add_argument("--no-reference-ingest", action="store_true", help="ingest with the fast path only")
    p.add_argument("--athletes", type=int, default=1000)
    p.add_argument("--rules-sample", type=int, default=20, help="athletes actually evaluated (then scaled)")
    p.add_argument("--weeks", type=int, default=52, help="weeks of history per athlete for the rules")
    p.add_argument("--quick", action="store_true", help="repeat 2, no fitparse ingest, 5 athletes")
    p.add_argument("--skip", action="append", default=[], choices=["decode", "ingest", "rules"])
    p.add_argument("--baseline", type=Path, default=BASELINE)
    p.add_argument("--save-baseline", action="store_true", help=f"also write the result to {BASELINE.name}")
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.no_reference_ingest, args.rules_sample = 2, True, 5
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore")  # the reference decoders warn about damaged corpus files
    corpus = args.corpus if args.corpus.is_dir() else None
    if corpus is None:
        print(f"no corpus at {args.corpus}: decode benchmark skipped, ingest on generated files only")
    result: dict[str, Any] = {"meta": meta(), "args": {k: str(v) for k, v in vars(args).items()}}
    if "decode" not in args.skip and corpus is not None:
        result["decode"] = bench_decode(_fit_files(corpus), args.repeat, args.slow_repeat)
    if "ingest" not in args.skip:
        result["ingest"] = bench_ingest(corpus, args.ingest_weeks, not args.no_reference_ingest)
    if "rules" not in args.skip:
        result["rules"] = bench_rules(args.athletes, min(args.rules_sample, args.athletes), args.weeks)
    baseline = json.loads(args.baseline.read_text()) if args.baseline.exists() else None
    print_report(result, baseline)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nsaved {out.relative_to(REPO)}")
    if args.save_baseline:
        args.baseline.write_text(json.dumps(result, indent=1, default=str))
        print(f"baseline written: {args.baseline.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
