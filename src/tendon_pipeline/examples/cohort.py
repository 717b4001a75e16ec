"""A realistic cohort of year-long athlete histories with labelled risky weeks (issue 15).

What a coach sees in a year: down weeks, Christmas, an illness, a holiday, a marathon build
with taper, race and recovery, a treadmill block, a watch without cadence, smart recording,
overreaching blocks, tendon work done (on the watch or logged by hand) or never done, pain
logs and one flare. :func:`build_cohort` turns the :data:`PERSONAS` into dated sessions and
*labels*: the weeks where a coach should hear something, computed from what was generated
(never from the engine), by the definitions in :data:`LABEL_DEFINITIONS`.

Healthy athletes carry no injected risk and, by construction, no label: their ordinary weeks
are capped below the label lines (a week at most 22 % over its chronic level, a run at most
8 % over the 30-day longest). Risky athletes carry injected weeks (overreaching, long-run
spikes, tendon work never done or dropped, a pain flare); whatever of their weeks meets a
definition is labelled.

FIT files are written with the example-data generator's encoder (:mod:`tendon_pipeline.examples.generate`);
smart recording (records every 1-6 s, irregular) writes a subset of its 1 Hz records.
Everything is deterministic for a seed: no wall clock, no global random state.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from tendon_pipeline.examples import generate as gen
from tendon_pipeline.fileio import write_atomic

ActivitySpec = gen.ActivitySpec
AthleteProfile = gen.AthleteProfile

__all__ = [
    "COHORT_VERSION", "DEFAULT_START", "LABEL_DEFINITIONS", "PERSONAS", "Persona", "Label", "PainLog",
    "StrengthLog", "Race", "WeekSummary", "CohortAthlete", "Cohort", "build_cohort", "smart_record_offsets",
    "build_athlete", "cohort_fit_bytes", "write_cohort", "chronic_km", "label_weeks",
]

COHORT_VERSION = 2
"""Bumped whenever the same seed would give different files (cached cohorts are keyed by it)."""

DEFAULT_START = date(2025, 3, 3)  # a Monday: 52 weeks reach Christmas 2025 and March 2026

RAMP_LINE = 0.30  # Nielsen et al., JOSPT 2014: > 30 % progression carried more injuries
LONG_RUN_LINE = 0.10  # Frandsen et al., BJSM 2025: > 10 % over the 30-day longest, HR >= 1.5
NO_TENDON_WEEKS = 4  # issue 15: four weeks of running with no tendon work should be said
PAIN_DURING_LINE = 5  # Silbernagel et al., AJSM 2007: above 5/10 during activity is too much
PAIN_MORNING_LINE = 2  # Silbernagel 2007: next morning must be back in the 0-2 zone
CHRONIC_WEEKS = 4
LONG_RUN_WINDOW_DAYS = 30

LabelKind = Literal["ramp", "long_run", "no_tendon_work", "pain"]
LABEL_DEFINITIONS: dict[str, str] = {
    "ramp": f"week distance more than {RAMP_LINE:.0%} over the chronic level, the mean of the previous "
            f"{CHRONIC_WEEKS} weeks with running (Nielsen 2014)",
    "long_run": f"a run more than {LONG_RUN_LINE:.0%} longer than the longest run of the previous "
                f"{LONG_RUN_WINDOW_DAYS} days; a race the runner entered is a planned effort and not labelled "
                "(Frandsen 2025)",
    "no_tendon_work": f"{NO_TENDON_WEEKS} weeks with running and no tendon session (weeks without running "
                      f"are skipped); labelled at the {NO_TENDON_WEEKS}th, {2 * NO_TENDON_WEEKS}th ... such week",
    "pain": f"pain during activity above {PAIN_DURING_LINE}/10 or next-morning pain above "
            f"{PAIN_MORNING_LINE}/10 (Silbernagel 2007)",
}

# What ordinary (not injected) weeks are held to, safely inside the label lines.
_WEEK_CAP = 1.22  # x chronic level
_RUN_CAP = 1.08  # x 30-day longest
_DOWN_FACTOR = 0.75  # every 4th week
_MARATHON_KM = 42.195
_HIKE_PACE_S = 720.0
_HIKE_CADENCE = 112.0


# --------------------------------------------------------------------------- personas


@dataclass(frozen=True)
class Persona:
    """One simulated athlete's habits and the events of their year (week indexes from 0)."""

    athlete_id: str
    group: Literal["healthy", "risky"]
    profile: AthleteProfile
    base_km: float
    runs_per_week: int = 4
    smart_recording: bool = True
    strength: Literal["fit", "logged", "none"] = "fit"
    strength_per_week: int = 2
    strength_pause: tuple[int, int] | None = None  # (first week, weeks) without tendon work
    christmas: Literal["off", "reduced"] = "reduced"
    illness_week: int | None = None  # first of two weeks ill
    holiday_week: int | None = None
    race_week: int | None = None  # marathon on that week's Sunday, 16-week build before
    treadmill_week: int | None = None  # first of eight treadmill weeks
    overreach_weeks: tuple[int, ...] = ()  # first week of a three-week overreaching block
    long_run_spikes: tuple[int, ...] = ()  # weeks whose Sunday run is 1.45 x the 30-day longest
    pain: Literal["none", "logs", "flare"] = "none"
    flare_week: int | None = None  # first of two weeks of pain above the line


def _profile(athlete_id: str, serial: int, **kw) -> AthleteProfile:
    return AthleteProfile(athlete_id=athlete_id, serial_number=serial, **kw)


PERSONAS: tuple[Persona, ...] = (
    Persona("hilde", "healthy", _profile("hilde", 3_901_000_001, body_mass_kg=61, cadence_spm=None,
                                         easy_pace_s_per_km=350, utc_offset_s=3600),
            base_km=28, smart_recording=False, strength_per_week=3, christmas="off", illness_week=10,
            holiday_week=29),
    Persona("rolf", "risky", _profile("rolf", 3_901_000_002, body_mass_kg=78, cadence_spm=172,
                                      easy_pace_s_per_km=320, utc_offset_s=3600),
            base_km=40, christmas="off", overreach_weeks=(6, 36), holiday_week=22),
    Persona("hanna", "healthy", _profile("hanna", 3_901_000_003, body_mass_kg=57, height_m=1.66, cadence_spm=178,
                                         running_dynamics=True, stance_time_ms=236, with_power=True,
                                         easy_pace_s_per_km=315, utc_offset_s=3600),
            base_km=45, runs_per_week=5, race_week=34, holiday_week=21),
    Persona("henrik", "healthy", _profile("henrik", 3_901_000_004, body_mass_kg=82, cadence_spm=164,
                                          easy_pace_s_per_km=345, utc_offset_s=3600),
            base_km=32, strength="logged", pain="logs", treadmill_week=44, holiday_week=19),
    Persona("hugo", "healthy", _profile("hugo", 3_901_000_005, body_mass_kg=70, cadence_spm=170,
                                        easy_pace_s_per_km=330, utc_offset_s=-5 * 3600),
            base_km=35, strength="logged", pain="logs", illness_week=30, holiday_week=23, christmas="off"),
    Persona("heidi", "healthy", _profile("heidi", 3_901_000_006, body_mass_kg=54, cadence_spm=180,
                                         easy_pace_s_per_km=325, utc_offset_s=3600),
            base_km=48, runs_per_week=5, smart_recording=False, race_week=8, illness_week=40,
            strength_per_week=3),
    Persona("rita", "risky", _profile("rita", 3_901_000_007, body_mass_kg=60, cadence_spm=174,
                                      easy_pace_s_per_km=335, utc_offset_s=3600),
            base_km=34, strength="logged", long_run_spikes=(15, 27, 46), holiday_week=24),
    Persona("ralf", "risky", _profile("ralf", 3_901_000_008, body_mass_kg=88, cadence_spm=162,
                                      easy_pace_s_per_km=360, utc_offset_s=3600),
            base_km=26, strength="none", illness_week=18, treadmill_week=44, christmas="off"),
    Persona("runa", "risky", _profile("runa", 3_901_000_009, body_mass_kg=63, cadence_spm=176,
                                      easy_pace_s_per_km=325, utc_offset_s=3600),
            base_km=38, pain="flare", overreach_weeks=(22,), flare_week=25, strength_pause=(36, 6),
            holiday_week=30),
    Persona("rune", "risky", _profile("rune", 3_901_000_010, body_mass_kg=74, cadence_spm=None,
                                      easy_pace_s_per_km=330, utc_offset_s=3600),
            base_km=42, race_week=33, overreach_weeks=(12,), long_run_spikes=(40,), christmas="off"),
)


# --------------------------------------------------------------------------- results


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Label(_Frozen):
    """A week where a coach should hear something, and why (computed from the generated data)."""

    athlete_id: str
    kind: LabelKind
    week: date  # Monday of the ISO week
    day: date  # the run or pain day; Sunday for week-level labels
    evidence: dict[str, float | int | str]


class PainLog(_Frozen):
    athlete_id: str
    local_date: date
    during: int
    next_morning: int


class StrengthLog(_Frozen):
    """A tendon session the runner logs by hand (`tendon log strength`)."""

    athlete_id: str
    local_date: date
    exercise: str
    kind: Literal["strength", "isometric"]
    sets: int
    reps: int | None = None
    seconds: float | None = None
    load_kg: float | None = None


class Race(_Frozen):
    athlete_id: str
    local_date: date
    distance_km: float
    priority: Literal["A", "B", "C"] = "A"


class WeekSummary(_Frozen):
    """One generated week: what was run and done, and which scenarios shaped it."""

    monday: date
    running_km: float
    runs: int
    longest_km: float
    tendon_sessions: int
    tags: tuple[str, ...]


class CohortAthlete(_Frozen):
    athlete_id: str
    group: Literal["healthy", "risky"]
    profile: AthleteProfile
    smart_recording: bool
    scenarios: tuple[str, ...]
    weeks: list[WeekSummary]
    activities: list[ActivitySpec]  # FIT files: runs, hikes, watch-recorded strength
    strength_logs: list[StrengthLog]
    pain_logs: list[PainLog]
    races: list[Race]
    labels: list[Label]


class Cohort(_Frozen):
    seed: int
    start: date
    weeks: int
    athletes: list[CohortAthlete]

    @property
    def sundays(self) -> list[date]:
        return [self.start + timedelta(days=7 * w + 6) for w in range(self.weeks)]


# --------------------------------------------------------------------------- week targets


@dataclass
class _Week:
    index: int
    monday: date
    km: float
    runs: int
    long_share: float
    tags: set[str] = field(default_factory=set)
    injected: bool = False  # not held below the label lines
    tendon: int = 0


def _christmas_week(monday: date) -> bool:
    return any((monday + timedelta(days=d)).timetuple()[1:3] == (12, 25) for d in range(7))


def _in(week: int, first: int | None, length: int) -> bool:
    return first is not None and first <= week < first + length


def _level(p: Persona, w: int) -> float:
    """The athlete's usual weekly km: +4 % every four weeks for two months' worth of cycles,
    then a plateau; a marathon build lifts it to 1.5 x base over weeks R-16..R-3."""
    level = p.base_km * 1.04 ** min(w // 4, 8)
    if p.race_week is not None and p.race_week - 16 <= w <= p.race_week - 3:
        peak = p.base_km * 1.5
        level += (peak - level) * (w - (p.race_week - 16)) / 13
    return level


def _week_plan(p: Persona, w: int, monday: date, rng: random.Random) -> _Week:
    """The target of one week before the caps: scenarios in order of precedence."""
    week = _Week(w, monday, _level(p, w) * rng.uniform(0.95, 1.05), p.runs_per_week, 0.35)
    if p.race_week is not None and p.race_week - 16 <= w <= p.race_week - 3:
        week.long_share = 0.42
        week.tags.add("marathon_build")
    if w % 4 == 3:
        week.km *= _DOWN_FACTOR
        week.tags.add("down_week")
    if _in(w, p.treadmill_week, 8):
        week.runs, week.long_share = 6, 1 / 6
        week.tags.add("treadmill")
    _apply_events(p, week, rng)
    week.tendon = _tendon_count(p, week)
    return week


def _apply_events(p: Persona, week: _Week, rng: random.Random) -> None:
    w = week.index
    race = p.race_week
    if race is not None and race - 2 <= w <= race + 3:
        peak = p.base_km * 1.5
        factors = {race - 2: 0.75, race - 1: 0.55, race: None, race + 1: 0.35, race + 2: 0.6, race + 3: 0.85}
        week.tags.discard("down_week")
        week.tags.add({race - 2: "taper", race - 1: "taper", race: "race"}.get(w, "race_recovery"))
        if w == race:
            week.km, week.injected = _MARATHON_KM + 11.0, True  # two short runs and the race
        else:
            week.km = (peak if w < race else p.base_km) * factors[w]
            week.runs = 3 if w > race else week.runs
    if _christmas_week(week.monday):
        week.km *= 0.0 if p.christmas == "off" else 0.5
        week.tags.add("christmas")
    if _in(w, p.illness_week, 2):
        week.km = 0.0
        week.tags.add("illness")
    elif _in(w, p.illness_week, 4):
        week.km *= 0.5 if w == p.illness_week + 2 else 0.75
        week.tags.add("illness_return")
    if w == p.holiday_week:
        week.km *= 0.45
        week.runs = 2
        week.tags.add("holiday")
    for first in p.overreach_weeks:
        if _in(w, first, 3):
            week.km = _level(p, w) * (1.25, 1.5, 1.7)[w - first] * rng.uniform(0.98, 1.02)
            week.injected = True
            week.tags.discard("down_week")
            week.tags.add("overreaching")
    if w in p.long_run_spikes:
        week.injected = True
        week.tags.add("long_run_spike")
    if _in(w, p.flare_week, 2):
        week.tags.add("pain_flare")


def _tendon_count(p: Persona, week: _Week) -> int:
    if p.strength == "none" or week.km <= 0 or "holiday" in week.tags:
        return 0
    if p.strength_pause and _in(week.index, p.strength_pause[0], p.strength_pause[1]):
        week.tags.add("tendon_work_dropped")
        return 0
    return p.strength_per_week


def chronic_km(previous_weeks_km: list[float]) -> float | None:
    """The chronic level: mean of the last ``CHRONIC_WEEKS`` weeks that had running (None before any)."""
    with_data = [km for km in previous_weeks_km if km > 0][-CHRONIC_WEEKS:]
    return sum(with_data) / len(with_data) if with_data else None


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class _Run:
    day: date
    km: float
    pace_s: float
    kind: Literal["easy", "long", "race", "treadmill", "hike"]
    injected: bool = False

    @property
    def running(self) -> bool:
        return self.kind != "hike"


_RUN_DAYS = {2: (2, 6), 3: (1, 3, 6), 4: (0, 2, 4, 6), 5: (0, 1, 3, 4, 6), 6: (0, 1, 2, 3, 4, 6)}
_TENDON_DAYS = {0: (), 1: (3,), 2: (1, 3), 3: (1, 3, 5)}


def _longest_before(runs: list[_Run], day: date) -> float | None:
    start = day - timedelta(days=LONG_RUN_WINDOW_DAYS)
    prior = [r.km for r in runs if r.running and start <= r.day < day]
    return max(prior) if prior else None


def _week_runs(p: Persona, week: _Week, done: list[_Run], rng: random.Random) -> list[_Run]:
    """The week's runs; ordinary runs held to _RUN_CAP x the 30-day longest."""
    if week.km <= 0:
        return []
    pace = p.profile.easy_pace_s_per_km
    if "race" in week.tags:
        return [_Run(week.monday + timedelta(days=1), 6.0, pace, "easy"),
                _Run(week.monday + timedelta(days=3), 5.0, pace - 20, "easy"),
                _Run(week.monday + timedelta(days=6), _MARATHON_KM, pace - 35, "race", injected=True)]
    days = _RUN_DAYS[week.runs]
    kind = "treadmill" if "treadmill" in week.tags else "easy"
    long_km = week.km * week.long_share
    weights = [rng.uniform(0.97, 1.03) if kind == "treadmill" else rng.uniform(0.85, 1.15) for _ in days[:-1]]
    out: list[_Run] = []
    for day, weight in zip(days[:-1], weights):
        out.append(_Run(week.monday + timedelta(days=day), (week.km - long_km) * weight / sum(weights),
                        pace + rng.uniform(-10, 10), kind))
    sunday = week.monday + timedelta(days=6)
    if "long_run_spike" in week.tags:
        longest = _longest_before(done + out, sunday) or long_km
        out.append(_Run(sunday, 1.45 * longest, pace + 20, "long", injected=True))
    else:
        out.append(_Run(sunday, long_km, pace + 15, kind if kind == "treadmill" else "long"))
    return _cap_runs(done, out, week.injected)


def _cap_runs(done: list[_Run], runs: list[_Run], injected_week: bool) -> list[_Run]:
    capped: list[_Run] = []
    for run in runs:
        longest = _longest_before(done + capped, run.day)
        if not (run.injected or injected_week) and longest is not None and run.km > _RUN_CAP * longest:
            run = _Run(run.day, _RUN_CAP * longest, run.pace_s, run.kind)
        capped.append(run)
    return capped


def _hikes(week: _Week) -> list[_Run]:
    if "holiday" not in week.tags:
        return []
    return [_Run(week.monday + timedelta(days=d), 9.0, _HIKE_PACE_S, "hike") for d in (1, 4)]


def _cap_week_km(week: _Week, previous_km: list[float]) -> None:
    chronic = chronic_km(previous_km)
    if not week.injected and chronic is not None and week.km > _WEEK_CAP * chronic:
        week.km = _WEEK_CAP * chronic
        week.tags.add("held_to_chronic")


# --------------------------------------------------------------------------- activities and logs


def _local_start(p: Persona, day: date, minute: int) -> datetime:
    local = datetime.combine(day, time(minute // 60, minute % 60))
    return (local - timedelta(seconds=p.profile.utc_offset_s)).replace(tzinfo=UTC)


def _run_activity(p: Persona, run: _Run, rng: random.Random) -> ActivitySpec:
    start = _local_start(p, run.day, 6 * 60 + 30 + rng.randrange(90) if run.kind != "race" else 9 * 60)
    heart = {"race": 12, "long": 5, "hike": -30}.get(run.kind, 0)
    planned = gen._Planned(0, "run", run.km, run.pace_s,
                           None if p.profile.easy_heart_rate is None else p.profile.easy_heart_rate + heart)
    spec = gen._run_spec(p.profile, start, planned, rng.getrandbits(31))
    if run.kind == "treadmill":
        return spec.model_copy(update={"sub_sport": "treadmill"})
    if run.kind == "hike":
        return spec.model_copy(update={"sport": "hiking", "cadence_spm": _HIKE_CADENCE, "running_dynamics": False})
    return spec


def _strength_activity(p: Persona, day: date, week: int, rng: random.Random) -> ActivitySpec:
    start = _local_start(p, day, 18 * 60 + rng.randrange(60))
    planned = gen._Planned(0, "strength", load_kg=gen._calf_load_kg(p.profile, week, 0.02),
                           heart_rate=None if p.profile.easy_heart_rate is None else p.profile.easy_heart_rate - 40)
    return gen._strength_spec(p.profile, start, planned, rng.getrandbits(31))


def _strength_log(p: Persona, day: date, n: int) -> StrengthLog:
    if n % 2 == 0:
        return StrengthLog(athlete_id=p.athlete_id, local_date=day, exercise="eccentric_heel_drop",
                           kind="strength", sets=3, reps=15)
    return StrengthLog(athlete_id=p.athlete_id, local_date=day, exercise="isometric_calf_raise_hold",
                       kind="isometric", sets=4, seconds=45.0, load_kg=10.0)


def _pain_logs(p: Persona, week: _Week, runs: list[_Run], rng: random.Random) -> list[PainLog]:
    if p.pain == "none":
        return []
    flare = "pain_flare" in week.tags
    return [PainLog(athlete_id=p.athlete_id, local_date=r.day,
                    during=rng.choice((5, 6, 7)) if flare else rng.choice((0, 0, 1, 1, 2)),
                    next_morning=rng.choice((3, 4, 5)) if flare else rng.choice((0, 0, 1)))
            for r in runs if r.running]


# --------------------------------------------------------------------------- labels


def _labels(athlete_id: str, weeks: list[WeekSummary], runs: list[_Run], races: set[date],
            pain: list[PainLog]) -> list[Label]:
    labels = _ramp_labels(athlete_id, weeks) + _long_run_labels(athlete_id, runs, races)
    labels += _tendon_labels(athlete_id, weeks) + _pain_labels(athlete_id, pain)
    return sorted(labels, key=lambda lab: (lab.week, lab.kind, lab.day))


def _ramp_labels(athlete_id: str, weeks: list[WeekSummary]) -> list[Label]:
    out = []
    for i, week in enumerate(weeks):
        chronic = chronic_km([w.running_km for w in weeks[:i]])
        if week.running_km > 0 and chronic and week.running_km > (1 + RAMP_LINE) * chronic:
            out.append(Label(athlete_id=athlete_id, kind="ramp", week=week.monday, day=week.monday + timedelta(days=6),
                             evidence={"week_km": round(week.running_km, 2), "chronic_km": round(chronic, 2),
                                       "ratio": round(week.running_km / chronic, 3)}))
    return out


def _long_run_labels(athlete_id: str, runs: list[_Run], races: set[date]) -> list[Label]:
    out: dict[date, Label] = {}
    running = [r for r in runs if r.running]
    for i, run in enumerate(running):
        longest = _longest_before(running[:i], run.day)
        if run.day in races or longest is None or run.km <= (1 + LONG_RUN_LINE) * longest:
            continue
        monday = run.day - timedelta(days=run.day.weekday())
        out.setdefault(monday, Label(athlete_id=athlete_id, kind="long_run", week=monday, day=run.day,
                                     evidence={"run_km": round(run.km, 2), "longest_30d_km": round(longest, 2),
                                               "ratio": round(run.km / longest, 3)}))
    return list(out.values())


def _tendon_labels(athlete_id: str, weeks: list[WeekSummary]) -> list[Label]:
    out, streak = [], 0
    for week in weeks:
        if week.tendon_sessions:
            streak = 0
        elif week.runs:
            streak += 1
            if streak % NO_TENDON_WEEKS == 0:
                out.append(Label(athlete_id=athlete_id, kind="no_tendon_work", week=week.monday,
                                 day=week.monday + timedelta(days=6), evidence={"weeks_without": streak}))
    return out


def _pain_labels(athlete_id: str, pain: list[PainLog]) -> list[Label]:
    out: dict[date, Label] = {}
    for log in pain:
        if log.during > PAIN_DURING_LINE or log.next_morning > PAIN_MORNING_LINE:
            monday = log.local_date - timedelta(days=log.local_date.weekday())
            out.setdefault(monday, Label(athlete_id=athlete_id, kind="pain", week=monday, day=log.local_date,
                                         evidence={"during": log.during, "next_morning": log.next_morning}))
    return list(out.values())


# --------------------------------------------------------------------------- building


def _scenarios(p: Persona, weeks: list[_Week]) -> tuple[str, ...]:
    tags = {t for w in weeks for t in w.tags}
    if p.profile.cadence_spm is None:
        tags.add("no_cadence")
    if p.smart_recording:
        tags.add("smart_recording")
    tags.add(f"strength_{p.strength}")
    if p.pain != "none":
        tags.add("pain_logs")
    return tuple(sorted(tags))


def build_athlete(p: Persona, start: date, weeks: int, seed: int) -> CohortAthlete:
    """One persona's year (or ``weeks``) as activities, logs, races and labels."""
    rng = random.Random(f"{seed}:{p.athlete_id}")
    planned: list[_Week] = []
    runs: list[_Run] = []
    activities: list[ActivitySpec] = []
    strength_logs: list[StrengthLog] = []
    pain: list[PainLog] = []
    summaries: list[WeekSummary] = []
    for w in range(weeks):
        week = _week_plan(p, w, start + timedelta(days=7 * w), rng)
        _cap_week_km(week, [s.running_km for s in summaries])
        week_runs = _week_runs(p, week, runs, rng)
        moves = sorted(week_runs + _hikes(week), key=lambda r: r.day)
        runs += week_runs
        activities += [_run_activity(p, r, rng) for r in moves]
        for n, d in enumerate(_TENDON_DAYS[week.tendon]):
            day = week.monday + timedelta(days=d)
            if p.strength == "fit":
                activities.append(_strength_activity(p, day, w, rng))
            else:
                strength_logs.append(_strength_log(p, day, w + n))
        pain += _pain_logs(p, week, week_runs, rng)
        planned.append(week)
        summaries.append(WeekSummary(monday=week.monday, running_km=sum(r.km for r in week_runs), runs=len(week_runs),
                                     longest_km=max((r.km for r in week_runs), default=0.0),
                                     tendon_sessions=week.tendon, tags=tuple(sorted(week.tags))))
    races = [Race(athlete_id=p.athlete_id, local_date=r.day, distance_km=r.km) for r in runs if r.kind == "race"]
    return CohortAthlete(
        athlete_id=p.athlete_id, group=p.group, profile=p.profile, smart_recording=p.smart_recording,
        scenarios=_scenarios(p, planned), weeks=summaries,
        activities=sorted(activities, key=lambda a: a.start_utc), strength_logs=strength_logs, pain_logs=pain,
        races=races, labels=_labels(p.athlete_id, summaries, runs, {r.local_date for r in races}, pain),
    )


def build_cohort(seed: int = 0, weeks: int = 52, *, athletes: list[str] | None = None,
                 start: date = DEFAULT_START) -> Cohort:
    """The personas (all, or those named in ``athletes``, in that order) over ``weeks`` weeks
    from ``start`` (a Monday). Deterministic for (seed, weeks, athletes, start)."""
    if start.weekday() != 0:
        raise ValueError(f"start {start} is not a Monday")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    by_id = {p.athlete_id: p for p in PERSONAS}
    unknown = [a for a in athletes or [] if a not in by_id]
    if unknown:
        raise ValueError(f"unknown persona(s) {unknown}; known: {sorted(by_id)}")
    chosen = [by_id[a] for a in athletes] if athletes else list(PERSONAS)
    return Cohort(seed=seed, start=start, weeks=weeks, athletes=[build_athlete(p, start, weeks, seed) for p in chosen])


# --------------------------------------------------------------------------- FIT files


def smart_record_offsets(duration_s: int, seed: int) -> np.ndarray:
    """Indexes of the 1 Hz records a smart-recording watch keeps: the first, then every 1-6 s
    (irregular, mostly 3-5 s), and always the last."""
    rng = np.random.RandomState(seed % 2**32)
    steps = rng.choice([1, 2, 3, 4, 5, 6], size=duration_s, p=[0.05, 0.1, 0.2, 0.3, 0.25, 0.1])
    kept = np.cumsum(np.concatenate([[0], steps]))
    kept = kept[kept < duration_s - 1]
    return np.append(kept, duration_s - 1)


def cohort_fit_bytes(spec: ActivitySpec, *, smart_recording: bool) -> bytes:
    """The FIT file of one activity: :func:`generate.fit_bytes`, or with smart recording only the
    records at :func:`smart_record_offsets` (laps, session and sets are those of the 1 Hz file).

    Uses the generator's encoder internals (``_FastEncoder`` and the message builders)."""
    if not smart_recording or spec.distance_m <= 0:
        return gen.fit_bytes(spec)
    encoder = gen._FastEncoder()
    cols = gen._record_columns(spec)
    spans = gen._lap_spans(spec, cols)
    kept = smart_record_offsets(spec.duration_s, spec.seed)
    ts0 = gen._fit_ts(spec.start_utc)
    for mesg in gen._header_mesgs(spec, ts0):
        encoder.write_mesg(mesg)
    for index, span in enumerate(spans):
        rows = np.union1d(kept[(kept >= span.lo) & (kept < span.hi)], [span.hi - 1])
        encoder.write_rows(gen.MESG_NUM["record"], {k: v[rows] for k, v in cols.items()}, 0, rows.size)
        if index < len(spans) - 1:
            encoder.write_mesg(gen._lap_mesg(spec, cols, index, span, last=False))
    for mesg in gen._set_mesgs(spec):
        encoder.write_mesg(mesg)
    encoder.write_mesg(gen._mesg("event", timestamp=ts0 + spec.duration_s, event="timer",
                                 event_type="stop_all", event_group=0))
    encoder.write_mesg(gen._lap_mesg(spec, cols, len(spans) - 1, spans[-1], last=True))
    encoder.write_mesg(gen._session_mesg(spec, cols, len(spans)))
    encoder.write_mesg(gen._activity_mesg(spec))
    return encoder.close()


def write_cohort(cohort: Cohort, root: Path) -> list[Path]:
    """Write ROOT/inbox/<athlete>/<date>-<sport>-<n>.fit and ROOT/cohort.json (the manual logs,
    races and labels: what the files do not carry). Returns the FIT paths."""
    root = Path(root)
    paths = []
    for athlete in cohort.athletes:
        folder = root / "inbox" / athlete.athlete_id
        for name, spec in zip(gen._file_names(athlete.activities), athlete.activities):
            data = cohort_fit_bytes(spec, smart_recording=athlete.smart_recording)
            paths.append(write_atomic(folder / name, data))
    manifest = {"seed": cohort.seed, "start": cohort.start.isoformat(), "weeks": cohort.weeks,
                "version": COHORT_VERSION, "label_definitions": LABEL_DEFINITIONS,
                "athletes": [a.model_dump(mode="json", exclude={"activities", "weeks", "profile"})
                             for a in cohort.athletes]}
    write_atomic(root / "cohort.json", json.dumps(manifest, indent=1).encode())
    return paths


def label_weeks(cohort: Cohort) -> dict[str, dict[str, list[date]]]:
    """kind -> athlete -> labelled Mondays (a summary for people and tests)."""
    out: dict[str, dict[str, list[date]]] = defaultdict(lambda: defaultdict(list))
    for athlete in cohort.athletes:
        for label in athlete.labels:
            out[label.kind][athlete.athlete_id].append(label.week)
    return {k: dict(v) for k, v in out.items()}
