"""The runner's check-in from a phone: pain, the tendon session done, feeling unwell.

Validated as ``tendon log`` validates: every field goes through the type of the matching
option of ``tendon log pain`` / ``tendon log strength`` (the same ranges and choices,
declared once, in the CLI), then into the same models (PainEntry, StrengthEntry) and the
same warehouse functions, and the athlete is evaluated again at once, as after a
``tendon log`` command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import click

from tendon_pipeline.app.evaluate import evaluate_athlete, today_for
from tendon_pipeline.cli.rules import log_pain as pain_command
from tendon_pipeline.cli.rules import log_strength as strength_command
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.exercises import exercise_name, kind_of
from tendon_pipeline.domain.models import Alert, PainEntry, StrengthEntry, WeekPlan
from tendon_pipeline.warehouse.feedback import log_unwell
from tendon_pipeline.warehouse.history import log_pain, log_strength, read_plan
from tendon_pipeline.warehouse.store import Warehouse

PAIN_FIELDS = ("during", "next_morning")
STRENGTH_FIELDS = tuple(p.name for p in strength_command.params
                        if isinstance(p, click.Option) and p.name not in ("athlete", "day"))


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
    unwell: bool = False

    def summary(self) -> list[str]:
        out = []
        if self.pain:
            out.append(f"pain during {self.pain.during}/10"
                       + (f", next morning {self.pain.next_morning}/10" if self.pain.next_morning is not None else ""))
        if self.strength:
            s = self.strength
            out.append(f"{s.exercise.replace('_', ' ')}: {s.sets} x {s.reps or f'{s.seconds:g} s'}"
                       + (f" + {s.load_kg:g} kg" if s.load_kg else ""))
        if self.unwell:
            out.append("feeling unwell")
        return out


@dataclass
class CheckInResult:
    checkin: CheckIn
    plan_before: WeekPlan | None
    plan_after: WeekPlan
    new_alerts: list[Alert] = field(default_factory=list)


def variant_choices() -> list[str]:
    """The choices of ``tendon log strength --variant`` (none while the CLI has no such option)."""
    param = next((p for p in strength_command.params if p.name == "variant"), None)
    return list(getattr(param.type, "choices", [])) if param is not None else []


def _param(command: click.Command, name: str) -> click.Parameter:
    return next(p for p in command.params if p.name == name)


def _convert(command: click.Command, name: str, raw: str, errors: dict[str, str]) -> Any:
    """The value as the CLI option ``name`` would take it; a mistake goes into ``errors``."""
    if raw is None or not str(raw).strip():
        return None
    param = _param(command, name)
    try:
        return param.type.convert(str(raw).strip(), param, None)
    except click.BadParameter as exc:
        errors[name] = exc.message
        return None


def parse_checkin(form: dict[str, str], athlete_id: str, settings: Settings) -> CheckIn:
    """A CheckIn from the posted form, or CheckInError naming each wrong field."""
    errors: dict[str, str] = {}
    day_value = _convert(pain_command, "day", form.get("day", ""), errors)
    day = day_value.date() if day_value else today_for(settings, athlete_id)
    checkin = CheckIn(athlete_id, day, unwell=form.get("unwell") in ("on", "1", "true", "yes"))
    during, morning = (_convert(pain_command, n, form.get(n, ""), errors) for n in PAIN_FIELDS)
    if morning is not None and during is None and "during" not in errors:
        errors["during"] = "give the pain during the run too (tendon log pain needs --during)"
    if during is not None:
        checkin.pain = PainEntry(athlete_id=athlete_id, local_date=day, during=during, next_morning=morning)
    values = {n: _convert(strength_command, n, form.get(n, ""), errors) for n in STRENGTH_FIELDS}
    if any(v is not None for v in values.values()) or any(n in errors for n in STRENGTH_FIELDS):
        checkin.strength = _strength(athlete_id, day, values, errors)
    if not errors and not (checkin.pain or checkin.strength or checkin.unwell):
        errors["form"] = "nothing to save: give your pain, a tendon session or tick 'feeling unwell'"
    if errors:
        raise CheckInError(errors)
    return checkin


def _strength(athlete_id: str, day: date, values: dict[str, Any], errors: dict[str, str]) -> StrengthEntry | None:
    if values.get("exercise") is None and "exercise" not in errors:
        errors["exercise"] = "which exercise? (e.g. eccentric_heel_drop)"
    if values.get("sets") is None and "sets" not in errors:
        errors["sets"] = "how many sets?"
    if (values.get("reps") is None) == (values.get("seconds") is None) and not {"reps", "seconds"} & errors.keys():
        errors["reps"] = "give exactly one of reps or seconds"  # as tendon log strength
    if errors:
        return None
    name = exercise_name(values.pop("exercise"))
    extra = {k: v for k, v in values.items() if k in StrengthEntry.model_fields}
    if "variant" in extra and isinstance(extra["variant"], str):
        extra["variant"] = extra["variant"].replace("-", "_")
    return StrengthEntry(athlete_id=athlete_id, local_date=day, exercise=name, kind=kind_of(name), **extra)


def record_checkin(warehouse: Warehouse, settings: Settings, checkin: CheckIn) -> CheckInResult:
    """Store the check-in (the same functions as ``tendon log``) and evaluate the athlete again."""
    before = read_plan(warehouse, checkin.athlete_id)
    warehouse.ensure_athlete(checkin.athlete_id)
    if checkin.pain:
        log_pain(warehouse, checkin.pain)
    if checkin.strength:
        log_strength(warehouse, checkin.strength)
    if checkin.unwell:
        log_unwell(warehouse, checkin.athlete_id, checkin.day)
    evaluation = evaluate_athlete(warehouse, settings, checkin.athlete_id)
    return CheckInResult(checkin, before, evaluation.plan, evaluation.new_alerts)
