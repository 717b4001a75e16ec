"""Next week's plan as files: FIT workouts for the watch and an iCalendar (.ics) for the calendar.

Pure builders: a :class:`WeekPlan` in, bytes out; nothing is read or written here.

* :func:`long_run_workout`: the long-run cap as a running workout of one distance-limited step.
* :func:`tendon_workout`: one tendon session as a strength workout (sport ``training``, sub-sport
  ``strength_training``): per exercise a step (``calf_raise`` or ``plyo``, reps or seconds, the
  added load as the step's weight), a rest step ended with the lap button (the plan prescribes
  no rest time), and a repeat step for the sets.
* :func:`plan_calendar`: one all-day event per planned session (long run, tendon sessions,
  cross-training) on a suggested day, in the athlete's time zone, with a UID that stays the same
  for an athlete, week and session, so importing a newer plan updates the events.
* :func:`plan_files`: all of them, named ``<week>-long-run.fit``, ``<week>-tendon-<n>.fit`` and
  ``<week>.ics`` (``<week>`` is the ISO week, e.g. ``2026-W50``).

The FIT files are written with Garmin's encoder (``garmin-fit-sdk``) and use the FIT profile's
names. Their bytes depend on the plan alone (``time_created`` is the week's Monday, the serial
number a checksum of athlete, week and session), so the same plan always gives the same file.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from garmin_fit_sdk import Encoder, Profile
from icalendar import Calendar, Event, Timezone

from tendon_pipeline.domain.load import iso_week_label
from tendon_pipeline.domain.models import TendonSession, WeekPlan
from tendon_pipeline.domain.plan import CROSS_TRAINING

FIT_MEDIA_TYPE = "application/vnd.ant.fit"
ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//tendon-pipeline//next week's plan//EN"
SUGGESTION = "The day is a suggestion: move the session to suit your week."

_FIT_EPOCH = datetime(1989, 12, 31, tzinfo=UTC)
_FIT_TEXT_BYTES = 254  # a FIT string field holds at most 255 bytes with its terminating zero
_SEQUENCE_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

# exercise -> (FIT exercise_category, exercise_name without / with added load, title)
_FIT_EXERCISES: dict[str, tuple[str, str | None, str | None, str]] = {
    "isometric_calf_raise_hold": ("calf_raise", "standing_calf_raise", "weighted_standing_calf_raise",
                                  "Calf-raise hold"),
    "eccentric_heel_drop": ("calf_raise", "standing_calf_raise", "weighted_standing_calf_raise",
                            "Eccentric heel drop"),
    "calf_raise": ("calf_raise", "standing_calf_raise", "weighted_standing_calf_raise", "Calf raise"),
    "pogo_hops": ("plyo", None, None, "Pogo hops"),
}
# Suggested weekdays (Monday = 0) for n tendon sessions: a day between sessions where the week
# allows it, none on Sunday (the long run); cross-training takes the days left, in this order.
_TENDON_DAYS: dict[int, tuple[int, ...]] = {
    1: (2,), 2: (1, 4), 3: (0, 2, 4), 4: (0, 1, 3, 4), 5: (0, 1, 2, 3, 4), 6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}
_CROSS_TRAINING_DAYS = (5, 3, 1, 2, 0, 4)
_LONG_RUN_DAY = 6


@dataclass(frozen=True)
class PlanFile:
    """One downloadable file: its name, media type, bytes, and what it is (one line)."""

    name: str
    media_type: str
    content: bytes
    title: str


@dataclass(frozen=True)
class PlannedSession:
    """One session of the week on its suggested day (a calendar event)."""

    key: str  # "long-run", "tendon-1", "cross-training-1": stable within a week
    day: date
    title: str
    details: str
    reasons: tuple[str, ...]
    workout_file: str | None  # the FIT file for this session, if there is one


# --------------------------------------------------------------------------- the week


def week_label(plan: WeekPlan) -> str:
    """The plan's ISO week, e.g. ``2026-W50`` (the prefix of every file name)."""
    return iso_week_label(plan.week_start)


def has_long_run(plan: WeekPlan) -> bool:
    return plan.long_run_cap_km > 0


def tendon_session_count(plan: WeekPlan) -> int:
    return plan.tendon_sessions_per_week if plan.tendon_sessions else 0


def long_run_file_name(plan: WeekPlan) -> str:
    return f"{week_label(plan)}-long-run.fit"


def tendon_file_name(plan: WeekPlan, number: int) -> str:
    return f"{week_label(plan)}-tendon-{number}.fit"


def calendar_file_name(plan: WeekPlan) -> str:
    return f"{week_label(plan)}.ics"


def _reasons_about(plan: WeekPlan, words: Sequence[str]) -> tuple[str, ...]:
    """The plan's reasons that mention one of ``words`` (all of them when none does)."""
    found = tuple(r for r in plan.reasons if any(w in r.lower() for w in words))
    return found or tuple(plan.reasons)


def running_reasons(plan: WeekPlan) -> tuple[str, ...]:
    return _reasons_about(plan, ("long run", " km", "acwr"))


def tendon_reasons(plan: WeekPlan) -> tuple[str, ...]:
    return _reasons_about(plan, ("tendon", "pogo", "hops", "heel drop", "holds"))


def cross_training_reasons(plan: WeekPlan) -> tuple[str, ...]:
    return _reasons_about(plan, ("cross-training",))


def exercise_title(exercise: str) -> str:
    known = _FIT_EXERCISES.get(exercise)
    return known[3] if known else exercise.replace("_", " ").capitalize()


def dose_text(session: TendonSession) -> str:
    """'Calf-raise hold: 4 x 45 s + 20 kg'."""
    amount = f"{session.reps} reps" if session.reps else f"{session.hold_s:g} s" if session.hold_s else "as able"
    weight = f" + {session.load_kg:g} kg" if session.load_kg else ""
    return f"{exercise_title(session.exercise)}: {session.sets} x {amount}{weight}"


def planned_sessions(plan: WeekPlan) -> list[PlannedSession]:
    """The week's sessions on suggested days, in date order: the long run on Sunday, the tendon
    sessions spread over Monday to Friday (a day between them where the count allows), the
    cross-training on the days left."""
    monday = plan.week_start
    sessions: list[PlannedSession] = []
    if has_long_run(plan):
        sessions.append(PlannedSession(
            key="long-run", day=monday + timedelta(days=_LONG_RUN_DAY),
            title=f"Long run: at most {plan.long_run_cap_km:g} km",
            details=(f"Long run, at most {plan.long_run_cap_km:g} km. Running this week: "
                     f"{plan.target_km_low:g}-{plan.target_km_high:g} km in all (plan: {plan.status})."),
            reasons=running_reasons(plan), workout_file=long_run_file_name(plan)))
    count = tendon_session_count(plan)
    tendon_days = _TENDON_DAYS.get(count, tuple(range(7)))[:count]
    exercises = "\n".join(f"- {dose_text(s)}. {s.note}".rstrip() for s in plan.tendon_sessions)
    for number, weekday in enumerate(tendon_days, start=1):
        sessions.append(PlannedSession(
            key=f"tendon-{number}", day=monday + timedelta(days=weekday),
            title=f"Tendon session {number}/{count}",
            details=f"Tendon session {number} of {count} this week:\n{exercises}",
            reasons=tendon_reasons(plan), workout_file=tendon_file_name(plan, number)))
    free = [d for d in _CROSS_TRAINING_DAYS if d not in tendon_days] or list(_CROSS_TRAINING_DAYS)
    for number in range(1, plan.cross_training_sessions + 1):
        weekday = free[(number - 1) % len(free)]
        sessions.append(PlannedSession(
            key=f"cross-training-{number}", day=monday + timedelta(days=weekday),
            title=f"Cross-training {number}/{plan.cross_training_sessions}",
            details=(f"Cross-training instead of a run ({CROSS_TRAINING}), at the effort and for "
                     f"the time of the run it replaces."),
            reasons=cross_training_reasons(plan), workout_file=None))
    return sorted(sessions, key=lambda s: (s.day, s.key))


# --------------------------------------------------------------------------- FIT workouts


@cache
def _mesg_num(name: str) -> int:
    return int(Profile["mesg_num"][name.upper()])


@cache
def _field_names(name: str) -> frozenset[str]:
    return frozenset(f["name"] for f in Profile["messages"][_mesg_num(name)]["fields"].values())


@cache
def _type_value(type_name: str, value_name: str) -> int:
    """The number of a FIT profile name, e.g. ``_type_value("calf_raise_exercise_name", ...)``."""
    for number, name in Profile["types"][type_name].items():
        if name == value_name:
            return int(number)
    raise ValueError(f"{value_name!r} is not a FIT {type_name} name")


def _mesg(name: str, **fields: Any) -> dict[str, Any]:
    """An encoder message; None values dropped, unknown field names refused (the encoder would
    skip them silently)."""
    unknown = set(fields) - _field_names(name)
    if unknown:
        raise ValueError(f"{name}: unknown FIT field(s) {sorted(unknown)}")
    return {"mesg_num": _mesg_num(name), **{k: v for k, v in fields.items() if v is not None}}


def fit_text(text: str, limit: int = _FIT_TEXT_BYTES) -> str:
    """``text`` cut to fit a FIT string field (``limit`` bytes of UTF-8), marked with '...'."""
    if len(text.encode("utf-8")) <= limit:
        return text
    cut = text.encode("utf-8")[: limit - 3].decode("utf-8", errors="ignore")
    return cut.rstrip() + "..."


def _serial(plan: WeekPlan, key: str) -> int:
    """A stable, non-zero 32-bit serial number for one file of one plan."""
    return zlib.crc32(f"{plan.athlete_id}:{week_label(plan)}:{key}".encode()) or 1


def _file_id(plan: WeekPlan, key: str) -> dict[str, Any]:
    created = datetime.combine(plan.week_start, time(0), tzinfo=UTC)
    return _mesg("file_id", type="workout", manufacturer="development", product=0,
                 serial_number=_serial(plan, key), time_created=int((created - _FIT_EPOCH).total_seconds()))


def _encode(messages: Sequence[dict[str, Any]]) -> bytes:
    encoder = Encoder()
    for message in messages:
        encoder.write_mesg(message)
    return bytes(encoder.close())


def long_run_workout(plan: WeekPlan) -> bytes:
    """The long-run cap as a FIT running workout: one step ending at the cap's distance.

    Raises ValueError when the plan has no long run (a cap of 0 km)."""
    if not has_long_run(plan):
        raise ValueError(f"the plan for {week_label(plan)} has no long run (cap 0 km)")
    cap = plan.long_run_cap_km
    why = " ".join(running_reasons(plan))
    # duration_value is raw: the encoder does not apply the sub-field's scale (duration_distance: cm)
    step = _mesg("workout_step", message_index=0, wkt_step_name=fit_text(f"Long run max {cap:g} km", 50),
                 duration_type="distance", duration_value=round(cap * 100_000), target_type="open",
                 intensity="active", notes=fit_text(f"Stop at {cap:g} km. {why}"))
    workout = _mesg("workout", wkt_name=fit_text(f"Long run max {cap:g} km", 50), sport="running",
                    sub_sport="generic", num_valid_steps=1, wkt_description=fit_text(why))
    return _encode([_file_id(plan, "long-run"), workout, step])


def _exercise_step(index: int, session: TendonSession) -> dict[str, Any]:
    category, plain, weighted, title = _FIT_EXERCISES.get(session.exercise, ("unknown", None, None, ""))
    subtype = weighted if session.load_kg else plain
    if session.reps:
        duration: dict[str, Any] = {"duration_type": "reps", "duration_value": session.reps}
    elif session.hold_s:  # raw: duration_time is in ms
        duration = {"duration_type": "time", "duration_value": round(session.hold_s * 1000)}
    else:
        duration = {"duration_type": "open"}
    return _mesg(
        "workout_step", message_index=index, wkt_step_name=fit_text(dose_text(session), 50),
        **duration, target_type="open", intensity="active", notes=fit_text(session.note) or None,
        exercise_category=category,
        exercise_name=_type_value(f"{category}_exercise_name", subtype) if subtype else None,
        exercise_weight=session.load_kg or None, weight_display_unit="kilogram" if session.load_kg else None)


def _rest_step(index: int) -> dict[str, Any]:
    return _mesg("workout_step", message_index=index, wkt_step_name="Rest, lap when ready",
                 duration_type="open", target_type="open", intensity="rest")


def _repeat_step(index: int, first: int, sets: int) -> dict[str, Any]:
    # raw: duration_value is duration_step (the step to go back to), target_value is repeat_steps
    return _mesg("workout_step", message_index=index, wkt_step_name=f"{sets} sets",
                 duration_type="repeat_until_steps_cmplt", duration_value=first, target_type="open",
                 target_value=sets, intensity="active")


def _exercise_steps(sessions: Sequence[TendonSession]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for session in sessions:
        first = len(steps)
        steps.append(_exercise_step(first, session))
        if session.sets > 1:
            steps.append(_rest_step(first + 1))
            steps.append(_repeat_step(first + 2, first, session.sets))
    return steps


def tendon_workout(plan: WeekPlan, number: int) -> bytes:
    """Tendon session ``number`` (1 ..) of the week as a FIT strength workout.

    Raises ValueError when the plan has no such session."""
    count = tendon_session_count(plan)
    if not 1 <= number <= count:
        raise ValueError(f"the plan for {week_label(plan)} has {count} tendon session(s), not {number}")
    steps = _exercise_steps(plan.tendon_sessions)
    workout = _mesg("workout", wkt_name=f"Tendon {number}/{count} {week_label(plan)}", sport="training",
                    sub_sport="strength_training", num_valid_steps=len(steps),
                    wkt_description=fit_text(" ".join(tendon_reasons(plan))))
    return _encode([_file_id(plan, f"tendon-{number}"), workout, *steps])


# --------------------------------------------------------------------------- calendar


def _zone(tz_name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz_name!r} (use an IANA name such as 'Europe/Oslo')") from None


def event_uid(plan: WeekPlan, key: str) -> str:
    """The same for an athlete, week and session, whatever else changed in the plan."""
    return f"{plan.athlete_id}-{week_label(plan)}-{key}@tendon-pipeline"


def _description(session: PlannedSession) -> str:
    parts = [session.details, "Why: " + " ".join(session.reasons), SUGGESTION]
    if session.workout_file:
        parts.append(f"Workout for the watch: {session.workout_file}")
    return "\n\n".join(parts)


def _event(plan: WeekPlan, session: PlannedSession, stamp: datetime, sequence: int) -> Event:
    event = Event()
    event.add("uid", event_uid(plan, session.key))
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", sequence)
    event.add("summary", session.title)
    event.add("dtstart", session.day)
    event.add("dtend", session.day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("description", _description(session))
    return event


def plan_calendar(plan: WeekPlan, tz_name: str | None, *, stamp: datetime | None = None) -> bytes:
    """The week's sessions as an iCalendar: all-day events on the suggested days.

    ``tz_name`` is the athlete's IANA zone (UTC when None): the calendar's zone (X-WR-TIMEZONE
    and its VTIMEZONE); all-day dates are the athlete's local dates. ``stamp`` (default: now)
    is DTSTAMP and sets SEQUENCE (seconds since 2024), so a later export of the same week
    replaces the events it imported before."""
    zone = _zone(tz_name)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    sequence = max(0, int((stamp - _SEQUENCE_EPOCH).total_seconds()))
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Tendon plan {plan.athlete_id} {week_label(plan)}")
    calendar.add("x-wr-timezone", zone.key)
    year = plan.week_start.year  # the zone's rules for the plan's year and the next
    calendar.add_component(Timezone.from_tzid(zone.key, first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1)))
    for session in planned_sessions(plan):
        calendar.add_component(_event(plan, session, stamp, sequence))
    return calendar.to_ical()


# --------------------------------------------------------------------------- all files


def plan_files(plan: WeekPlan, tz_name: str | None, *, stamp: datetime | None = None) -> list[PlanFile]:
    """Every file of the plan: the long-run workout (when there is a long run), one workout
    per tendon session, and the calendar."""
    files: list[PlanFile] = []
    if has_long_run(plan):
        files.append(PlanFile(long_run_file_name(plan), FIT_MEDIA_TYPE, long_run_workout(plan),
                              f"long run, at most {plan.long_run_cap_km:g} km (FIT workout)"))
    count = tendon_session_count(plan)
    for number in range(1, count + 1):
        files.append(PlanFile(tendon_file_name(plan, number), FIT_MEDIA_TYPE, tendon_workout(plan, number),
                              f"tendon session {number} of {count} (FIT strength workout)"))
    events = len(planned_sessions(plan))
    files.append(PlanFile(calendar_file_name(plan), ICS_MEDIA_TYPE, plan_calendar(plan, tz_name, stamp=stamp),
                          f"{events} session(s) on suggested days (calendar)"))
    return files


__all__ = [
    "FIT_MEDIA_TYPE", "ICS_MEDIA_TYPE", "PlanFile", "PlannedSession", "event_uid", "long_run_workout",
    "plan_calendar", "plan_files", "planned_sessions", "tendon_workout", "week_label",
]
