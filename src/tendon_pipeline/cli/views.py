"""`tendon` commands that show the data: report (runner), coach (coach), export (analyst)."""

from __future__ import annotations

import json
from typing import Any

import click

from tendon_pipeline.cli.context import settings_of
from tendon_pipeline.errors import ConfigError


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


@click.command()
@click.option("--athlete", required=True, help="The athlete id.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The HTML file to write (one self-contained page).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day to report on (default: the athlete's today).")
@click.option("--weeks", type=click.IntRange(1, 104), default=12, show_default=True, help="Weeks to show.")
@click.option("--stored", is_flag=True,
              help="Show what the last evaluation stored, read-only (default: evaluate first, like `tendon status`).")
@click.pass_context
def report(ctx: click.Context, athlete: str, out: str, as_of, weeks: int, stored: bool) -> None:
    """The runner's report: one HTML page with charts of weekly distance and tendon load against
    the progression line, the acute:chronic band, spike runs, strength and pain, and next week's plan.

    The page embeds its charting library and needs no network: open it in any browser, offline.
    """
    from tendon_pipeline.app.evaluate import evaluate_athlete, today_for
    from tendon_pipeline.report.data import collect_report
    from tendon_pipeline.report.page import write_report
    from tendon_pipeline.warehouse.store import open_warehouse
    from tendon_pipeline.warehouse.views import known_athletes

    settings = settings_of(ctx)
    day = as_of.date() if as_of else today_for(settings, athlete)
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s, read_only=stored) as wh:
        if athlete not in known_athletes(wh):
            raise ConfigError(f"athlete '{athlete}' is not in the warehouse",
                              hint="ingest their files first (tendon ingest), or check the id with `tendon summary`")
        if not stored:
            evaluate_athlete(wh, settings, athlete, as_of=day)
        data = collect_report(wh, settings, athlete, as_of=day, weeks=weeks)
    path = write_report(data, out)
    click.echo(f"wrote {path} ({_size(path.stat().st_size)}): {len(data.weeks)} week(s), {len(data.runs)} run(s), "
               f"{len(data.alerts)} alert(s); open it in a browser (works offline)")


@click.command()
@click.option("--coach", "coach_name", required=True, help="A coach's name from the [[coaches]] configuration.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="Day to show (default: each athlete's today).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list, worst first.")
@click.pass_context
def coach(ctx: click.Context, coach_name: str, as_of, as_json: bool) -> None:
    """All of a coach's athletes on one screen, worst first: open alerts, this week's running
    against the plan, pain trend and days since the last sync (as the last evaluation stored them)."""
    from tendon_pipeline.report.coach import board_text, coach_board, find_coach
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = settings_of(ctx)
    find_coach(settings, coach_name)  # a wrong name fails before the warehouse is opened
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s, read_only=True) as wh:
        rows = coach_board(wh, settings, coach_name, as_of=as_of.date() if as_of else None)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], indent=1))
    else:
        click.echo(board_text(coach_name, rows))


@click.command()
@click.option("--format", "fmt", type=click.Choice(["parquet"]), default="parquet", show_default=True,
              help="Output format (Parquet only).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Folder to create.")
@click.option("--no-gps", is_flag=True, help="Leave out GPS positions (records.lat_deg / lon_deg).")
@click.option("--replace", is_flag=True, help="Replace an existing export in --out (swapped in only when complete).")
@click.pass_context
def export(ctx: click.Context, fmt: str, out: str, no_gps: bool, replace: bool) -> None:
    """The warehouse as Parquet for other tools: per-athlete tables partitioned by athlete_id
    (hive layout), the analyst views, and a manifest.json. Written to a temporary folder and
    renamed into place, so a failed export leaves nothing half-written."""
    from tendon_pipeline.warehouse.store import open_warehouse
    from tendon_pipeline.warehouse.views import export_parquet

    settings = settings_of(ctx)
    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s, read_only=True) as wh:
        summary = export_parquet(wh, out, drop_gps=no_gps, replace=replace)
    tables = [o for o in summary.objects if o.kind == "table"]
    views = [o for o in summary.objects if o.kind == "view"]
    click.echo(f"exported {len(tables)} table(s) and {len(views)} view(s) to {summary.out} "
               f"({_size(summary.bytes)}, GPS {summary.gps}); see manifest.json")
    for o in summary.objects:
        click.echo(f"  {o.path:<28} {o.rows:>9} rows{_layout(o)}")


def _layout(exported: Any) -> str:
    if not exported.partitioned_by:
        return ""
    if not exported.rows:  # an empty partitioned table writes no folder (its manifest entry says rows: 0)
        return "  no rows, so no folder"
    return f"  partitioned by {exported.partitioned_by}"


COMMANDS = [report, coach, export]
