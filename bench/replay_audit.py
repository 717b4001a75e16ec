"""Alert quality on realistic years: what each rule tells a coach, and whether the plan agrees.

    .venv/bin/python bench/replay_audit.py --out /tmp/au-cohort            # the cohort + one-a-week runner
    .venv/bin/python bench/replay_audit.py --out /tmp/au-cohort --examples 3 --json > audit.json

Replays the issue-15 cohort (:mod:`tendon_pipeline.examples.cohort`: down weeks, illness, holidays,
marathon builds with taper and race log entries, treadmill blocks, watches without cadence or
running dynamics, smart recording) plus one runner who does one calf session a week
(``weekly_plan_history``, as ``bench/latency.py``'s year), the way ``bench/alert_burden.py`` does:
FIT files ingested, then every Sunday the week's logs stored and ``evaluate_athlete`` run. For
every new alert it asks:

* repeat -- the same athlete and rule already raised caution or worse in the previous
  ``--repeat-weeks`` weeks (the same situation said again);
* plan -- a warning or worse from a rule that may hold the plan must be met by a cut (or pain,
  taper, recovery, restart, unwell: all below hold); a caution by hold or lower; a rule that
  holds nothing (monotony, ACWR context, program rules) is skipped;
* ignored -- a caution or worse while the plan progresses without naming the rule in a reason;
* said twice -- another rule of the same cause (``alert_burden.CAUSES``) already spoke about the
  same day or week;
* estimate -- the alert speaks of load and its ``load_method`` is not measured dynamics, while
  the message does not say "estimated";
* counts per athlete-year by rule and severity, with example messages.

Nothing here is a target: it is the material for a reviewer's ranked findings.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import alert_burden

from tendon_pipeline.examples.cohort import Cohort, build_cohort
from tendon_pipeline.examples.generate import AthleteProfile, weekly_plan_history

ONE_A_WEEK = "oneaweek"
LOWER_THAN_HOLD = frozenset({"cut", "pain", "taper", "recovery", "restart", "unwell"})
AT_MOST_HOLD = LOWER_THAN_HOLD | {"hold", "return"}
SEVERITY_RANK = alert_burden.SEVERITY_RANK


@dataclass(frozen=True)
class Seen:
    """One new alert as the replay stored it, with the plan made in the same evaluation."""

    sunday: date
    alert: Any
    plan_status: str
    plan_reasons: tuple[str, ...]


def one_a_week_specs(cohort: Cohort) -> list:
    """A year of four runs and one calf session a week (down week in four), smart recording."""
    profile = AthleteProfile(athlete_id=ONE_A_WEEK, body_mass_kg=70.0, cadence_spm=170.0,
                             serial_number=3_901_000_555, running_dynamics=True, smart_recording=True,
                             utc_offset_s=3600)
    km = [34.0 + 6.0 * ((w % 4) - 1.5) / 1.5 for w in range(cohort.weeks)]
    return weekly_plan_history(profile, km, cohort.start, runs_per_week=4, strength_per_week=1, seed=7)


def write_extra(root: Path, cohort: Cohort) -> Path:
    from tendon_pipeline.examples.generate import _file_names, write_activity

    folder = root / "extra" / ONE_A_WEEK
    marker = folder / "COMPLETE"
    if not marker.exists():
        specs = one_a_week_specs(cohort)
        for name, spec in zip(_file_names(specs), specs):
            write_activity(folder / name, spec)
        marker.write_text("done")
    return folder.parent


def replay(cohort: Cohort, root: Path) -> list[Seen]:
    from tendon_pipeline.app.evaluate import evaluate_athlete
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import AthleteConfig, load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    extra = write_extra(root, cohort)
    athletes = [AthleteConfig(id=a.athlete_id, body_mass_kg=a.profile.body_mass_kg) for a in cohort.athletes]
    athletes.append(AthleteConfig(id=ONE_A_WEEK, body_mass_kg=70.0))
    ids = [a.id for a in athletes]
    seen: list[Seen] = []
    with tempfile.TemporaryDirectory(prefix="tendon-audit-") as tmp:
        settings = load_settings(None, db=Path(tmp) / "w.duckdb", inbox=root / "inbox", athletes=athletes)
        with open_warehouse(settings.location) as wh:
            report = ingest_paths(wh, settings, [root / "inbox", extra])
            if report.problems():
                raise RuntimeError(f"not ingested: {report.problems()[0]}")
            alert_burden.enter_races(wh, settings, cohort)
            for sunday in cohort.sundays:
                for athlete_id in ids:
                    athlete = next((a for a in cohort.athletes if a.athlete_id == athlete_id), None)
                    if athlete is not None:
                        alert_burden._store_logs(wh, athlete, sunday - timedelta(days=6))
                    result = evaluate_athlete(wh, settings, athlete_id, as_of=sunday,
                                              evaluation_id=f"audit-{sunday.isoformat()}")
                    seen += [Seen(sunday, a, result.plan.status, tuple(result.plan.reasons))
                             for a in result.new_alerts]
    return seen


# --------------------------------------------------------------------------- checks


def holding_rules() -> frozenset[str]:
    from tendon_pipeline.domain.plan import HOLDING_RULES

    return frozenset(HOLDING_RULES)


def is_repeat(item: Seen, earlier: list[Seen], weeks: int) -> bool:
    a = item.alert
    since = a.date - timedelta(weeks=weeks)
    return any(e.alert.rule == a.rule and since <= e.alert.date < a.date and SEVERITY_RANK[e.alert.severity] >= 1
               for e in earlier)


def plan_mismatch(item: Seen, holding: frozenset[str]) -> str | None:
    a = item.alert
    rank = SEVERITY_RANK[a.severity]
    if a.rule not in holding or rank < 1:
        return None
    if rank >= 2 and item.plan_status not in LOWER_THAN_HOLD:
        return f"{a.severity} but plan {item.plan_status}"
    if rank == 1 and item.plan_status not in AT_MOST_HOLD:
        return f"caution but plan {item.plan_status}"
    return None


def silently_ignored(item: Seen) -> bool:
    """A caution or worse the plan neither acted on (it progresses) nor names in a reason."""
    a = item.alert
    return (SEVERITY_RANK[a.severity] >= 1 and item.plan_status == "progress"
            and not any(a.rule in reason for reason in item.plan_reasons))


def said_twice_that_day(item: Seen, earlier: list[Seen]) -> bool:
    """Another rule of the same cause already spoke, caution or worse, about the same day or week."""
    a = item.alert
    cause = alert_burden.cause_of(a.rule)
    return SEVERITY_RANK[a.severity] >= 1 and any(
        e.alert.period == a.period and e.alert.rule != a.rule and alert_burden.cause_of(e.alert.rule) == cause
        and SEVERITY_RANK[e.alert.severity] >= 1 for e in earlier)


def estimate_worded_as_measured(item: Seen) -> bool:
    a = item.alert
    method = str(a.evidence.get("load_method") or "")
    speaks_of_load = "load" in a.message.lower() and "load_method" in a.evidence
    return speaks_of_load and method != "measured dynamics" and "estimat" not in a.message.lower()


def audit(seen: list[Seen], athlete_years: float, repeat_weeks: int, examples: int) -> dict[str, Any]:
    holding = holding_rules()
    by_athlete: dict[str, list[Seen]] = defaultdict(list)
    rows: dict[str, dict[str, Any]] = {}
    for item in sorted(seen, key=lambda s: (s.alert.athlete_id, s.alert.date, s.alert.rule)):
        a = item.alert
        row = rows.setdefault(a.rule, {"severity": Counter(), "repeats": 0, "plan_mismatch": Counter(),
                                       "estimate_as_measured": 0, "silently_ignored": 0,
                                       "same_period_same_cause": 0, "per_athlete": Counter(), "examples": [],
                                       "repeat_examples": [], "mismatch_examples": []})
        row["severity"][str(a.severity)] += 1
        row["per_athlete"][a.athlete_id] += 1
        line = f"{a.athlete_id} {a.period} [{a.severity}] plan={item.plan_status}: {a.message}"
        if len(row["examples"]) < examples:
            row["examples"].append(line)
        if SEVERITY_RANK[a.severity] >= 1 and is_repeat(item, by_athlete[a.athlete_id], repeat_weeks):
            row["repeats"] += 1
            if len(row["repeat_examples"]) < examples:
                row["repeat_examples"].append(line)
        mismatch = plan_mismatch(item, holding)
        if mismatch:
            row["plan_mismatch"][mismatch] += 1
            if len(row["mismatch_examples"]) < examples:
                row["mismatch_examples"].append(line)
        row["estimate_as_measured"] += estimate_worded_as_measured(item)
        row["silently_ignored"] += silently_ignored(item)
        row["same_period_same_cause"] += said_twice_that_day(item, by_athlete[a.athlete_id])
        by_athlete[a.athlete_id].append(item)
    for row in rows.values():
        caution_plus = sum(n for s, n in row["severity"].items() if SEVERITY_RANK[s] >= 1)
        row["caution_plus_per_athlete_year"] = round(caution_plus / athlete_years, 2)
        row["all_per_athlete_year"] = round(sum(row["severity"].values()) / athlete_years, 2)
        row["severity"], row["plan_mismatch"] = dict(row["severity"]), dict(row["plan_mismatch"])
        row["per_athlete"] = dict(row["per_athlete"])
    return dict(sorted(rows.items(), key=lambda kv: -kv[1]["caution_plus_per_athlete_year"]))


def render(rows: dict[str, Any], repeat_weeks: int) -> str:
    out = []
    for rule, row in rows.items():
        out.append(f"== {rule}: {row['caution_plus_per_athlete_year']} caution+ / athlete-year "
                   f"({row['all_per_athlete_year']} all); {row['severity']}")
        out.append(f"   repeats within {repeat_weeks} weeks: {row['repeats']}; plan mismatches: "
                   f"{row['plan_mismatch'] or 0}; estimate worded as measured: {row['estimate_as_measured']}")
        out.append(f"   caution+ the plan ignores without a word: {row['silently_ignored']}; said again by "
                   f"another rule of its cause for the same day or week: {row['same_period_same_cause']}")
        out.append(f"   per athlete: {row['per_athlete']}")
        for key in ("examples", "repeat_examples", "mismatch_examples"):
            out += [f"   {key[:-9] or 'e.g.'}> {line}" for line in row[key]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="keep (and reuse) the FIT files here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--repeat-weeks", type=int, default=3)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cohort = build_cohort(seed=args.seed, weeks=args.weeks)
    root, holder = alert_burden.cohort_files(cohort, args.out)
    started = time.perf_counter()
    seen = replay(cohort, root)
    athlete_years = (len(cohort.athletes) + 1) * args.weeks / 52.0
    rows = audit(seen, athlete_years, args.repeat_weeks, args.examples)
    print(json.dumps(rows, indent=1, default=str) if args.json else render(rows, args.repeat_weeks))
    print(f"[replay_audit] {len(seen)} new alerts, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if holder is not None:
        holder.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
