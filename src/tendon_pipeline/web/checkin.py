"""The runner's check-in from a phone: pain, the tendon session done, a race ahead, feeling unwell.

The form's text becomes numbers and dates here; the entries are then built and checked by
the same functions as ``tendon log strength`` / ``tendon log pain`` / ``tendon log race``
(``domain/logbook.py``: the limits the CLI's options use too) and stored with ``app/logbook.record_entries``, which
evaluates the athlete again at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tendon_pipeline.app.evaluate import today_for
from tendon_pipeline.app.logbook import LogResult, record_entries
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.exercises import unknown_exercise_note
from tendon_pipeline.domain.logbook import LogEntryError, logged_day, pain_entry, race_entry, strength_entry
from tendon_pipeline.domain.models import PainEntry, RaceEntry, StrengthEntry
from tendon_pipeline.warehouse.store import Warehouse

STRENGTH_FIELDS = ("exercise", "sets", "reps", "seconds", "load_kg", "variant")
TEXT_FIELDS = ("exercise", "variant")
# The race's form fields; LogEntryError names the library's field (``name``), shown at ``race_name``.
RACE_FIELD_OF_ERROR = {"distance_km": "distance_km", "priority": "priority", "name": "race_name"}


class CheckInError(ValueError):
    """The form has mistakes: ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass
class CheckIn:
    athlete_id: str
    day: date
    pain: PainEntry | None = None
    strength: StrengthEntry | None = None
    race: RaceEntry | None = None
    unwell: bool = False

    def summary(self) -> list[str]:
        out = []
        if self.pain:
            out.append(f"pain during {self.pain.during}/10"
                       + (f", next morning {self.pain.next_morning}/10" if self.pain.next_morning is not None else ""))
        if self.strength:
            s = self.strength
            out.append(f"{s.exercise.replace('_', ' ')}: {s.sets} x {s.reps or f'{s.seconds:g} s'}"
                       + (f" + {s.load_kg:g} kg" if s.load_kg else "")
                       + (f" ({s.variant.replace('_', ' ')})" if s.variant else ""))
            note = unknown_exercise_note(s.exercise)
            if note:
                out.append(note)
        if self.race:
            r = self.race
            out.append(f"{r.priority} race on {r.local_date}: {r.distance_km:g} km"
                       + (f" ({r.name})" if r.name else ""))
        if self.unwell:
            out.append("feeling unwell")
        return out


class _Fields:
    """Typed reads of the posted form; a value that is not a number or a date goes into ``errors``."""

    def __init__(self, form: dict[str, str]) -> None:
        self.form = form
        self.errors: dict[str, str] = {}

    def text(self, name: str) -> str | None:
        value = (self.form.get(name) or "").strip()
        return value or None

    def number(self, name: str, kind: type[int] | type[float]) -> float | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            self.errors[name] = f"{value!r} is not {'a whole number' if kind is int else 'a number'}"
            return None

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[name] = f"{value!r} is not a date (YYYY-MM-DD)"
            return None


def parse_checkin(form: dict[str, str], athlete_id: str, settings: Settings) -> CheckIn:
    """A CheckIn from the posted form, or CheckInError naming each wrong field."""
    fields = _Fields(form)
    today = today_for(settings, athlete_id)
    day = fields.day("day") or today
    checkin = CheckIn(athlete_id, day, unwell=form.get("unwell") in ("on", "1", "true", "yes"))
    during, morning = fields.number("during", int), fields.number("next_morning", int)
    strength = {n: fields.text(n) if n in TEXT_FIELDS else fields.number(n, int if n in ("sets", "reps") else float)
                for n in STRENGTH_FIELDS}
    if fields.errors:
        raise CheckInError(fields.errors)
    errors: dict[str, str] = {}
    _build(errors, lambda: logged_day(day, today), lambda _: None)  # as tendon log: nothing after today
    if morning is not None and during is None:
        errors["during"] = "give the pain during the run too (tendon log pain needs --during)"
    elif during is not None:
        _build(errors, lambda: pain_entry(athlete_id, day, int(during), None if morning is None else int(morning)),
               lambda entry: setattr(checkin, "pain", entry))
    if any(v is not None for k, v in strength.items() if k != "variant"):
        sets = strength["sets"]
        if sets is None:
            errors["sets"] = "how many sets?"
        else:
            _build(errors, lambda: strength_entry(
                athlete_id, day, str(strength["exercise"] or ""), int(sets),
                reps=None if strength["reps"] is None else int(strength["reps"]),
                seconds=strength["seconds"], load_kg=strength["load_kg"],
                variant=None if strength["variant"] is None else str(strength["variant"])),
                lambda entry: setattr(checkin, "strength", entry))
    _parse_race(fields, checkin, errors)
    if not errors and not (checkin.pain or checkin.strength or checkin.race or checkin.unwell):
        errors["form"] = "nothing to save: give your pain, a tendon session, a race or tick 'feeling unwell'"
    if errors:
        raise CheckInError(errors)
    return checkin


def _parse_race(fields: _Fields, checkin: CheckIn, errors: dict[str, str]) -> None:
    """The race fields, as ``tendon log race`` takes them: a day (may be ahead) and a distance, both
    needed once any race field is given; priority A by default; an optional name."""
    distance, race_day = fields.number("distance_km", float), fields.day("race_day")
    name, priority = fields.text("race_name"), fields.text("priority")
    if fields.errors:
        errors.update(fields.errors)
        return
    if distance is None and race_day is None and name is None:
        return  # the priority select alone (it always posts a value) is no race
    if race_day is None:
        errors["race_day"] = "which day is the race? (tendon log race needs --date)"
    if distance is None:
        errors["distance_km"] = "how far is the race, in km? (tendon log race needs --distance-km)"
    if race_day is None or distance is None:
        return
    _build(errors, lambda: race_entry(checkin.athlete_id, race_day, distance, priority or "A", name),
           lambda entry: setattr(checkin, "race", entry), RACE_FIELD_OF_ERROR)


def _build(errors: dict[str, str], build, keep, field_of: dict[str, str] | None = None) -> None:
    try:
        keep(build())
    except LogEntryError as exc:
        errors[(field_of or {}).get(exc.field, exc.field)] = exc.message


def record_checkin(warehouse: Warehouse, settings: Settings, checkin: CheckIn) -> LogResult:
    """Store the check-in and evaluate the athlete again (``app/logbook.record_entries``)."""
    return record_entries(warehouse, settings, checkin.athlete_id, pain=checkin.pain, strength=checkin.strength,
                          race=checkin.race, unwell_on=checkin.day if checkin.unwell else None)
