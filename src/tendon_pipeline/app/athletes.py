"""Checks at the command-line edge: is this an athlete we know, is this day one we can report on.

Known athletes are those in the warehouse (their data was ingested) or in the configuration
(``[[athletes]]``). Ids are checked against the one pattern (:mod:`tendon_pipeline.domain.ids`)
before anything is read or written, so a typo never creates a ghost athlete with plans.
"""

from __future__ import annotations

from datetime import date, timedelta

from tendon_pipeline.app.evaluate import today_for
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.ids import athlete_id_problem
from tendon_pipeline.domain.logbook import LogEntryError, logged_day
from tendon_pipeline.errors import NotFound, UsageError
from tendon_pipeline.warehouse.history import athlete_ids, first_data_day
from tendon_pipeline.warehouse.store import Warehouse

# A first run can start before midnight UTC on the athlete's local next day (or after): one day of slack.
_FIRST_DAY_SLACK = timedelta(days=1)


def check_athlete_id(athlete_id: str | None) -> str:
    """The id itself, or a UsageError saying what a valid id looks like."""
    problem = athlete_id_problem(athlete_id)
    if problem:
        raise UsageError(problem,
                         hint="athlete ids are the ones in the config's [[athletes]] or the inbox folder names")
    return athlete_id  # type: ignore[return-value]


def known_athletes(warehouse: Warehouse, settings: Settings) -> set[str]:
    return set(athlete_ids(warehouse)) | {a.id for a in settings.athletes}


def require_known_athlete(warehouse: Warehouse, settings: Settings, athlete_id: str | None) -> str:
    """A valid id of an athlete in the warehouse or the configuration, else NotFound (exit 2) with
    what to do; it names no other athlete (the same rule as the plan export's errors)."""
    athlete_id = check_athlete_id(athlete_id)
    if athlete_id not in known_athletes(warehouse, settings):
        raise NotFound(f"unknown athlete '{athlete_id}' (not in the warehouse or the configuration)",
                       hint="check the id (`tendon summary` shows whom the warehouse holds); a new athlete's"
                            " files must be ingested first (tendon ingest PATH --athlete ID), or add them"
                            " to the config's [[athletes]]")
    return athlete_id


def check_as_of(warehouse: Warehouse, settings: Settings, athlete_id: str, as_of: date | None) -> date | None:
    """``as_of`` unless it is after the athlete's today (in their zone) or before their first data."""
    if as_of is None:
        return None
    today = today_for(settings, athlete_id)
    if as_of > today:
        raise UsageError(f"--as-of {as_of} is in the future for '{athlete_id}' (today there is {today})",
                         hint="give a day up to today, or leave --as-of out")
    first = first_data_day(warehouse, athlete_id)
    if first is not None and as_of < first - _FIRST_DAY_SLACK:
        raise UsageError(f"--as-of {as_of} is before '{athlete_id}''s first data ({first})",
                         hint=f"give a day from {first} on")
    return as_of


def check_log_day(settings: Settings, athlete_id: str, day: date) -> date:
    """A logged day (pain, VISA-A, strength) cannot be after the athlete's today (domain.logbook.logged_day)."""
    today = today_for(settings, athlete_id)
    try:
        return logged_day(day, today)
    except LogEntryError:
        raise UsageError(f"--date {day} is in the future for '{athlete_id}' (today there is {today})",
                         hint="log what happened, up to today") from None
