"""Reading an athlete's history for the rules, and storing what the rules say."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from tendon_pipeline.domain.exercises import fit_exercise, fit_variant, kind_of
from tendon_pipeline.domain.models import (
    SEVERITY_RANK,
    Alert,
    AthleteHistory,
    MaxTest,
    PainEntry,
    RaceEntry,
    RunSummary,
    StrengthEntry,
    VisaAEntry,
    WeekPlan,
)
from tendon_pipeline.warehouse.store import Warehouse, athlete_lock, retry_on_conflict

# pandas (and the load computation) are imported where the history is read, not at the top:
# `tendon alerts` / `tendon plan` read a few rows and should not pay for them.
if TYPE_CHECKING:
    import pandas as pd


def athlete_ids(warehouse: Warehouse) -> list[str]:
    return [r[0] for r in warehouse.con.execute("SELECT athlete_id FROM athletes ORDER BY 1").fetchall()]


def first_data_day(warehouse: Warehouse, athlete_id: str) -> date | None:
    """The UTC day of the athlete's first activity or log entry (None: no data yet)."""
    row = warehouse.con.execute(
        "SELECT min(d) FROM (SELECT CAST(min(start_utc) AS DATE) AS d FROM activities WHERE athlete_id = $a"
        " UNION ALL SELECT min(local_date) FROM pain_log WHERE athlete_id = $a"
        " UNION ALL SELECT min(local_date) FROM visa_a_log WHERE athlete_id = $a"
        " UNION ALL SELECT min(local_date) FROM strength_log WHERE athlete_id = $a)", {"a": athlete_id}).fetchone()
    return row[0] if row and row[0] is not None else None


def athlete_body(warehouse: Warehouse, athlete_id: str) -> tuple[float | None, float | None]:
    row = warehouse.con.execute(
        "SELECT body_mass_kg, height_m FROM athletes WHERE athlete_id = ?", [athlete_id]).fetchone()
    return (row[0], row[1]) if row else (None, None)


def load_history(warehouse: Warehouse, athlete_id: str, *, tz_name: str | None = None,
                 program_start: date | None = None, baseline_weekly_km: float | None = None,
                 races: list[RaceEntry] | None = None) -> AthleteHistory:
    """Everything the rules look at, from run_loads (computed first), sets and the logs.
    ``races`` (from configuration) join the logged ones; a logged race wins on its day."""
    mass, _ = athlete_body(warehouse, athlete_id)
    runs = warehouse.con.execute(
        "SELECT * EXCLUDE (run_id, session_index, computed_at) FROM run_loads WHERE athlete_id = ?"
        " ORDER BY start_utc", [athlete_id]).df()
    run_models = [RunSummary(**_plain(row)) for row in runs.to_dict("records")]
    return AthleteHistory(
        athlete_id=athlete_id, body_mass_kg=mass, program_start=program_start, runs=run_models,
        strength=_fit_strength(warehouse, athlete_id, tz_name) + _logged_strength(warehouse, athlete_id),
        max_tests=[MaxTest(athlete_id=athlete_id, **_plain(r)) for r in warehouse.con.execute(
            "SELECT local_date, exercise, variant, load_kg, reps FROM strength_max_log WHERE athlete_id = ?"
            " ORDER BY local_date, logged_at", [athlete_id]).df().to_dict("records")],
        pain=[PainEntry(athlete_id=athlete_id, **_plain(r)) for r in warehouse.con.execute(
            "SELECT local_date, during, next_morning FROM pain_log WHERE athlete_id = ? ORDER BY 1",
            [athlete_id]).df().to_dict("records")],
        visa_a=[VisaAEntry(athlete_id=athlete_id, **_plain(r)) for r in warehouse.con.execute(
            "SELECT local_date, score FROM visa_a_log WHERE athlete_id = ? ORDER BY 1",
            [athlete_id]).df().to_dict("records")],
        baseline_weekly_km=baseline_weekly_km,
        races=_races(warehouse, athlete_id, races or []),
        unwell_days=[r[0] for r in warehouse.con.execute(
            "SELECT local_date FROM unwell_log WHERE athlete_id = ? ORDER BY 1", [athlete_id]).fetchall()],
    )


def _races(warehouse: Warehouse, athlete_id: str, configured: list[RaceEntry]) -> list[RaceEntry]:
    logged = [RaceEntry(athlete_id=athlete_id, **_plain(r)) for r in warehouse.con.execute(
        "SELECT local_date, distance_km, priority, name FROM race_log WHERE athlete_id = ? ORDER BY 1",
        [athlete_id]).df().to_dict("records")]
    days = {r.local_date for r in logged}
    return sorted([*logged, *(r for r in configured if r.local_date not in days)], key=lambda r: r.local_date)


def _fit_strength(warehouse: Warehouse, athlete_id: str, tz_name: str | None) -> list[StrengthEntry]:
    """Watch-recorded sets, one entry per activity, exercise and variant; corrections
    (``strength_set_corrections``) say what a set was when the watch could not."""
    import pandas as pd

    from tendon_pipeline.warehouse.loads import local_date

    sets = warehouse.con.execute(
        "SELECT s.activity_id, coalesce(s.start_utc, a.start_utc) AS start_utc, a.local_offset_s,"
        " s.category, s.category_subtype, s.repetitions, s.weight_kg, s.duration_s,"
        " c.exercise AS fixed_exercise, c.variant AS fixed_variant, c.reps_in_reserve"
        " FROM strength_sets s JOIN activities a USING (activity_id)"
        " LEFT JOIN strength_set_corrections c ON c.activity_id = s.activity_id AND c.set_index = s.set_index"
        " WHERE a.athlete_id = ? AND s.set_type = 'active' AND s.category IS NOT NULL"
        " ORDER BY s.activity_id, s.set_index", [athlete_id]).df()
    entries: dict[tuple, dict] = {}
    for row in sets.itertuples(index=False):
        exercise, kind = fit_exercise(row.category, _int(row.repetitions), _float(row.duration_s))
        if not pd.isna(row.fixed_exercise):
            exercise, kind = row.fixed_exercise, kind_of(row.fixed_exercise)
        variant = (row.fixed_variant if not pd.isna(row.fixed_variant)
                   else fit_variant(row.category, _int(row.category_subtype)))
        day = local_date(row.start_utc, None if pd.isna(row.local_offset_s) else row.local_offset_s, tz_name)
        entry = entries.setdefault((row.activity_id, exercise, variant), {
            "athlete_id": athlete_id, "local_date": day, "exercise": exercise, "kind": kind,
            "sets": 0, "reps": None, "seconds": None, "load_kg": None, "source": "fit", "variant": variant,
            "reps_in_reserve": None, "activity_id": row.activity_id})
        entry["sets"] += 1
        entry["reps"] = _max(entry["reps"], None if kind == "isometric" else _int(row.repetitions))
        entry["seconds"] = _max(entry["seconds"], _float(row.duration_s) if kind == "isometric" else None)
        entry["load_kg"] = _max(entry["load_kg"], _float(row.weight_kg))
        rir = _int(row.reps_in_reserve)
        entry["reps_in_reserve"] = rir if entry["reps_in_reserve"] is None else _min(entry["reps_in_reserve"], rir)
    return [StrengthEntry(**e) for e in entries.values()]


def _logged_strength(warehouse: Warehouse, athlete_id: str) -> list[StrengthEntry]:
    rows = warehouse.con.execute(
        "SELECT local_date, exercise, kind, sets, reps, seconds, load_kg, variant, reps_in_reserve FROM strength_log"
        " WHERE athlete_id = ? ORDER BY local_date, logged_at", [athlete_id]).df()
    return [StrengthEntry(athlete_id=athlete_id, source="manual", **_plain(r)) for r in rows.to_dict("records")]


def fit_sets(warehouse: Warehouse, athlete_id: str, since: date | None = None) -> pd.DataFrame:
    """The athlete's watch-recorded active sets with any correction, newest activity first."""
    return warehouse.con.execute(
        "SELECT s.activity_id, CAST(coalesce(s.start_utc, a.start_utc) AS DATE) AS utc_date, s.set_index,"
        " s.category, s.category_subtype, s.repetitions, s.weight_kg, s.duration_s,"
        " c.exercise AS corrected_exercise, c.variant AS corrected_variant, c.reps_in_reserve"
        " FROM strength_sets s JOIN activities a USING (activity_id)"
        " LEFT JOIN strength_set_corrections c ON c.activity_id = s.activity_id AND c.set_index = s.set_index"
        " WHERE a.athlete_id = ? AND s.set_type = 'active' AND s.category IS NOT NULL"
        " AND (CAST(? AS DATE) IS NULL OR coalesce(s.start_utc, a.start_utc) >= CAST(? AS DATE))"
        " ORDER BY a.start_utc DESC, s.set_index", [athlete_id, since, since]).df()


class SetCorrection(NamedTuple):
    exercise: str | None
    variant: str | None
    reps_in_reserve: int | None


@retry_on_conflict
def correct_sets(warehouse: Warehouse, athlete_id: str, activity_id: str, set_indexes: list[int] | None,
                 correction: SetCorrection) -> list[int]:
    """Record what the athlete's active sets of one activity were (all calf sets when no index
    is given); returns the corrected set indexes. Unknown activity or set: a ValueError naming it."""
    with warehouse.lock(athlete_lock(athlete_id)), warehouse.transaction():
        rows = warehouse.con.execute(
            "SELECT s.set_index, s.category FROM strength_sets s JOIN activities a USING (activity_id)"
            " WHERE s.activity_id = ? AND a.athlete_id = ? AND s.set_type = 'active'",
            [activity_id, athlete_id]).fetchall()
        if not rows:
            raise ValueError(f"activity {activity_id!r} of athlete {athlete_id!r} has no active strength sets")
        known = {index: category for index, category in rows}
        if set_indexes:
            missing = sorted(set(set_indexes) - set(known))
            if missing:
                raise ValueError(f"activity {activity_id!r} has no active set {', '.join(map(str, missing))} "
                                 f"(active sets: {', '.join(map(str, sorted(known)))})")
            chosen = sorted(set(set_indexes))
        else:
            chosen = sorted(i for i, category in known.items() if category == "calf_raise")
            if not chosen:
                raise ValueError(f"activity {activity_id!r} has no calf_raise sets: name them with --set")
        for index in chosen:
            warehouse.con.execute("DELETE FROM strength_set_corrections WHERE activity_id = ? AND set_index = ?",
                                  [activity_id, index])
            warehouse.con.execute(
                "INSERT INTO strength_set_corrections (activity_id, set_index, athlete_id, exercise, variant,"
                " reps_in_reserve, corrected_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [activity_id, index, athlete_id, correction.exercise, correction.variant,
                 correction.reps_in_reserve, _now()])
    return chosen


# -- the runner's own logs ----------------------------------------------------------
def _insert_entry(warehouse: Warehouse, table: str, athlete_id: str, values: dict[str, Any]) -> str:
    """A new row of a log kept entry by entry, under a fresh ``entry_id``, and the athlete marked
    for evaluation, in one transaction; returns the entry id."""
    entry_id = uuid.uuid4().hex[:16]
    with warehouse.transaction():
        warehouse.con.execute(
            f"INSERT INTO {table} (entry_id, athlete_id, {', '.join(values)})"
            f" VALUES (?, ?, {', '.join('?' for _ in values)})", [entry_id, athlete_id, *values.values()])
        warehouse.needs_evaluation(athlete_id, table)
    return entry_id


def log_strength(warehouse: Warehouse, entry: StrengthEntry) -> str:
    return _insert_entry(warehouse, "strength_log", entry.athlete_id, {
        "local_date": entry.local_date, "exercise": entry.exercise, "kind": entry.kind, "sets": entry.sets,
        "reps": entry.reps, "seconds": entry.seconds, "load_kg": entry.load_kg, "variant": entry.variant,
        "reps_in_reserve": entry.reps_in_reserve})


def log_max(warehouse: Warehouse, test: MaxTest) -> str:
    return _insert_entry(warehouse, "strength_max_log", test.athlete_id, {
        "local_date": test.local_date, "exercise": test.exercise, "variant": test.variant, "load_kg": test.load_kg,
        "reps": test.reps, "logged_at": _now()})


@retry_on_conflict
def _replace_day(warehouse: Warehouse, table: str, athlete_id: str, day: date, columns: list[str],
                 values: list) -> None:
    """One row per athlete and day: the new entry replaces that day's (no INSERT OR REPLACE on a lake)."""
    with warehouse.lock(athlete_lock(athlete_id)), warehouse.transaction():
        warehouse.con.execute(f"DELETE FROM {table} WHERE athlete_id = ? AND local_date = ?", [athlete_id, day])
        warehouse.con.execute(
            f"INSERT INTO {table} (athlete_id, local_date, {', '.join(columns)})"
            f" VALUES (?, ?, {', '.join('?' for _ in columns)})", [athlete_id, day, *values])
        warehouse.needs_evaluation(athlete_id, table)


def log_pain(warehouse: Warehouse, entry: PainEntry) -> None:
    _replace_day(warehouse, "pain_log", entry.athlete_id, entry.local_date, ["during", "next_morning", "logged_at"],
                 [entry.during, entry.next_morning, _now()])


def log_visa_a(warehouse: Warehouse, entry: VisaAEntry) -> None:
    _replace_day(warehouse, "visa_a_log", entry.athlete_id, entry.local_date, ["score", "logged_at"],
                 [entry.score, _now()])


def log_race(warehouse: Warehouse, entry: RaceEntry) -> None:
    _replace_day(warehouse, "race_log", entry.athlete_id, entry.local_date,
                 ["distance_km", "priority", "name", "logged_at"],
                 [entry.distance_km, entry.priority, entry.name, _now()])


# -- alerts and plans -------------------------------------------------------------
def store_alerts(warehouse: Warehouse, alerts: list[Alert], evaluation_id: str) -> list[Alert]:
    """Insert alerts not stored yet; returns only the new ones (an alert exists once)."""
    known = {r[0] for r in warehouse.con.execute(
        "SELECT alert_key FROM alerts WHERE list_contains(?, alert_key)", [[a.key for a in alerts]]).fetchall()}
    new = [a for a in alerts if a.key not in known]
    for a in new:
        warehouse.con.execute(
            "INSERT INTO alerts (alert_key, athlete_id, rule, severity, alert_date, period, message,"
            " evidence, source, evaluation_id, created_at, revision, escalation)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 0)",
            [a.key, a.athlete_id, a.rule, a.severity, a.date, a.period, a.message,
             json.dumps(a.evidence), a.source, evaluation_id, _now()])
    return new


def update_changed_alerts(warehouse: Warehouse, alerts: list[Alert], evaluation_id: str) -> list[Alert]:
    """Stored alerts whose severity, message or numbers the rules now give differently are
    updated (call inside a transaction, after :func:`store_alerts`): the old version goes to
    ``alert_revisions``, ``revision`` rises, and ``escalation`` rises when the severity is above
    every earlier version's (routed again as an update). Returns the alerts that changed."""
    by_key = {a.key: a for a in alerts}
    if not by_key:
        return []
    rows = warehouse.con.execute(
        "SELECT alert_key, severity, message, evidence, coalesce(revision, 1), coalesce(escalation, 0),"
        " evaluation_id, withdrawn_at FROM alerts WHERE list_contains(?, alert_key)", [list(by_key)]).fetchall()
    changed = []
    now = _now()
    for key, severity, message, evidence, revision, escalation, old_evaluation, withdrawn in rows:
        alert = by_key[key]
        if (severity, message, json.loads(evidence)) == (alert.severity, alert.message, alert.evidence):
            if withdrawn is not None:  # raised again by data that came back: current again
                warehouse.con.execute("UPDATE alerts SET withdrawn_at = NULL, withdrawn_reason = NULL,"
                                      " updated_at = ? WHERE alert_key = ?", [now, key])
                changed.append(alert)
            continue
        warehouse.con.execute(
            "INSERT INTO alert_revisions (alert_key, revision, severity, message, evidence, evaluation_id,"
            " superseded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [key, revision, severity, message, evidence, old_evaluation, now])
        worst_before = max([SEVERITY_RANK[severity]] + [SEVERITY_RANK[r[0]] for r in warehouse.con.execute(
            "SELECT severity FROM alert_revisions WHERE alert_key = ?", [key]).fetchall()])
        escalated = escalation + (1 if alert.rank > worst_before else 0)
        warehouse.con.execute(
            "UPDATE alerts SET severity = ?, message = ?, evidence = ?, evaluation_id = ?, revision = ?,"
            " escalation = ?, updated_at = ?, withdrawn_at = NULL, withdrawn_reason = NULL WHERE alert_key = ?",
            [alert.severity, alert.message, json.dumps(alert.evidence), evaluation_id, revision + 1, escalated,
             now, key])
        changed.append(alert)
    return changed


@retry_on_conflict
def withdraw_alerts(warehouse: Warehouse, athlete_id: str, *, periods: list[str], days: list[date],
                    still_raised: set[str], reason: str) -> list[str]:
    """Withdraw the athlete's current alerts for these periods (a run's id, an ISO week) or dated
    on these days that the rules no longer raise; returns their keys. Kept, marked, not routed."""
    rows = warehouse.con.execute(
        "SELECT alert_key FROM alerts WHERE athlete_id = ? AND withdrawn_at IS NULL"
        " AND (list_contains(?, period) OR list_contains(?, alert_date))",
        [athlete_id, periods, days]).fetchall()
    gone = [key for (key,) in rows if key not in still_raised]
    if gone:
        with warehouse.lock(athlete_lock(athlete_id)), warehouse.transaction():
            warehouse.con.execute("UPDATE alerts SET withdrawn_at = ?, withdrawn_reason = ?"
                                  " WHERE list_contains(?, alert_key)", [_now(), reason, gone])
    return gone


def store_plan(warehouse: Warehouse, plan: WeekPlan, evaluation_id: str) -> None:
    """The week's plan replaces the one stored (call inside a transaction)."""
    warehouse.con.execute("DELETE FROM plans WHERE athlete_id = ? AND week_start = ?",
                          [plan.athlete_id, plan.week_start])
    warehouse.con.execute(
        "INSERT INTO plans (athlete_id, week_start, status, target_km_low, target_km_high,"
        " long_run_cap_km, plan, reasons, evaluation_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [plan.athlete_id, plan.week_start, plan.status, plan.target_km_low, plan.target_km_high,
         plan.long_run_cap_km, plan.model_dump_json(), json.dumps(plan.reasons), evaluation_id, _now()])


def read_alerts(warehouse: Warehouse, athlete_id: str | None = None) -> list[Alert]:
    # no None parameter: binding one makes the duckdb module import pandas (about a second)
    where, params = (("WHERE athlete_id = ? AND withdrawn_at IS NULL", [athlete_id]) if athlete_id is not None
                     else ("WHERE withdrawn_at IS NULL", []))
    cursor = warehouse.con.execute(
        "SELECT athlete_id, rule, severity, alert_date AS date, period, message, evidence, source"
        f" FROM alerts {where} ORDER BY alert_date, athlete_id, rule, period", params)
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]  # plain Python values: no pandas
    return [Alert(**{**r, "evidence": json.loads(r["evidence"])}) for r in rows]


def read_plan(warehouse: Warehouse, athlete_id: str) -> WeekPlan | None:
    row = warehouse.con.execute(
        "SELECT plan FROM plans WHERE athlete_id = ? ORDER BY week_start DESC LIMIT 1", [athlete_id]).fetchone()
    return WeekPlan.model_validate_json(row[0]) if row else None


# -- helpers ------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _plain(row: dict) -> dict:
    """pandas NaN/NaT -> None, Timestamps -> datetime/date, numpy scalars -> Python."""
    import pandas as pd

    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _int(value) -> int | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else int(value)


def _float(value) -> float | None:
    import pandas as pd

    return None if value is None or pd.isna(value) else float(value)


def _min(a, b):
    if a is None:
        return b
    return a if b is None else min(a, b)


def _max(a, b):
    if a is None:
        return b
    return a if b is None else max(a, b)
