"""`tendon activity reassign|delete ID`: fix an activity stored under the wrong athlete."""

from __future__ import annotations

import click


def _settings(ctx: click.Context):
    from tendon_pipeline.config.settings import load_settings

    root = ctx.find_root()
    return load_settings(root.obj["config"], db=root.obj["db"])


def _report(change) -> None:
    moved = f"-> {change.to_athlete}" if change.to_athlete else "deleted"
    click.echo(f"activity {change.activity_id} ({change.from_athlete}) {moved}")
    for e in change.evaluations:
        click.echo(f"  {e.athlete_id}: loads recomputed; {len(e.alerts)} alert(s), {len(e.new_alerts)} new,"
                   f" {len(e.updated_alerts)} updated; plan for {e.plan.week_start}: {e.plan.status}")
    if change.withdrawn:
        click.echo(f"  withdrawn (no longer raised): {', '.join(change.withdrawn)}")
    click.echo("  run `tendon notify` to send what changed")


@click.group()
def activity() -> None:
    """Fix an activity stored under the wrong athlete (ids: `tendon files`)."""


@activity.command()
@click.argument("activity_id")
@click.option("--to", "to_athlete", required=True, help="The athlete it belongs to.")
@click.pass_context
def reassign(ctx: click.Context, activity_id: str, to_athlete: str) -> None:
    """Move an activity to another athlete; both athletes' loads and alerts are recomputed."""
    from tendon_pipeline.app import activities
    from tendon_pipeline.app.athletes import check_athlete_id
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = _settings(ctx)
    with open_warehouse(settings.location, create=False, wait_s=settings.warehouse.busy_wait_s) as wh:
        _report(activities.reassign(wh, settings, activity_id, check_athlete_id(to_athlete)))


@activity.command()
@click.argument("activity_id")
@click.pass_context
def delete(ctx: click.Context, activity_id: str) -> None:
    """Delete an activity (its file stays recorded as deleted); loads and alerts are recomputed."""
    from tendon_pipeline.app import activities
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = _settings(ctx)
    with open_warehouse(settings.location, create=False, wait_s=settings.warehouse.busy_wait_s) as wh:
        _report(activities.delete(wh, settings, activity_id))


COMMANDS = [activity]
