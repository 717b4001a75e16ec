"""The realistic cohort (issue 15): deterministic, every scenario present, labels that match
what was generated, and the alert-burden bench's pipeline end to end on a small cohort."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from garmin_fit_sdk import Decoder, Stream

from tendon_pipeline.domain.models import Alert
from tendon_pipeline.examples.cohort import (
    LABEL_DEFINITIONS,
    NO_TENDON_WEEKS,
    PAIN_DURING_LINE,
    PAIN_MORNING_LINE,
    PERSONAS,
    build_cohort,
    cohort_fit_bytes,
    smart_record_offsets,
)

BENCH = Path(__file__).resolve().parents[1] / "bench" / "alert_burden.py"
RUNNING = {"running"}


@pytest.fixture(scope="module")
def cohort():
    return build_cohort(seed=0)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("alert_burden", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["alert_burden"] = module
    spec.loader.exec_module(module)
    return module


def _records(data: bytes) -> list[dict]:
    messages, errors = Decoder(Stream.from_byte_array(bytearray(data))).read()
    assert not errors
    return messages["record_mesgs"]


def _session(data: bytes) -> dict:
    messages, _ = Decoder(Stream.from_byte_array(bytearray(data))).read()
    return messages["session_mesgs"][0]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _runs(athlete) -> list[tuple[date, float]]:
    """(local date, km) of every running activity, from the FIT specs themselves."""
    return [(a.local_start.date(), a.distance_m / 1000) for a in athlete.activities if a.sport in RUNNING]


def _week_km(athlete, start: date, weeks: int) -> list[float]:
    km = defaultdict(float)
    for day, dist in _runs(athlete):
        km[_monday(day)] += dist
    return [km[start + timedelta(days=7 * w)] for w in range(weeks)]


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_cohort_and_files_other_seed_differs():
    first = build_cohort(seed=7, weeks=12, athletes=["hanna", "rita"])
    again = build_cohort(seed=7, weeks=12, athletes=["hanna", "rita"])
    other = build_cohort(seed=8, weeks=12, athletes=["hanna", "rita"])
    assert first == again
    assert first.athletes[0].activities != other.athletes[0].activities
    spec = first.athletes[0].activities[0]
    assert cohort_fit_bytes(spec, smart_recording=True) == cohort_fit_bytes(again.athletes[0].activities[0],
                                                                            smart_recording=True)


def test_cohort_rejects_unknown_persona_and_a_start_that_is_not_a_monday():
    with pytest.raises(ValueError, match="unknown persona"):
        build_cohort(athletes=["nobody"])
    with pytest.raises(ValueError, match="not a Monday"):
        build_cohort(start=date(2025, 3, 4))


# --------------------------------------------------------------------------- scenarios


def test_at_least_eight_athletes_for_a_year_healthy_and_risky(cohort):
    assert len(cohort.athletes) >= 8 and cohort.weeks == 52
    groups = {a.group for a in cohort.athletes}
    assert groups == {"healthy", "risky"}
    for athlete in cohort.athletes:
        assert len(athlete.weeks) == 52


def test_every_scenario_appears(cohort):
    tags = {t for a in cohort.athletes for t in a.scenarios}
    for scenario in ("down_week", "christmas", "illness", "illness_return", "holiday", "marathon_build", "taper",
                     "race", "race_recovery", "treadmill", "no_cadence", "smart_recording", "overreaching",
                     "long_run_spike", "strength_fit", "strength_logged", "strength_none", "tendon_work_dropped",
                     "pain_logs", "pain_flare"):
        assert scenario in tags, scenario


def test_down_week_every_fourth_week(cohort):
    athlete = next(a for a in cohort.athletes if a.athlete_id == "henrik")
    down = [i for i, w in enumerate(athlete.weeks) if "down_week" in w.tags]
    assert down and all(i % 4 == 3 for i in down)
    for i in down[:4]:  # clearly below the weeks around it
        assert athlete.weeks[i].running_km < 0.85 * athlete.weeks[i - 1].running_km


def test_illness_is_a_two_week_gap_without_any_activity(cohort):
    athlete = next(a for a in cohort.athletes if a.athlete_id == "hugo")
    ill = [w.monday for w in athlete.weeks if "illness" in w.tags]
    assert len(ill) == 2 and ill[1] - ill[0] == timedelta(days=7)
    gap_end = ill[1] + timedelta(days=7)
    during = [a for a in athlete.activities if ill[0] <= a.local_start.date() < gap_end]
    assert during == []
    assert not [s for s in athlete.strength_logs + athlete.pain_logs if ill[0] <= s.local_date < gap_end]
    after = [km for km in _week_km(athlete, cohort.start, 52)[(ill[1] - cohort.start).days // 7 + 1:]]
    assert after[0] > 0


def test_marathon_with_taper_race_and_recovery(cohort):
    athlete = next(a for a in cohort.athletes if a.athlete_id == "hanna")
    (race,) = athlete.races
    assert race.distance_km == pytest.approx(42.195)
    race_run = [a for a in athlete.activities if a.local_start.date() == race.local_date and a.sport == "running"]
    assert len(race_run) == 1 and race_run[0].distance_m == pytest.approx(42195, abs=1)
    index = (_monday(race.local_date) - cohort.start).days // 7
    km = [w.running_km for w in athlete.weeks]
    assert "taper" in athlete.weeks[index - 1].tags and km[index - 2] > km[index - 1]
    assert "race_recovery" in athlete.weeks[index + 1].tags and km[index + 1] < 0.5 * km[index - 3]


def test_treadmill_block_is_eight_weeks_of_treadmill_runs_without_positions(cohort):
    athlete = next(a for a in cohort.athletes if a.athlete_id == "henrik")
    weeks = [w.monday for w in athlete.weeks if "treadmill" in w.tags]
    assert len(weeks) == 8
    treadmill = [a for a in athlete.activities if a.sub_sport == "treadmill"]
    assert {_monday(a.local_start.date()) for a in treadmill} == set(weeks)
    data = cohort_fit_bytes(treadmill[0], smart_recording=athlete.smart_recording)
    assert _session(data)["sub_sport"] == "treadmill"
    assert not any("position_lat" in r or "position_long" in r for r in _records(data))


def test_a_watch_without_cadence_writes_no_cadence(cohort):
    athlete = next(a for a in cohort.athletes if a.athlete_id == "hilde")
    run = next(a for a in athlete.activities if a.sport == "running")
    assert run.cadence_spm is None
    records = _records(cohort_fit_bytes(run, smart_recording=athlete.smart_recording))
    assert records and not any("cadence" in r for r in records)


def test_smart_recording_keeps_records_1_to_6_s_apart_irregularly(cohort):
    athlete = next(a for a in cohort.athletes if a.smart_recording)
    run = next(a for a in athlete.activities if a.sport == "running")
    records = _records(cohort_fit_bytes(run, smart_recording=True))
    seconds = np.array([r["timestamp"].timestamp() for r in records])
    gaps = np.diff(seconds)
    assert gaps.min() >= 1 and gaps.max() <= 6
    assert len(set(gaps.tolist())) >= 4  # irregular, not a fixed interval
    assert len(records) < 0.5 * run.duration_s
    assert seconds[-1] - seconds[0] == run.duration_s - 1  # first and last second kept
    assert _session(cohort_fit_bytes(run, smart_recording=True))["total_distance"] == pytest.approx(run.distance_m,
                                                                                                     abs=0.5)


def test_every_second_recording_stays_at_1_s(cohort):
    athlete = next(a for a in cohort.athletes if not a.smart_recording)
    run = next(a for a in athlete.activities if a.sport == "running")
    seconds = np.array([r["timestamp"].timestamp() for r in _records(cohort_fit_bytes(run, smart_recording=False))])
    assert set(np.diff(seconds).tolist()) == {1.0}


def test_smart_record_offsets_span_the_activity():
    kept = smart_record_offsets(600, seed=3)
    assert kept[0] == 0 and kept[-1] == 599
    assert set(np.diff(kept).tolist()) <= {1, 2, 3, 4, 5, 6}


def test_tendon_work_on_the_watch_by_hand_or_never(cohort):
    by_id = {a.athlete_id: a for a in cohort.athletes}
    fit_sets = [s for a in by_id["hilde"].activities for s in a.strength_sets if s.category == "calf_raise"]
    assert fit_sets
    assert by_id["henrik"].strength_logs and not [a for a in by_id["henrik"].activities if a.strength_sets]
    ralf = by_id["ralf"]
    assert not ralf.strength_logs and not [a for a in ralf.activities if a.strength_sets]


# --------------------------------------------------------------------------- labels


def _expected_ramp_weeks(athlete, start: date) -> set[date]:
    km = _week_km(athlete, start, 52)
    out = set()
    for i, week in enumerate(km):
        previous = [k for k in km[:i] if k > 0][-4:]
        if week > 0 and previous and week > 1.3 * sum(previous) / len(previous):
            out.add(start + timedelta(days=7 * i))
    return out


def _expected_long_run_weeks(athlete) -> set[date]:
    races = {r.local_date for r in athlete.races}
    runs = _runs(athlete)
    out = set()
    for day, km in runs:
        prior = [k for d, k in runs if day - timedelta(days=30) <= d < day]
        if day not in races and prior and km > 1.1 * max(prior):
            out.add(_monday(day))
    return out


def _labelled(athlete, kind: str) -> set[date]:
    return {lab.week for lab in athlete.labels if lab.kind == kind}


def test_ramp_labels_are_exactly_the_weeks_over_30_percent_on_the_chronic_level(cohort):
    for athlete in cohort.athletes:
        assert _labelled(athlete, "ramp") == _expected_ramp_weeks(athlete, cohort.start), athlete.athlete_id
    rolf = next(a for a in cohort.athletes if a.athlete_id == "rolf")
    for label in [lab for lab in rolf.labels if lab.kind == "ramp"]:
        assert label.evidence["week_km"] > 1.3 * label.evidence["chronic_km"]


def test_long_run_labels_are_exactly_the_runs_over_10_percent_on_the_30_day_longest(cohort):
    for athlete in cohort.athletes:
        assert _labelled(athlete, "long_run") == _expected_long_run_weeks(athlete), athlete.athlete_id


def test_no_tendon_work_label_follows_four_running_weeks_without_a_session(cohort):
    for athlete in cohort.athletes:
        tendon_weeks = {_monday(a.local_start.date()) for a in athlete.activities if a.strength_sets}
        tendon_weeks |= {_monday(s.local_date) for s in athlete.strength_logs}
        running_weeks = [w for w, km in zip([w.monday for w in athlete.weeks], _week_km(athlete, cohort.start, 52))
                         if km > 0]
        for label in [lab for lab in athlete.labels if lab.kind == "no_tendon_work"]:
            before = [w for w in running_weeks if w <= label.week][-NO_TENDON_WEEKS:]
            assert len(before) == NO_TENDON_WEEKS and not tendon_weeks & set(before)
    by_id = {a.athlete_id: a for a in cohort.athletes}
    assert len(_labelled(by_id["ralf"], "no_tendon_work")) >= 10  # never does any
    assert len(_labelled(by_id["runa"], "no_tendon_work")) == 1  # dropped it for six weeks


def test_pain_labels_are_the_weeks_with_pain_above_the_line(cohort):
    for athlete in cohort.athletes:
        over = {_monday(p.local_date) for p in athlete.pain_logs
                if p.during > PAIN_DURING_LINE or p.next_morning > PAIN_MORNING_LINE}
        assert _labelled(athlete, "pain") == over
    runa = next(a for a in cohort.athletes if a.athlete_id == "runa")
    assert len(_labelled(runa, "pain")) == 2


def test_healthy_athletes_carry_no_label_and_every_injection_is_labelled(cohort):
    for athlete in cohort.athletes:
        if athlete.group == "healthy":
            assert athlete.labels == [], athlete.athlete_id
        else:
            assert athlete.labels, athlete.athlete_id
    for persona in PERSONAS:
        athlete = next(a for a in cohort.athletes if a.athlete_id == persona.athlete_id)
        for first in persona.overreach_weeks:
            assert cohort.start + timedelta(days=7 * (first + 1)) in _labelled(athlete, "ramp")
        for week in persona.long_run_spikes:
            assert cohort.start + timedelta(days=7 * week) in _labelled(athlete, "long_run")


# --------------------------------------------------------------------------- the bench


def _alert(athlete: str, rule: str, severity: str, day: date) -> Alert:
    return Alert(athlete_id=athlete, rule=rule, severity=severity, date=day, period=day.isoformat(),
                 message="m", evidence={}, source="s")


def test_a_label_is_flagged_only_by_a_relevant_caution_in_its_week_or_the_7_days_after(bench):
    cohort = build_cohort(seed=0, weeks=12, athletes=["rolf"])
    label = next(lab for lab in cohort.athletes[0].labels if lab.kind == "ramp")
    week = label.week

    def flagged(*alerts):
        by_athlete = defaultdict(list)
        for alert in alerts:
            by_athlete[alert.athlete_id].append(alert)
        return bench._flagged(label, by_athlete)

    assert flagged(_alert("rolf", "weekly_volume_increase", "caution", week))
    assert flagged(_alert("rolf", "acwr", "warning", week + timedelta(days=13)))
    assert not flagged(_alert("rolf", "acwr", "warning", week + timedelta(days=14)))
    assert not flagged(_alert("rolf", "weekly_volume_increase", "caution", week - timedelta(days=1)))
    assert not flagged(_alert("rolf", "weekly_volume_increase", "info", week))
    assert not flagged(_alert("rolf", "session_spike", "high", week))  # a run spike is another cause
    assert not flagged(_alert("rita", "weekly_volume_increase", "warning", week))


def test_incidents_group_one_athletes_alerts_of_one_cause_and_iso_week(bench):
    cohort = build_cohort(seed=0, weeks=4, athletes=["hilde", "rolf"])
    monday = cohort.start + timedelta(days=7)
    alerts = [_alert("hilde", "weekly_volume_increase", "warning", monday),
              _alert("hilde", "tendon_load_increase", "warning", monday),
              _alert("hilde", "acwr", "caution", monday),
              _alert("hilde", "session_spike", "caution", monday + timedelta(days=6)),
              _alert("hilde", "monotony", "info", monday)]
    result = bench.summarise(cohort, alerts, bench.Counter(), {}, {})
    assert result.incidents["healthy"] == {"alerts": 4, "incidents": 2}
    assert result.rates["healthy"]["caution_or_worse"] == pytest.approx(4 / 4)
    assert result.rates["healthy"]["warning_or_worse"] == pytest.approx(2 / 4)
    assert result.alerts["healthy"]["acwr"] == {"caution": 1}
    assert result.targets["healthy_warning_or_worse_per_athlete_week"]["pass"] is False


def test_small_cohort_end_to_end_through_the_bench(bench, tmp_path):
    cohort = build_cohort(seed=0, weeks=9, athletes=["hilde", "rolf"])
    result = bench.run(cohort, out=tmp_path, ingest_workers=1)
    assert result.athletes == {"healthy": ["hilde"], "risky": ["rolf"]}
    assert result.athlete_weeks == {"healthy": 9, "risky": 9}
    assert set(result.recall) == set(LABEL_DEFINITIONS)
    labels = cohort.athletes[1].labels
    assert result.recall["ramp"]["labelled"] == len([lab for lab in labels if lab.kind == "ramp"]) > 0
    for figures in result.recall.values():
        assert figures["flagged"] + len(figures["missed"]) == figures["labelled"]
    for group in ("healthy", "risky"):
        counts = result.alerts[group]
        serious = sum(n for sev in counts.values() for s, n in sev.items() if s != "info")
        assert result.rates[group]["caution_or_worse"] == pytest.approx(serious / 9, abs=1e-3)
        assert result.incidents[group]["alerts"] == serious
    assert sum(sum(sev.values()) for sev in result.alerts["risky"].values()) > 0  # rolf overreaches
    assert set(result.targets) == set(bench.TARGETS)
    assert json.loads(json.dumps(result.to_dict(), default=str))["meta"]["weeks"] == 9
    assert (next(tmp_path.iterdir()) / "COMPLETE").exists()  # files kept for the next run


def test_run_loads_once_gives_the_alerts_of_recomputing_them_every_evaluation(bench, tmp_path):
    cohort = build_cohort(seed=0, weeks=9, athletes=["rolf"])
    once = bench.run(cohort, out=tmp_path, ingest_workers=1)
    live = bench.run(cohort, out=tmp_path, ingest_workers=1, live_loads=True)
    assert once.alerts == live.alerts and once.alerts["risky"]
    assert once.recall == live.recall
