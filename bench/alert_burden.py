"""Alert burden and recall on the project's cohort (issue 15).

    .venv/bin/python bench/alert_burden.py                 # 10 athletes x 52 weeks, tables
    .venv/bin/python bench/alert_burden.py --json          # the same as JSON on stdout
    .venv/bin/python bench/alert_burden.py --out /tmp/cohort   # keep (and reuse) the FIT files
    .venv/bin/python bench/alert_burden.py --out /tmp/cohort --reuse-ingest  # and the ingested warehouse
    .venv/bin/python bench/alert_burden.py --save-baseline # replace bench/alert_burden_baseline.json

Generates the cohort (:mod:`tendon_pipeline.examples.cohort`) as FIT files, ingests them into a fresh
DuckDB warehouse with ``ingest_paths``, then replays the year as runners would live it: every
Sunday, in date order, the week's hand-logged tendon sessions and pain reports are stored
with the warehouse functions the CLI uses, and every athlete is evaluated as of that Sunday
(``evaluate_athlete``), so insert-once alerts are counted as production stores them. The rules
see nothing after ``as_of`` (``HistoryFacts`` cuts the history there), so ingesting all files
first gives the same alerts as ingesting week by week, faster. For the same reason run loads
(per-run steps and tendon load from the records: they depend on records and thresholds, not on
``as_of``) are computed once per athlete instead of at every evaluation; ``--live-loads``
recomputes them every time as production does (same alerts, about three times slower).

Figures: alerts per athlete-week by rule and severity for healthy and risky athletes; recall on
the labelled weeks (a label is flagged by an alert of caution or worse, of a rule in its
cause, dated in the labelled ISO week or the 7 days after it); incidents (alerts of one athlete,
ISO week and cause) against alerts; coach messages (evaluations with a new caution-or-worse
alert) per athlete-week. Targets from issue 15 are printed with PASS/FAIL.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tendon_pipeline.examples.cohort import COHORT_VERSION, LABEL_DEFINITIONS, Cohort, build_cohort, write_cohort

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "alert_burden_baseline.json"
SEVERITY_RANK = {"info": 0, "caution": 1, "warning": 2, "high": 3}

# The one table: which rules speak to which cause. Alerts of one athlete, ISO week and cause are
# one incident; a labelled week is flagged by an alert of a rule in its label's cause. A rule not
# listed here is its own cause and flags no label (the run prints it: add it to the table).
CAUSES: dict[str, frozenset[str]] = {
    "progression": frozenset({"weekly_volume_increase", "tendon_load_increase", "acwr"}),
    "run_spike": frozenset({"session_spike"}),
    "monotony": frozenset({"monotony"}),
    "tendon_work": frozenset({"tendon_loading_frequency", "tendon_loading_intensity", "plyometric_balance"}),
    "pain": frozenset({"pain_monitoring.during", "pain_monitoring.next_morning", "pain_monitoring.rising",
                       "pain_monitoring.visa_a"}),
}
LABEL_CAUSE: dict[str, str] = {"ramp": "progression", "long_run": "run_spike", "no_tendon_work": "tendon_work",
                               "pain": "pain"}
FLAG_WINDOW_DAYS = 14  # the labelled ISO week (7 days) and the 7 days after it

TARGETS = {  # issue 15
    "healthy_caution_or_worse_per_athlete_week": ("<=", 0.25),
    "healthy_warning_or_worse_per_athlete_week": ("<=", 0.08),
    "recall_every_labelled_week": ("==", 1.0),
}


def _library(name: str):
    """The use-case function the bench drives, by name."""
    from tendon_pipeline.app.evaluate import evaluate_athlete
    from tendon_pipeline.app.ingest import ingest_paths

    return {"ingest_paths": ingest_paths, "evaluate_athlete": evaluate_athlete}[name]


def cause_of(rule: str) -> str:
    return next((cause for cause, rules in CAUSES.items() if rule in rules), rule)


def _log(message: str) -> None:
    print(f"[alert_burden {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- result


@dataclass
class BurdenResult:
    """Everything the run measured; ``to_dict`` is the JSON output."""

    meta: dict[str, Any]
    athletes: dict[str, list[str]]  # group -> athlete ids
    athlete_weeks: dict[str, int]  # group -> athletes x weeks
    alerts: dict[str, dict[str, dict[str, int]]]  # group -> rule -> severity -> count
    rates: dict[str, dict[str, float]]  # group -> caution_or_worse / warning_or_worse / messages per athlete-week
    incidents: dict[str, dict[str, int]]  # group -> {"alerts": n caution+, "incidents": n}
    recall: dict[str, dict[str, Any]]  # label kind -> labelled, flagged, recall, missed
    targets: dict[str, dict[str, Any]]
    unmapped_rules: list[str]
    per_athlete: dict[str, dict[str, int]]  # athlete -> caution_or_worse / warning_or_worse / labels
    timings_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- pipeline


def cohort_files(cohort: Cohort, out: Path | None) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """The cohort's files: under ``out`` (reused when a complete copy for the same seed, weeks,
    athletes and generator version is there), else in a temporary directory."""
    holder = None
    if out is None:
        holder = tempfile.TemporaryDirectory(prefix="tendon-cohort-")
        root = Path(holder.name)
    else:
        names = "-".join(a.athlete_id for a in cohort.athletes)
        root = Path(out) / f"seed{cohort.seed}-w{cohort.weeks}-v{COHORT_VERSION}-{names}"
    marker = root / "COMPLETE"
    if marker.exists():
        _log(f"reusing cohort files in {root}")
        return root, holder
    started = time.perf_counter()
    count = sum(len(a.activities) for a in cohort.athletes)
    _log(f"writing {count} FIT files for {len(cohort.athletes)} athletes x {cohort.weeks} weeks to {root}")
    write_cohort(cohort, root)
    marker.write_text(datetime.now(UTC).isoformat())
    _log(f"wrote the cohort in {time.perf_counter() - started:.1f} s")
    return root, holder


def _settings(root: Path, db: Path, cohort: Cohort, config: Path | None, ingest_workers: int | None):
    from tendon_pipeline.config.settings import AthleteConfig, load_settings

    athletes = [AthleteConfig(id=a.athlete_id, body_mass_kg=a.profile.body_mass_kg) for a in cohort.athletes]
    return load_settings(config, db=db, inbox=root / "inbox", athletes=athletes, ingest_workers=ingest_workers)


@contextmanager
def loads_once(evaluate_module) -> Iterator[bool]:
    """Within the block, the evaluation module's ``compute_run_loads`` runs once per athlete (no
    file is ingested during the replay, so a second run would store the same rows). Yields
    False, changing nothing, when the module has no such name."""
    original = getattr(evaluate_module, "compute_run_loads", None)
    if original is None:
        yield False
        return
    done: dict[str, object] = {}

    def once(warehouse, athlete_id: str, *args, **kwargs):
        if athlete_id not in done:  # the first result is returned again: the same rows
            done[athlete_id] = original(warehouse, athlete_id, *args, **kwargs)
        return done[athlete_id]

    evaluate_module.compute_run_loads = once
    try:
        yield True
    finally:
        evaluate_module.compute_run_loads = original


def enter_races(warehouse, settings, cohort: Cohort) -> int:
    """Enter every athlete's races before the replay, as a runner does on signing up
    (``tendon log race``: the race log of issue 15, migration 0005). Returns how many."""
    from tendon_pipeline.domain.models import RaceEntry
    from tendon_pipeline.warehouse.history import log_race

    entered = 0
    for athlete in cohort.athletes:
        warehouse.ensure_athlete(athlete.athlete_id)
        for race in athlete.races:
            log_race(warehouse, RaceEntry(athlete_id=race.athlete_id, local_date=race.local_date,
                                          distance_km=race.distance_km, priority=race.priority))
            entered += 1
    return entered


def _store_logs(warehouse, athlete, monday: date) -> None:
    from tendon_pipeline.domain.models import PainEntry, StrengthEntry
    from tendon_pipeline.warehouse.history import log_pain, log_strength

    sunday = monday + timedelta(days=6)
    for s in athlete.strength_logs:
        if monday <= s.local_date <= sunday:
            log_strength(warehouse, StrengthEntry(
                athlete_id=s.athlete_id, local_date=s.local_date, exercise=s.exercise,
                kind=s.kind, sets=s.sets, reps=s.reps, seconds=s.seconds,
                load_kg=s.load_kg))
    for p in athlete.pain_logs:
        if monday <= p.local_date <= sunday:
            log_pain(warehouse, PainEntry(athlete_id=p.athlete_id, local_date=p.local_date, during=p.during,
                                          next_morning=p.next_morning))


def _ingest_key() -> str:
    """What decides the rows ingest stores: the FIT decoder, the warehouse code and migrations,
    and the ingest module (wherever the package keeps them)."""
    import tendon_pipeline

    ingest_paths = _library("ingest_paths")
    package = Path(tendon_pipeline.__file__).parent
    files = sorted(p for folder in ("fit", "warehouse") for p in (package / folder).rglob("*")
                   if p.suffix in (".py", ".sql"))
    files.append(Path(sys.modules[ingest_paths.__module__].__file__))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ingest(root: Path, db: Path, settings, *, reuse: bool) -> float | None:
    """Ingest the cohort's inbox into the fresh warehouse ``db``; returns the seconds it took
    (None when a copy was used).

    With ``reuse``, a copy of the warehouse a previous run ingested from the same files with the
    same ingest code (:func:`_ingest_key`) is used instead, and one is saved for the next run."""
    from tendon_pipeline.warehouse.store import open_warehouse

    ingest_paths = _library("ingest_paths")
    cached = root / f"ingested-{_ingest_key()}.duckdb"
    if reuse and cached.exists():
        shutil.copyfile(cached, db)
        _log(f"copied the ingested warehouse {cached.name} (--reuse-ingest)")
        return None
    started = time.perf_counter()
    with open_warehouse(settings.location) as wh:
        report = ingest_paths(wh, settings, [root / "inbox"])
        wh.con.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    problems = report.problems()
    if problems:
        raise RuntimeError(f"{len(problems)} cohort file(s) not ingested, first: {problems[0]}")
    _log(f"ingested {len(report.outcomes)} files in {seconds:.1f} s")
    if reuse:
        shutil.copyfile(db, cached.with_suffix(".tmp"))
        cached.with_suffix(".tmp").replace(cached)
    return seconds


def replay(cohort: Cohort, root: Path, *, config: Path | None = None, live_loads: bool = False,
           ingest_workers: int | None = None,
           reuse_ingest: bool = False) -> tuple[list, Counter[str], dict[str, float]]:
    """Ingest the files into a fresh warehouse and evaluate every Sunday; returns the stored
    alerts, the number of coach messages (evaluations with a new caution-or-worse alert) per
    athlete, and timings."""
    from tendon_pipeline.warehouse.history import read_alerts
    from tendon_pipeline.warehouse.store import open_warehouse

    evaluate_athlete = _library("evaluate_athlete")
    timings: dict[str, float] = {}
    messages: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="tendon-burden-") as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        settings = _settings(root, db, cohort, config, ingest_workers)
        seconds = ingest(root, db, settings, reuse=reuse_ingest)
        if seconds is not None:
            timings["ingest"] = seconds
        evaluate_module = importlib.import_module(evaluate_athlete.__module__)
        shortcut = nullcontext(False) if live_loads else loads_once(evaluate_module)
        with open_warehouse(settings.location) as wh, shortcut as once:
            _log(f"races entered: {enter_races(wh, settings, cohort)}; run loads computed "
                 + ("once per athlete" if once else "at every evaluation"))
            started = time.perf_counter()
            for number, sunday in enumerate(cohort.sundays, start=1):
                for athlete in cohort.athletes:
                    _store_logs(wh, athlete, sunday - timedelta(days=6))
                    result = evaluate_athlete(wh, settings, athlete.athlete_id, as_of=sunday,
                                              evaluation_id=f"replay-{sunday.isoformat()}")
                    if any(SEVERITY_RANK[a.severity] >= 1 for a in result.new_alerts):
                        messages[athlete.athlete_id] += 1
                if number % 8 == 0 or number == len(cohort.sundays):
                    _log(f"replayed week {number}/{len(cohort.sundays)} (as of {sunday}), "
                         f"{time.perf_counter() - started:.0f} s")
            timings["replay"] = time.perf_counter() - started
            alerts = read_alerts(wh)
    return alerts, messages, timings


# --------------------------------------------------------------------------- figures


def _flagged(label, alerts_by_athlete: dict[str, list]) -> bool:
    rules = CAUSES[LABEL_CAUSE[label.kind]]
    end = label.week + timedelta(days=FLAG_WINDOW_DAYS)
    return any(a.rule in rules and SEVERITY_RANK[a.severity] >= 1 and label.week <= a.date < end
               for a in alerts_by_athlete.get(label.athlete_id, []))


def _recall(cohort: Cohort, alerts_by_athlete: dict[str, list]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for kind in LABEL_DEFINITIONS:
        labels = [lab for a in cohort.athletes for lab in a.labels if lab.kind == kind]
        missed = [f"{lab.athlete_id} {lab.week.isocalendar()[0]}-W{lab.week.isocalendar()[1]:02d}"
                  for lab in labels if not _flagged(lab, alerts_by_athlete)]
        flagged = len(labels) - len(missed)
        out[kind] = {"labelled": len(labels), "flagged": flagged,
                     "recall": round(flagged / len(labels), 3) if labels else None,
                     "relevant_rules": sorted(CAUSES[LABEL_CAUSE[kind]]), "missed": missed}
    return out


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def summarise(cohort: Cohort, alerts: list, messages: Counter[str], timings: dict[str, float],
              meta: dict[str, Any]) -> BurdenResult:
    group_of = {a.athlete_id: a.group for a in cohort.athletes}
    groups = {g: [a.athlete_id for a in cohort.athletes if a.group == g] for g in ("healthy", "risky")}
    athlete_weeks = {g: len(ids) * cohort.weeks for g, ids in groups.items()}
    by_rule: dict[str, dict[str, Counter[str]]] = {g: defaultdict(Counter) for g in groups}
    incidents: dict[str, set] = {g: set() for g in groups}
    serious: Counter[str] = Counter()
    worst: Counter[str] = Counter()
    by_athlete: dict[str, list] = defaultdict(list)
    for a in alerts:
        group = group_of[a.athlete_id]
        by_athlete[a.athlete_id].append(a)
        by_rule[group][a.rule][a.severity] += 1
        if SEVERITY_RANK[a.severity] >= 1:
            serious[group] += 1
            incidents[group].add((a.athlete_id, _iso_week(a.date), cause_of(a.rule)))
        if SEVERITY_RANK[a.severity] >= 2:
            worst[group] += 1
    rates = {g: {"caution_or_worse": _rate(serious[g], athlete_weeks[g]),
                 "warning_or_worse": _rate(worst[g], athlete_weeks[g]),
                 "incidents": _rate(len(incidents[g]), athlete_weeks[g]),
                 "coach_messages": _rate(sum(messages[i] for i in groups[g]), athlete_weeks[g])}
             for g in groups}
    recall = _recall(cohort, by_athlete)
    return BurdenResult(
        meta=meta, athletes=groups, athlete_weeks=athlete_weeks,
        alerts={g: {rule: dict(sev) for rule, sev in sorted(rules.items())} for g, rules in by_rule.items()},
        rates=rates, incidents={g: {"alerts": serious[g], "incidents": len(incidents[g])} for g in groups},
        recall=recall, targets=_targets(rates, recall),
        unmapped_rules=sorted({a.rule for a in alerts} - set().union(*CAUSES.values())),
        per_athlete={a.athlete_id: _athlete_figures(a, by_athlete[a.athlete_id]) for a in cohort.athletes},
        timings_s={k: round(v, 1) for k, v in timings.items()})


def _athlete_figures(athlete, alerts: list) -> dict[str, int]:
    return {"caution_or_worse": sum(SEVERITY_RANK[a.severity] >= 1 for a in alerts),
            "warning_or_worse": sum(SEVERITY_RANK[a.severity] >= 2 for a in alerts),
            "labelled_weeks": len({label.week for label in athlete.labels})}


def _rate(count: int, weeks: int) -> float | None:
    return round(count / weeks, 3) if weeks else None


def _targets(rates: dict, recall: dict) -> dict[str, dict[str, Any]]:
    labelled = sum(r["labelled"] for r in recall.values())
    flagged = sum(r["flagged"] for r in recall.values())
    values = {
        "healthy_caution_or_worse_per_athlete_week": rates.get("healthy", {}).get("caution_or_worse"),
        "healthy_warning_or_worse_per_athlete_week": rates.get("healthy", {}).get("warning_or_worse"),
        "recall_every_labelled_week": round(flagged / labelled, 3) if labelled else None,
    }
    out = {}
    for name, (op, target) in TARGETS.items():
        value = values[name]
        ok = value is not None and (value <= target if op == "<=" else value == target)
        out[name] = {"value": value, "target": f"{op} {target}", "pass": ok}
    return out


def run(cohort: Cohort, *, out: Path | None = None, config: Path | None = None, live_loads: bool = False,
        ingest_workers: int | None = None, reuse_ingest: bool = False) -> BurdenResult:
    """The whole pipeline: files (generated or reused), ingest, replay, figures."""
    started = time.perf_counter()
    root, holder = cohort_files(cohort, out)
    try:
        generated = time.perf_counter() - started
        alerts, messages, timings = replay(cohort, root, config=config, live_loads=live_loads,
                                           ingest_workers=ingest_workers, reuse_ingest=reuse_ingest)
    finally:
        if holder is not None:
            holder.cleanup()
    timings = {"files": generated, **timings, "total": time.perf_counter() - started}
    meta = {**_meta(cohort), "live_loads": live_loads,
            "ingest": "fresh" if "ingest" in timings else "copy of an earlier run's (--reuse-ingest)"}
    return summarise(cohort, alerts, messages, timings, meta)


def _meta(cohort: Cohort) -> dict[str, Any]:
    return {"when": datetime.now(UTC).isoformat(timespec="seconds"), "git_commit": _git("rev-parse", "HEAD"),
            "engine_commit": _git("log", "-1", "--format=%H", "--", "src/tendon_pipeline",
                                  ":(exclude)src/tendon_pipeline/cohort.py", ":(exclude)src/tendon_pipeline/examples"),
            "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "machine": f"{platform.machine()} {platform.system()} python {platform.python_version()}",
            "seed": cohort.seed, "weeks": cohort.weeks, "start": cohort.start.isoformat(),
            "cohort_version": COHORT_VERSION, "flag_window_days": FLAG_WINDOW_DAYS,
            "label_definitions": LABEL_DEFINITIONS, "causes": {k: sorted(v) for k, v in CAUSES.items()},
            "label_cause": LABEL_CAUSE}


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True, check=True)
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------- printing


def _baseline_for(result: BurdenResult) -> dict | None:
    if not BASELINE.exists():
        return None
    base = json.loads(BASELINE.read_text())
    same = all(base["meta"].get(k) == result.meta[k] for k in ("seed", "weeks", "cohort_version"))
    return base if same and base["athletes"] == result.athletes else None


def render(result: BurdenResult, baseline: dict | None = None) -> str:
    lines = [f"cohort: seed {result.meta['seed']}, {result.meta['weeks']} weeks; "
             + "; ".join(f"{g}: {', '.join(ids)}" for g, ids in result.athletes.items())]
    if baseline:
        lines.append(f"baseline: {BASELINE.name} (commit {baseline['meta']['git_commit'][:10]})")
    lines += ["", "alerts per athlete-week (caution+ / warning+), by rule and severity"]
    for group, rules in result.alerts.items():
        weeks = result.athlete_weeks[group]
        lines.append(f"  {group} ({weeks} athlete-weeks)")
        for rule, severities in rules.items():
            parts = ", ".join(f"{s} {n} ({n / weeks:.3f})" for s, n in sorted(severities.items(),
                                                                                  key=lambda i: SEVERITY_RANK[i[0]]))
            lines.append(f"    {rule:32s} {parts}")
        rates = result.rates[group]
        before = (baseline or {}).get("rates", {}).get(group, {})
        for name in ("caution_or_worse", "warning_or_worse", "incidents", "coach_messages"):
            was = f"   (baseline {before[name]:.3f})" if before.get(name) is not None else ""
            lines.append(f"    = {name:30s} {rates[name]:.3f}{was}")
        inc = result.incidents[group]
        lines.append(f"    = {inc['alerts']} caution+ alerts are {inc['incidents']} incidents"
                     " (athlete, ISO week, cause)")
    lines += ["", "per athlete (caution+ / warning+ alerts, labelled weeks): " + "; ".join(
        f"{a} {f['caution_or_worse']}/{f['warning_or_worse']}/{f['labelled_weeks']}"
        for a, f in result.per_athlete.items())]
    lines += ["", f"recall on labelled weeks (caution+ alert of a relevant rule in the week or the "
                  f"{result.meta['flag_window_days'] - 7} days after)"]
    for kind, r in result.recall.items():
        was = (baseline or {}).get("recall", {}).get(kind, {}).get("recall")
        value = "n/a" if r["recall"] is None else f"{r['recall']:.3f}"
        lines.append(f"  {kind:15s} {r['flagged']:3d}/{r['labelled']:<3d} = {value}"
                     + (f"   (baseline {was:.3f})" if was is not None else "")
                     + (f"   missed: {', '.join(r['missed'][:8])}{' ...' if len(r['missed']) > 8 else ''}"
                        if r["missed"] else ""))
    lines += ["", "targets (issue 15)"]
    for name, t in result.targets.items():
        lines.append(f"  {'PASS' if t['pass'] else 'FAIL'}  {name:45s} {t['value']}  (target {t['target']})")
    if result.unmapped_rules:
        lines.append(f"\nrules not in CAUSES (own cause, flag no label): {', '.join(result.unmapped_rules)}")
    lines.append("\ntimings (s): " + ", ".join(f"{k} {v}" for k, v in result.timings_s.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--athletes", help="comma-separated persona ids (default: all ten)")
    parser.add_argument("--out", type=Path, help="keep the cohort's files here and reuse them next time")
    parser.add_argument("--config", type=Path, help="a tendon config TOML (e.g. other [rules] thresholds)")
    parser.add_argument("--live-loads", action="store_true",
                        help="recompute run loads at every evaluation, as production does (slower, same alerts)")
    parser.add_argument("--reuse-ingest", action="store_true",
                        help="with --out: start from a copy of the warehouse a previous run ingested from the same "
                             "files with the same ingest code (saves the ingest; rules and plan still run)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of tables")
    parser.add_argument("--save-baseline", action="store_true", help=f"write {BASELINE.name}")
    args = parser.parse_args(argv)
    athletes = args.athletes.split(",") if args.athletes else None
    cohort = build_cohort(args.seed, args.weeks, athletes=athletes)
    _log(f"cohort: {len(cohort.athletes)} athletes x {cohort.weeks} weeks, "
         f"{sum(len(a.labels) for a in cohort.athletes)} labelled weeks")
    if args.reuse_ingest and args.out is None:
        parser.error("--reuse-ingest needs --out (the cached warehouse is kept beside the files)")
    result = run(cohort, out=args.out, config=args.config, live_loads=args.live_loads,
                 reuse_ingest=args.reuse_ingest)
    if args.save_baseline:
        BASELINE.write_text(json.dumps(result.to_dict(), indent=1, default=str) + "\n")
        _log(f"wrote {BASELINE}")
    baseline = None if args.save_baseline else _baseline_for(result)
    print(json.dumps(result.to_dict(), indent=1, default=str) if args.json else render(result, baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
