"""`tendon` commands for the runner and coach: alerts, plan, status, evaluate, log."""

from __future__ import annotations

import json
from datetime import date

import click

from tendon_pipeline.errors import ConfigError
from tendon_pipeline.render import alert_block, alert_json, plan_text, status_text

SEED_EXERCISES = {  # name -> kind; other names are accepted as strength work
    "isometric_calf_raise_hold": "isometric", "eccentric_heel_drop": "strength", "pogo_hops": "plyometric",
    "calf_raise": "strength", "squat": "strength", "lunge": "strength", "plyo": "plyometric",
}


def _settings(ctx: click.Context):
    from tendon_pipeline.settings import load_settings

    root = ctx.find_root()
    return load_settings(root.obj["config"], db=root.obj["db"])


def _read_only(ctx: click.Context):
    from tendon_pipeline.warehouse.store import open_warehouse

    return open_warehouse(_settings(ctx).location, read_only=True)


@click.command()
@click.option("--athlete", help="Only this athlete's alerts.")
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
@click.option("--athlete", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def plan(ctx: click.Context, athlete: str, as_json: bool) -> None:
    """Next week's plan for an athlete, with the reason for every change."""
    from tendon_pipeline.warehouse.history import read_plan

    with _read_only(ctx) as wh:
        found = read_plan(wh, athlete)
    if found is None:
        raise ConfigError(f"no plan for athlete '{athlete}' yet", hint="ingest their files or run `tendon evaluate`")
    click.echo(found.model_dump_json(indent=1) if as_json else plan_text(found))


@click.command()
@click.option("--athlete", required=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day to report on (default: today).")
@click.pass_context
def status(ctx: click.Context, athlete: str, as_of) -> None:
    """This week so far, load, ratio, program weeks, open alerts and next week's plan."""
    from tendon_pipeline.evaluate import athlete_status
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = _settings(ctx)
    with open_warehouse(settings.location) as wh:
        s = athlete_status(wh, settings, athlete, as_of.date() if as_of else None)
    click.echo(status_text(athlete, s["as_of"], s["week"], s["ratio"], s["alerts"], s["adherence"], s["plan"]))


@click.command()
@click.option("--athlete", "athletes", multiple=True, help="Athlete(s) to evaluate (default: all).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Last day of complete data (default: today).")
@click.pass_context
def evaluate(ctx: click.Context, athletes: tuple[str, ...], as_of) -> None:
    """Recompute load, apply the rules, store alerts and next week's plans."""
    from tendon_pipeline.evaluate import evaluate_athletes
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = _settings(ctx)
    with open_warehouse(settings.location) as wh:
        report = evaluate_athletes(wh, settings, list(athletes) or None, as_of=as_of.date() if as_of else None)
    for e in report.athletes:
        click.echo(f"{e.athlete_id}: {len(e.alerts)} alert(s), {len(e.new_alerts)} new; "
                   f"plan for {e.plan.week_start}: {e.plan.target_km_low:.1f}-{e.plan.target_km_high:.1f} km ({e.plan.status})")
    for a in report.new_alerts():
        click.echo(alert_block(a))


@click.group()
def log() -> None:
    """Log what the watch does not record: tendon work, pain, VISA-A, races."""


def _evaluate_after_log(ctx: click.Context, athlete: str) -> None:
    from tendon_pipeline.evaluate import evaluate_athlete
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = _settings(ctx)
    with open_warehouse(settings.location) as wh:
        result = evaluate_athlete(wh, settings, athlete)
    for a in result.new_alerts:
        click.echo(alert_block(a))


def _store(ctx: click.Context, athlete: str, write) -> None:
    from tendon_pipeline.warehouse.store import open_warehouse

    with open_warehouse(_settings(ctx).location) as wh:
        wh.ensure_athlete(athlete)
        write(wh)
    _evaluate_after_log(ctx, athlete)


def _day(value) -> date:
    return value.date() if value else date.today()


@log.command("strength")
@click.option("--athlete", required=True)
@click.option("--exercise", required=True, help=f"e.g. {', '.join(SEED_EXERCISES)}")
@click.option("--sets", type=click.IntRange(1, 50), required=True)
@click.option("--reps", type=click.IntRange(1, 500))
@click.option("--seconds", type=click.FloatRange(1, 3600), help="Hold or work time per set.")
@click.option("--load-kg", type=click.FloatRange(0, 500), help="External load (bodyweight is implied).")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@click.pass_context
def log_strength(ctx, athlete, exercise, sets, reps, seconds, load_kg, day) -> None:
    """Log a strength or tendon exercise (all its sets)."""
    from tendon_pipeline.domain.models import StrengthEntry
    from tendon_pipeline.warehouse.history import log_strength as store

    if (reps is None) == (seconds is None):
        raise click.UsageError("give exactly one of --reps or --seconds")
    name = exercise.strip().lower().replace(" ", "_").replace("-", "_")
    entry = StrengthEntry(athlete_id=athlete, local_date=_day(day), exercise=name,
                          kind=SEED_EXERCISES.get(name, "strength"), sets=sets, reps=reps,
                          seconds=seconds, load_kg=load_kg)
    _store(ctx, athlete, lambda wh: store(wh, entry))
    click.echo(f"logged {name} for {athlete} on {entry.local_date}: {sets} x {reps or f'{seconds:g} s'}"
               + (f" + {load_kg:g} kg" if load_kg else ""))


@log.command("pain")
@click.option("--athlete", required=True)
@click.option("--during", type=click.IntRange(0, 10), required=True, help="Achilles pain during activity, 0-10.")
@click.option("--next-morning", type=click.IntRange(0, 10), help="Pain the next morning, 0-10.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The activity day (default: today).")
@click.pass_context
def log_pain(ctx, athlete, during, next_morning, day) -> None:
    """Log Achilles pain (Silbernagel pain-monitoring model)."""
    from tendon_pipeline.domain.models import PainEntry
    from tendon_pipeline.warehouse.history import log_pain as store

    entry = PainEntry(athlete_id=athlete, local_date=_day(day), during=during, next_morning=next_morning)
    _store(ctx, athlete, lambda wh: store(wh, entry))
    click.echo(f"logged pain for {athlete} on {entry.local_date}: during {during}/10"
               + (f", next morning {next_morning}/10" if next_morning is not None else ""))


@log.command("visa-a")
@click.option("--athlete", required=True)
@click.option("--score", type=click.IntRange(0, 100), required=True, help="VISA-A score, 0-100.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Default: today.")
@click.pass_context
def log_visa_a(ctx, athlete, score, day) -> None:
    """Log a VISA-A questionnaire score (100 = healthy tendon)."""
    from tendon_pipeline.domain.models import VisaAEntry
    from tendon_pipeline.warehouse.history import log_visa_a as store

    entry = VisaAEntry(athlete_id=athlete, local_date=_day(day), score=score)
    _store(ctx, athlete, lambda wh: store(wh, entry))
    click.echo(f"logged VISA-A {score} for {athlete} on {entry.local_date}")


@log.command("race")
@click.option("--athlete", required=True)
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Race day (may be ahead).")
@click.option("--distance-km", type=click.FloatRange(0, 400, min_open=True), required=True)
@click.option("--priority", type=click.Choice(["A", "B", "C"], case_sensitive=False), default="A", show_default=True,
              help="A: goal race (taper, recovery week after a long one); B: light taper; C: training race.")
@click.option("--name", help="e.g. 'Oslo marathon'.")
@click.pass_context
def log_race(ctx, athlete, day, distance_km, priority, name) -> None:
    """Enter a race or planned hard effort: the plan tapers and recovers around it and the race
    itself is info, not a warning."""
    from tendon_pipeline.domain.models import RaceEntry
    from tendon_pipeline.warehouse.history import log_race as store

    entry = RaceEntry(athlete_id=athlete, local_date=day.date(), distance_km=distance_km,
                      priority=priority.upper(), name=name)
    _store(ctx, athlete, lambda wh: store(wh, entry))
    click.echo(f"logged {entry.priority} race for {athlete} on {entry.local_date}: {distance_km:g} km"
               + (f" ({name})" if name else ""))


COMMANDS = [alerts, plan, status, evaluate, log]
