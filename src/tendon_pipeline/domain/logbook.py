"""The runner's own log, what the watch does not record: the checks every way in shares.

``tendon log`` (its options' ranges are the limits in ``log_limits.py``) and the runner's check-in page build
their entries here; ``app/logbook.py`` stores them and evaluates the athlete again.
"""

from __future__ import annotations

from datetime import date

from tendon_pipeline.domain.exercises import VARIANTS, exercise_name, kind_of
from tendon_pipeline.domain.log_limits import (
    LOAD_KG,
    PAIN,
    RACE_KM,
    RACE_NAME_MAX_CHARS,
    RACE_PRIORITIES,
    REPS,
    REPS_IN_RESERVE,
    SECONDS,
    SETS,
)
from tendon_pipeline.domain.models import PainEntry, RaceEntry, StrengthEntry


class LogEntryError(ValueError):
    """A logged value that cannot be right: ``field`` names it (terminal: a retry will not help)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _within(field: str, value: float | None, limits: tuple[float, float], what: str) -> None:
    low, high = limits
    if value is not None and not low <= value <= high:
        raise LogEntryError(field, f"{what} must be between {low:g} and {high:g} (got {value:g})")


def logged_day(day: date, today: date) -> date:
    """A day something happened (pain, a tendon session, feeling unwell): not after the athlete's
    today. Races are entered ahead and do not pass through here."""
    if day > today:
        raise LogEntryError("day", f"{day} is in the future (today there is {today}): log what happened, up to today")
    return day


def strength_entry(athlete_id: str, day: date, exercise: str, sets: int, *, reps: int | None = None,
                   seconds: float | None = None, load_kg: float | None = None, variant: str | None = None,
                   reps_in_reserve: int | None = None) -> StrengthEntry:
    """One exercise (all its sets), checked: a name, sets, exactly one of reps or seconds, each in
    range; a known variant; reps in reserve only with reps."""
    name = exercise_name(exercise or "")
    if not name:
        raise LogEntryError("exercise", "which exercise? (e.g. eccentric_heel_drop)")
    _within("sets", sets, SETS, "sets")
    if (reps is None) == (seconds is None):
        raise LogEntryError("reps", "give exactly one of reps or seconds")
    _within("reps", reps, REPS, "reps")
    _within("seconds", seconds, SECONDS, "seconds per set")
    _within("load_kg", load_kg, LOAD_KG, "load (kg)")
    if variant is not None and variant not in VARIANTS:
        raise LogEntryError("variant", f"variant must be one of {', '.join(VARIANTS)} (got {variant!r})")
    if reps_in_reserve is not None and reps is None:
        raise LogEntryError("reps_in_reserve", "reps_in_reserve needs reps")
    _within("reps_in_reserve", reps_in_reserve, REPS_IN_RESERVE, "reps in reserve")
    return StrengthEntry(athlete_id=athlete_id, local_date=day, exercise=name, kind=kind_of(name), sets=sets,
                         reps=reps, seconds=seconds, load_kg=load_kg, variant=variant,
                         reps_in_reserve=reps_in_reserve)


def pain_entry(athlete_id: str, day: date, during: int, next_morning: int | None = None) -> PainEntry:
    """Achilles pain during activity and the next morning, 0-10 (Silbernagel's pain-monitoring model)."""
    _within("during", during, PAIN, "pain during")
    _within("next_morning", next_morning, PAIN, "pain next morning")
    return PainEntry(athlete_id=athlete_id, local_date=day, during=during, next_morning=next_morning)


def race_entry(athlete_id: str, day: date, distance_km: float, priority: str = "A",
               name: str | None = None) -> RaceEntry:
    """A race or planned hard effort, checked: a distance above 0 and up to 400 km, priority A, B or
    C (either case), an optional name of at most RACE_NAME_MAX_CHARS characters. The day may be ahead."""
    low, high = RACE_KM
    if not low < distance_km <= high:
        raise LogEntryError("distance_km", f"race distance (km) must be above {low:g} and at most {high:g}"
                                           f" (got {distance_km:g})")
    if (priority or "").upper() not in RACE_PRIORITIES:
        raise LogEntryError("priority", f"priority must be one of {', '.join(RACE_PRIORITIES)} (got {priority!r})")
    label = (name or "").strip() or None
    if label is not None and len(label) > RACE_NAME_MAX_CHARS:
        raise LogEntryError("name", f"the race name must be at most {RACE_NAME_MAX_CHARS} characters"
                                    f" (got {len(label)})")
    return RaceEntry(athlete_id=athlete_id, local_date=day, distance_km=distance_km, priority=priority.upper(),
                     name=label)
