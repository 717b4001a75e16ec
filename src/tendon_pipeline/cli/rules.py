"""`tendon` commands for the runner and coach: alerts, plan, status, evaluate, log."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import click

from tendon_pipeline.cli.context import settings_of
from tendon_pipeline.cli.render import alert_block, alert_json, plan_text, status_text
from tendon_pipeline.domain.exercises import EXERCISE_KINDS, VARIANTS, exercise_name
from tendon_pipeline.domain.log_limits import (
    LOAD_KG,
    PAIN,
    RACE_KM,
    RACE_PRIORITIES,
    REPS,
    REPS_IN_RESERVE,
    SECONDS,
    SETS,
)
from tendon_pipeline.errors import ConfigError

VARIANT_CHOICE = click.Choice([v.replace("_", "-") for v in VARIANTS])


def _read_only(ctx: click.Context):
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = settings_of(ctx)
    return open_warehouse(settings.location, read_only=True, wait_s=settings.warehouse.busy_wait_s)


def _existing(settings):
    """The warehouse opened for writing, refused when its file does not exist (no ghost warehouse)."""
    from tendon_pipeline.warehouse.store import open_warehouse

    return open_warehouse(settings.location, create=False, wait_s=settings.warehouse.busy_wait_s)


def _valid_id(ctx: click.Context, param: click.Parameter, value):
    """Click callback: every --athlete value checked against the one athlete-id pattern."""
    from tendon_pipeline.app.athletes import check_athlete_id

    if value is None:
        return None
    return tuple(check_athlete_id(v) for v in value) if isinstance(value, tuple) else check_athlete_id(value)


@click.command()
@click.option("--athlete", callback=_valid_id, help="Only this athlete's alerts.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of alert objects.")
@click.pass_context
def alerts(ctx: click.Context, athlete: str | None, as_json: bool) -> None:
    """Alerts raised so far: rule, severity, the numbers and the source."""
    from tendon_pipeline.warehouse.history import read_alerts

    with _read_only(ctx) as wh:
        found = read_alerts(wh, athlete)
    if as_json:
        click.echo(json.dumps([alert_json(a) for a in found], indent=1))
    elif not found:
        click.echo("no alerts")
    else:
        click.echo("\n".join(alert_block(a) for a in found))


@click.command()
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--json", "as_json", is_flag=True, help="The plan as a JSON object.")
@click.option("--export", "folder", type=click.Path(file_okay=False),
              help="Write the plan as files into this folder: <week>-long-run.fit, <week>-tendon-<n>.fit "
                   "(FIT workouts for the watch) and <week>.ics (calendar).")
@click.pass_context
def plan(ctx: click.Context, athlete: str, as_json: bool, folder: str | None) -> None:
    """Next week's plan for an athlete, with the reason for every change; --export writes it as
    watch workouts and a calendar."""
    from tendon_pipeline.app.plan_export import stored_plan

    if folder is not None:
        if as_json:
            raise click.UsageError("--json and --export do not go together: choose one")
        _export_plan(ctx, athlete, Path(folder))
        return
    with _read_only(ctx) as wh:
        found = stored_plan(wh, settings_of(ctx), athlete)
    click.echo(found.model_dump_json(indent=1) if as_json else plan_text(found))


def _export_plan(ctx: click.Context, athlete: str, folder: Path) -> None:
    from tendon_pipeline.app.plan_export import plan_export, write_plan_files

    with _read_only(ctx) as wh:
        export = plan_export(wh, settings_of(ctx), athlete)
    paths = write_plan_files(export.files, folder)
    click.echo(f"plan for {athlete}, week of {export.plan.week_start} (calendar in {export.timezone}):")
    for path, written in zip(paths, export.files):
        click.echo(f"  {path}: {written.title}")


@click.command()
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day to report on (default: the athlete's today).")
@click.pass_context
def status(ctx: click.Context, athlete: str, as_of) -> None:
    """This week so far, load, ratio, program weeks, open alerts and next week's plan, as stored
    (read-only; says when activities or logs came in after the last evaluation)."""
    from tendon_pipeline.app.athletes import check_as_of, require_known_athlete
    from tendon_pipeline.app.status import athlete_status

    settings = settings_of(ctx)
    with _read_only(ctx) as wh:
        require_known_athlete(wh, settings, athlete)
        day = check_as_of(wh, settings, athlete, as_of.date() if as_of else None)
        found = athlete_status(wh, settings, athlete, day)
    click.echo(status_text(found))


@click.command()
@click.option("--athlete", "athletes", multiple=True, callback=_valid_id,
              help="Athlete to evaluate; repeat for several (default: all).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]),
              help="Last day of complete data (default: each athlete's today).")
@click.pass_context
def evaluate(ctx: click.Context, athletes: tuple[str, ...], as_of) -> None:
    """Recompute load, apply the rules, store alerts and next week's plans."""
    from tendon_pipeline.app.athletes import check_as_of, require_known_athlete
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.warehouse.history import athlete_ids

    settings = settings_of(ctx)
    with _existing(settings) as wh:
        chosen = [require_known_athlete(wh, settings, a) for a in athletes] or athlete_ids(wh)
        day = as_of.date() if as_of else None
        for athlete in chosen:
            check_as_of(wh, settings, athlete, day)
        report = evaluate_athletes(wh, settings, chosen, as_of=day)
    for e in report.athletes:
        click.echo(f"{e.athlete_id}: {len(e.alerts)} alert(s), {len(e.new_alerts)} new,"
                   f" {len(e.updated_alerts)} updated; "
                   f"plan for {e.plan.week_start}: {e.plan.target_km_low:.1f}-{e.plan.target_km_high:.1f} km"
                   f" ({e.plan.status})")
    for line in report.redated():
        click.echo(line)
    for a in report.new_alerts() + report.updated_alerts():
        click.echo(alert_block(a))


@click.group()
def log() -> None:
    """Log what the watch does not record: tendon work, pain, VISA-A, races."""


def _evaluate_after_log(ctx: click.Context, athlete: str) -> None:
    from tendon_pipeline.app.evaluate import evaluate_athlete

    settings = settings_of(ctx)
    with _existing(settings) as wh:
        result = evaluate_athlete(wh, settings, athlete)
    for a in result.new_alerts:
        click.echo(alert_block(a))


def _store(ctx: click.Context, athlete: str, day: date | None, write) -> None:
    from tendon_pipeline.app.athletes import check_log_day, require_known_athlete

    settings = settings_of(ctx)
    with _existing(settings) as wh:
        require_known_athlete(wh, settings, athlete)
        if day is not None:
            check_log_day(settings, athlete, day)
        wh.ensure_athlete(athlete)
        write(wh)
    _evaluate_after_log(ctx, athlete)


def _day(ctx: click.Context, athlete: str, value) -> date:
    """The given date, else today in the athlete's time zone (not the server's clock)."""
    from tendon_pipeline.app.evaluate import today_for

    return value.date() if value else today_for(settings_of(ctx), athlete)


def _variant(value: str | None) -> str | None:
    return value.replace("-", "_") if value else None


def _as_options(message: str) -> str:
    """The library's words with its field names as this command's options ("reps" -> "--reps")."""
    return re.sub(r"\b(sets|reps_in_reserve|reps|seconds|during|next_morning|exercise|variant)\b",
                  lambda m: "--" + m.group(1).replace("_", "-"), message)


def _record(ctx: click.Context, athlete: str, build, *, ahead_ok: bool = False, **kind):
    """Build the entry with the library's checks (a mistake is a usage error naming the option), store
    it and evaluate the athlete again, as the runner's check-in page does (app/logbook.py). Its day
    must not be after the athlete's today unless ``ahead_ok`` (a race)."""
    from tendon_pipeline.app.logbook import record_entries
    from tendon_pipeline.domain.logbook import LogEntryError

    try:
        entry = build()
    except LogEntryError as exc:
        raise click.UsageError(_as_options(exc.message)) from None
    from tendon_pipeline.app.athletes import check_log_day, require_known_athlete

    settings = settings_of(ctx)
    with _existing(settings) as wh:
        require_known_athlete(wh, settings, athlete)
        if not ahead_ok:
            check_log_day(settings, athlete, entry.local_date)
        result = record_entries(wh, settings, athlete, **{next(iter(kind)): entry})
    for a in result.evaluation.new_alerts:
        click.echo(alert_block(a))
    return entry


@log.command("strength")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--exercise", required=True, help=f"e.g. {', '.join(EXERCISE_KINDS)}")
@click.option("--sets", type=click.IntRange(*SETS), required=True, help="Sets done.")
@click.option("--reps", type=click.IntRange(*REPS), help="Reps per set (or --seconds).")
@click.option("--seconds", type=click.FloatRange(*SECONDS), help="Hold or work time per set.")
@click.option("--load-kg", type=click.FloatRange(*LOAD_KG), help="External load (bodyweight is implied).")
@click.option("--variant", type=VARIANT_CHOICE,
              help="How many legs carried it, or seated (default: single leg for holds and heel drops, "
                   "two legs for calf raises).")
@click.option("--reps-in-reserve", type=click.IntRange(*REPS_IN_RESERVE), help="Reps you could still have done.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (your time zone).")
@click.pass_context
def log_strength(ctx, athlete, exercise, sets, reps, seconds, load_kg, variant, reps_in_reserve, day) -> None:
    """Log a strength or tendon exercise (all its sets)."""
    from tendon_pipeline.domain.exercises import unknown_exercise_note
    from tendon_pipeline.domain.logbook import strength_entry

    entry = _record(ctx, athlete, lambda: strength_entry(
        athlete, _day(ctx, athlete, day), exercise, sets, reps=reps, seconds=seconds, load_kg=load_kg,
        variant=_variant(variant), reps_in_reserve=reps_in_reserve), strength=True)
    click.echo(f"logged {entry.exercise} for {athlete} on {entry.local_date}: {sets} x {reps or f'{seconds:g} s'}"
               + (f" + {load_kg:g} kg" if load_kg else "") + (f" ({variant})" if variant else ""))
    note = unknown_exercise_note(entry.exercise)
    if note:
        click.echo(f"note: {note}", err=True)


@log.command("max")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--exercise", default="calf_raise", show_default=True, help="The calf exercise tested.")
@click.option("--variant", type=VARIANT_CHOICE, required=True, help="Legs (or seated) in the test.")
@click.option("--load-kg", type=click.FloatRange(0, 500), required=True,
              help="Heaviest added load lifted (body mass is implied unless seated).")
@click.option("--reps", type=click.IntRange(1, 30), default=1, show_default=True, help="Reps at that load.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today (your time zone).")
@click.pass_context
def log_max(ctx, athlete, exercise, variant, load_kg, reps, day) -> None:
    """Log a tested calf max: the tendon_loading_intensity rule prefers it to estimates."""
    from tendon_pipeline.domain.models import MaxTest
    from tendon_pipeline.warehouse.history import log_max as store

    test = MaxTest(athlete_id=athlete, local_date=_day(ctx, athlete, day), exercise=exercise_name(exercise),
                   variant=_variant(variant), load_kg=load_kg, reps=reps)
    _store(ctx, athlete, test.local_date, lambda wh: store(wh, test))
    click.echo(f"logged tested max for {athlete} on {test.local_date}: {test.exercise} ({variant}) "
               f"+{load_kg:g} kg x {reps}")


@log.command("pain")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--during", type=click.IntRange(*PAIN), required=True, help="Achilles pain during activity, 0-10.")
@click.option("--next-morning", type=click.IntRange(*PAIN), help="Pain the next morning, 0-10.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]),
              help="The activity day (default: today in your time zone).")
@click.pass_context
def log_pain(ctx, athlete, during, next_morning, day) -> None:
    """Log Achilles pain (Silbernagel pain-monitoring model)."""
    from tendon_pipeline.domain.logbook import pain_entry

    entry = _record(ctx, athlete, lambda: pain_entry(athlete, _day(ctx, athlete, day), during, next_morning),
                    pain=True)
    click.echo(f"logged pain for {athlete} on {entry.local_date}: during {during}/10"
               + (f", next morning {next_morning}/10" if next_morning is not None else ""))


@log.command("visa-a")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--score", type=click.IntRange(0, 100), required=True, help="VISA-A score, 0-100.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@click.pass_context
def log_visa_a(ctx, athlete, score, day) -> None:
    """Log a VISA-A questionnaire score (100 = healthy tendon)."""
    from tendon_pipeline.domain.models import VisaAEntry
    from tendon_pipeline.warehouse.history import log_visa_a as store

    entry = VisaAEntry(athlete_id=athlete, local_date=_day(ctx, athlete, day), score=score)
    _store(ctx, athlete, entry.local_date, lambda wh: store(wh, entry))
    click.echo(f"logged VISA-A {score} for {athlete} on {entry.local_date}")


@log.command("race")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Race day (may be ahead).")
@click.option("--distance-km", type=click.FloatRange(*RACE_KM, min_open=True), required=True, help="Race distance.")
@click.option("--priority", type=click.Choice(RACE_PRIORITIES, case_sensitive=False), default="A", show_default=True,
              help="A: goal race (taper, recovery week after a long one); B: light taper; C: training race.")
@click.option("--name", help="e.g. 'Oslo marathon'.")
@click.pass_context
def log_race(ctx, athlete, day, distance_km, priority, name) -> None:
    """Enter a race or planned hard effort: the plan tapers and recovers around it and the race
    itself is info, not a warning."""
    from tendon_pipeline.domain.logbook import race_entry

    entry = _record(ctx, athlete, lambda: race_entry(athlete, day.date(), distance_km, priority, name),
                    ahead_ok=True, race=True)  # a race may be ahead: no future check
    click.echo(f"logged {entry.priority} race for {athlete} on {entry.local_date}: {distance_km:g} km"
               + (f" ({entry.name})" if entry.name else ""))


@click.group()
def strength() -> None:
    """Watch-recorded strength sets: list them, say what they were."""


@strength.command("list")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only sets from this day on.")
@click.pass_context
def strength_list(ctx, athlete, since) -> None:
    """Active sets from the watch, with the variant the FIT subtype gives and any correction."""
    import pandas as pd

    from tendon_pipeline.domain.exercises import fit_exercise, fit_variant
    from tendon_pipeline.warehouse.history import fit_sets

    with _read_only(ctx) as wh:
        rows = fit_sets(wh, athlete, since.date() if since else None)
    if rows.empty:
        click.echo(f"no strength sets from the watch for {athlete}")
        return
    for r in rows.to_dict("records"):
        r = {k: None if pd.isna(v) else v for k, v in r.items()}
        reps = None if r["repetitions"] is None else int(r["repetitions"])
        subtype = None if r["category_subtype"] is None else int(r["category_subtype"])
        name, _ = fit_exercise(r["category"], reps, r["duration_s"])
        seen = f"{name} ({fit_variant(r['category'], subtype) or 'variant unknown'})"
        fixed = [str(r[k]) for k in ("corrected_exercise", "corrected_variant") if r[k] is not None]
        if r["reps_in_reserve"] is not None:
            fixed.append(f"RIR {int(r['reps_in_reserve'])}")
        weight = f" +{r['weight_kg']:g} kg" if r["weight_kg"] else ""
        click.echo(f"{r['activity_id']} {r['utc_date']:%Y-%m-%d} set {r['set_index']}: {seen} x {reps or '-'}{weight}"
                   + (f" -> corrected: {', '.join(fixed)}" if fixed else ""))


@strength.command("correct")
@click.option("--athlete", required=True, callback=_valid_id, help="The athlete id.")
@click.option("--activity", "activity_id", required=True, help="Activity id (see `tendon strength list`).")
@click.option("--set", "set_indexes", type=click.IntRange(0, 100_000), multiple=True,
              help="Set index (repeatable; default: every calf_raise set of the activity).")
@click.option("--exercise", help="What the sets were, e.g. eccentric_heel_drop.")
@click.option("--variant", type=VARIANT_CHOICE, help="Legs (or seated).")
@click.option("--reps-in-reserve", type=click.IntRange(0, 20), help="Reps you could still have done.")
@click.pass_context
def strength_correct(ctx, athlete, activity_id, set_indexes, exercise, variant, reps_in_reserve) -> None:
    """Say what watch-recorded sets were (no re-ingest): the next evaluation uses it."""
    from tendon_pipeline.warehouse.history import SetCorrection, correct_sets

    if exercise is None and variant is None and reps_in_reserve is None:
        raise click.UsageError("give at least one of --exercise, --variant, --reps-in-reserve")
    fix = SetCorrection(exercise_name(exercise) if exercise else None, _variant(variant), reps_in_reserve)
    done: list[int] = []

    def write(wh) -> None:
        try:
            done.extend(correct_sets(wh, athlete, activity_id, list(set_indexes) or None, fix))
        except ValueError as exc:
            raise ConfigError(str(exc), hint="list the sets with `tendon strength list --athlete ...`") from None

    _store(ctx, athlete, None, write)
    click.echo(f"corrected {len(done)} set(s) of activity {activity_id}: sets {', '.join(map(str, done))}")


COMMANDS = [alerts, plan, status, evaluate, log, strength]
