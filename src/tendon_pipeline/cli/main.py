"""The ``tendon`` command: a thin layer over the library.

Typed errors become one clean message on stderr and a non-zero exit code;
a run that completed exits 0 even when some files were quarantined.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tendon_pipeline.cli.context import config_path, read_target_of, settings_of
from tendon_pipeline.domain.statuses import FileStatus
from tendon_pipeline.errors import TendonError

if TYPE_CHECKING:  # imported by the commands that need it: `tendon --help` stays light
    from tendon_pipeline.config.paths import ReadTarget
    from tendon_pipeline.config.settings import Settings

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option("--config", "config", type=click.Path(dir_okay=False), default=None,
              help="TOML config file (else $TENDON_CONFIG, else ~/.config/tendon-pipeline/config.toml).")
@click.option("--db", "db", type=click.Path(dir_okay=False), default=None,
              help="DuckDB warehouse file (else $TENDON_DB, else $TENDON_HOME/warehouse.duckdb,"
                   " TENDON_HOME defaulting to ~/.local/share/tendon-pipeline).")
@click.version_option(package_name="tendon-pipeline")
@click.pass_context
def cli(ctx: click.Context, config: str | None, db: str | None) -> None:
    """tendon-pipeline: running load, Achilles-tendon load, overuse alerts and plans from FIT files."""
    ctx.ensure_object(dict)
    ctx.obj.update(config=config, db=db)


# -- ingest ---------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--athlete", help="Athlete id for every file (else INBOX/<athlete>/ folder, else device serial).")
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], athlete: str | None, as_json: bool) -> None:
    """Ingest FIT files and folders (recursive) into the warehouse."""
    settings = settings_of(ctx)
    result = _run_pipeline(settings, list(paths), athlete, config_path(ctx), quiet=as_json)
    if as_json:
        click.echo(json.dumps({**result.ingest.to_dict(), "new_alerts": result.to_dict()["new_alerts"]}, default=str))
        return
    _print_ingest_summary(result.ingest)
    _print_holdings(settings.read_target, result.holdings)
    _print_new_alerts(result, settings)
    _print_redated(result.evaluation)


def _print_redated(evaluation: Any) -> None:
    """Runs that moved to other days because an athlete's time zone changed: said, never silent."""
    for line in evaluation.redated() if evaluation is not None else []:
        click.echo(line)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--athlete", help="Athlete id for every file (else INBOX/<athlete>/ folder, else device serial).")
@click.option("--workers", type=click.IntRange(1, 256), default=2, show_default=True,
              help="Athletes written at once (on a DuckDB file always 1: it has one writer).")
@click.option("--dask-address", help="An existing Dask scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--chunk-files", type=click.IntRange(1), default=500, show_default=True,
              help="Files per warehouse session within an athlete.")
@click.option("--notify/--no-notify", default=True, show_default=True, help="Send what the rules raised at the end.")
@click.option("--json", "as_json", is_flag=True, help="Print the backfill report as JSON.")
@click.pass_context
def backfill(ctx: click.Context, paths: tuple[str, ...], athlete: str | None, workers: int,
             dask_address: str | None, chunk_files: int, notify: bool, as_json: bool) -> None:
    """Import a whole history (many athletes, years) fanned out by athlete on a Dask cluster."""
    from tendon_pipeline.runtime.backfill import run_backfill

    settings = settings_of(ctx)
    _check_warehouse_writable(settings)
    report = run_backfill(list(paths), settings, athlete=athlete, config=config_path(ctx),
                          dask_address=dask_address, workers=workers, chunk_files=chunk_files, notify=notify,
                          console_to_stderr=as_json)
    if as_json:
        click.echo(json.dumps(report.to_dict(), default=str))
        return
    counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
    click.echo(f"backfill: {report.files} files for {len(report.athletes)} athletes in {report.seconds:.1f} s"
               f" ({report.files_per_second:.1f} files/s, {report.writers} writer(s)): {counts or 'nothing new'};"
               f" {len(report.new_alerts())} new alerts")
    _print_holdings(settings.read_target)


@cli.command()
@click.option("--keep-days", type=click.FloatRange(0), default=7.0, show_default=True,
              help="Keep snapshots (time travel) younger than this many days.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_context
def maintain(ctx: click.Context, keep_days: float, as_json: bool) -> None:
    """Housekeeping: compact a DuckLake warehouse (merge small files, expire old snapshots,
    delete unreferenced files), or checkpoint the DuckDB file. Safe while others write."""
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = settings_of(ctx)
    with open_warehouse(settings.location, create=False, wait_s=settings.warehouse.busy_wait_s) as wh:
        report = wh.maintain(keep_days=keep_days)
    if as_json:
        click.echo(json.dumps(report))
    elif report["warehouse"] == "file":
        click.echo(f"warehouse {settings.location}: checkpointed")
    else:
        click.echo(f"warehouse {settings.location}: {report['files_before']} data files -> {report['files_after']}")


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Bring a warehouse an older version made up to this version's schema (every write command
    does it too; read-only commands refuse an old warehouse and point here). Keeps every row."""
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = settings_of(ctx)
    with open_warehouse(settings.location, create=False, wait_s=settings.warehouse.busy_wait_s) as wh:
        version, applied = wh.schema_version(), wh.migrations_applied
    done = (f"applied migration(s) {', '.join(map(str, applied))}, every row kept" if applied
            else "already up to date, nothing to do")
    click.echo(f"warehouse {settings.location}: schema {version} ({done})")


def _check_warehouse_writable(settings: Settings) -> None:
    """Fail fast, before Prefect starts, when the warehouse cannot be opened for writing."""
    from tendon_pipeline.warehouse.store import open_warehouse

    with open_warehouse(settings.location, wait_s=settings.warehouse.busy_wait_s):
        pass


def _run_pipeline(settings: Settings, paths: list[str], athlete: str | None, config: str | None,
                  *, quiet: bool = False) -> Any:
    """Ingest, evaluate, notify, with progress on stderr: one in-process Prefect flow run where a
    Prefect API is configured (or ``flow_runs = "always"``), else the same steps called directly."""
    from tendon_pipeline.orchestration.embedded import one_shot_flow_run
    from tendon_pipeline.runtime.batch import run_batch

    flow_run = one_shot_flow_run(settings)
    if flow_run:  # the direct path opens the warehouse first thing anyway
        _check_warehouse_writable(settings)
    with _progress_on_stderr(quiet):
        return run_batch(paths, settings, athlete=athlete, config=config, console_to_stderr=quiet,
                         flow_run=flow_run)


@contextlib.contextmanager
def _progress_on_stderr(quiet: bool = False) -> Iterator[None]:
    from tendon_pipeline.app.ingest import progress_callback

    token = progress_callback.set(None if quiet else _progress_printer())
    try:
        yield
    finally:
        progress_callback.reset(token)


def _print_new_alerts(result: Any, settings: Settings) -> None:
    """The console notifier has shown each new alert, but those older than the routing horizon
    (``notify.max_age_days``, counted from now as the data just arrived); sum up and say so."""
    new = result.new_alerts()
    horizon = settings.notify.max_age_days
    since = datetime.now(UTC).date() - timedelta(days=horizon)
    older = sum(1 for alert in new if alert.date < since)
    unsent = (f", {older} of them dated before {since} (notify.max_age_days = {horizon}): stored, not sent"
              if older else "")
    click.echo(f"{len(new)} new alert(s){unsent}; details: tendon alerts [--athlete ID]")
    if result.delivery is not None:
        click.echo(result.delivery.summary())
        for problem in result.delivery.problems():
            click.echo(f"  {problem.outcome:<9} {problem.recipient} via {problem.channel}: {problem.error}", err=True)


def _progress_printer() -> Callable[[Any, int, int], None]:
    """Progress on stderr: a line every 2 s with rate and ETA, and one at the end with the time taken.

    The clock starts when the run does: the bulk path reports its files a batch at a time (up to
    512 at once, after they are written), so timing from the first file reported gave rates of
    hundreds of thousands of files a second.
    """
    start = time.monotonic()
    state = {"last": start}

    def report(outcome: Any, number: int, total: int) -> None:
        now = time.monotonic()
        elapsed = max(now - start, 1e-3)
        if number == total:
            click.echo(f"  {total}/{total} files in {elapsed:.1f} s ({total / elapsed:.1f} files/s)", err=True)
            return
        if now - state["last"] < 2.0:
            return
        state["last"] = now
        rate = number / elapsed
        click.echo(f"  {number}/{total} files  {rate:.1f} files/s  ETA {(total - number) / rate:.0f} s", err=True)

    return report


def _print_ingest_summary(report: Any) -> None:
    counts = report.counts()
    click.echo("ingest " + report.ingest_id + ": " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for o in report.problems():
        click.echo(f"  {o.status:<11} {o.path}: {o.reason}")


def _print_holdings(target: ReadTarget, known: Any = None) -> None:
    """What the warehouse holds: ``known`` (``BatchResult.holdings``, read by the writer), else read now."""
    from tendon_pipeline.warehouse.store import open_warehouse
    from tendon_pipeline.warehouse.views import read_holdings

    if known is None:
        with open_warehouse(target.location, wait_s=target.busy_wait_s, read_only=True) as wh:
            known = read_holdings(wh)
    click.echo(f"warehouse {target.location}: " + ", ".join(f"{n} {t}" for t, n in known.counts.items()))
    for row in known.per_athlete:
        click.echo(f"  {row['athlete_id']:<16} {row['activities']:>5} activities  {row['runs']:>5} runs"
                   f"  {row['run_km']:>8} km run")


@cli.command()
@click.pass_context
def summary(ctx: click.Context) -> None:
    """Show what the warehouse holds."""
    _print_holdings(read_target_of(ctx))


@cli.command()
@click.option("--status", type=click.Choice([s.value for s in FileStatus]), help="Only files with this outcome.")
@click.option("--reason-code", help="Only files with this reason code (e.g. athlete_conflict, replaced, implausible).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of file objects.")
@click.pass_context
def files(ctx: click.Context, status: str | None, reason_code: str | None, as_json: bool) -> None:
    """List source files and what became of them (with the activity id stored, if any)."""
    from tendon_pipeline.warehouse.store import open_warehouse
    from tendon_pipeline.warehouse.views import source_files

    target = read_target_of(ctx)
    with open_warehouse(target.location, wait_s=target.busy_wait_s, read_only=True) as wh:
        rows = source_files(wh, status, reason_code)
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    for row in rows:
        click.echo(f"{row['status']:<11} {row['athlete_id'] or '-':<12} {row['path']}"
                   + (f"  ({row['reason']})" if row["reason"] else "")
                   + (f"  [activity {row['activity_id']}]" if row["activity_id"] else ""))


# -- notifications ----------------------------------------------------------------
@cli.command()
@click.option("--retry-failed", is_flag=True, help="Put permanently failed deliveries back in the queue first.")
@click.option("--json", "as_json", is_flag=True, help="Print the delivery report as JSON (console messages go to"
                                                      " stderr).")
@click.pass_context
def notify(ctx: click.Context, retry_failed: bool, as_json: bool) -> None:
    """Send new alerts and plan changes to coaches, runners and the local outbox (docs/notifications.md)."""
    from tendon_pipeline.app.delivery import notify_command
    from tendon_pipeline.warehouse.store import require_existing

    settings = settings_of(ctx)
    require_existing(settings.location)
    if as_json:
        with contextlib.redirect_stdout(sys.stderr):  # the console channel must not break the JSON
            report = notify_command(settings, retry_failed=retry_failed)
        click.echo(report.to_json())
        return
    report = notify_command(settings, retry_failed=retry_failed)
    click.echo(report.summary())
    for result in report.problems():
        when = f" (next try {result.next_attempt_at} UTC)" if result.next_attempt_at else ""
        click.echo(f"  {result.outcome:<9} {result.recipient} via {result.channel}: {result.error}{when}", err=True)


@cli.command("schema-doc")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def schema_doc(out: str | None) -> None:
    """Print the warehouse schema reference (docs/warehouse.md) generated from the schema."""
    from tendon_pipeline.warehouse.schema_doc import schema_markdown
    from tendon_pipeline.warehouse.store import open_warehouse

    with open_warehouse(":memory:") as wh:
        text = schema_markdown(wh)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command("config-doc")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def config_doc(out: str | None) -> None:
    """Print the configuration reference (docs/configuration.md) generated from the settings."""
    from tendon_pipeline.config.doc import settings_markdown

    text = settings_markdown()
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


# -- example data and the main job -----------------------------------------------
@cli.command()
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--weeks", default=10, show_default=True, help="Weeks of history per athlete.")
@click.option("--seed", default=0, show_default=True, help="Random seed of the generated data.")
def generate(out_dir: str, weeks: int, seed: int) -> None:
    """Write example FIT files (three athletes) into OUT_DIR/<athlete>/."""
    from tendon_pipeline.examples.generate import generate_example_inbox

    written = generate_example_inbox(Path(out_dir), weeks=weeks, seed=seed)
    click.echo(f"wrote {len(written)} FIT files under {out_dir}")


@cli.command()
@click.option("--weeks", default=6, show_default=True, help="Weeks of example history per athlete.")
@click.pass_context
def demo(ctx: click.Context, weeks: int) -> None:
    """The main job on the embedded default: make example data, ingest it, show the result."""
    from tendon_pipeline.cli.render import plan_text
    from tendon_pipeline.examples.demo import example_inbox, next_week_plans, process_example_inbox
    from tendon_pipeline.orchestration.embedded import one_shot_flow_run

    settings = settings_of(ctx)
    _check_warehouse_writable(settings)
    inbox = example_inbox(settings, weeks=weeks)
    if inbox.reused:  # keep the first run's history: regenerating on another day would shift it
        click.echo(f"==> reusing the example watch data in {inbox.folder} (delete the folder for a fresh set)")
    else:
        click.echo(f"==> wrote example watch data (the project's own generator) to {inbox.folder}")
    click.echo(f"    {len(inbox.files)} FIT files for {len(inbox.athletes)} athletes: {', '.join(inbox.athletes)}")
    how = ("a Prefect flow run in process" if one_shot_flow_run(settings)
           else "no Prefect API configured: the flow's steps called directly")
    click.echo(f"==> ingest + rules + notifications into {settings.db} ({how})")
    with _progress_on_stderr():
        result = process_example_inbox(settings, inbox, config=config_path(ctx))
    _print_ingest_summary(result.ingest)
    _print_holdings(settings.read_target, result.holdings)
    click.echo("==> alerts raised by this run (shown above by the console notifier, kept in the outbox file)")
    _print_new_alerts(result, settings)
    click.echo("==> next week's plans")
    for athlete, found in next_week_plans(settings, inbox.athletes).items():
        click.echo(plan_text(found) if found else f"no plan for {athlete}")
    click.echo("(run it again: every file is recognised as already stored, nothing changes)")
    _print_web_hint(settings)


def _print_web_hint(settings: Settings) -> None:
    """How to see the same in a browser: `tendon serve`, and the URL to open."""
    from tendon_pipeline.cli.web import serve

    port = next(p.default for p in serve.params if p.name == "port")
    users = len(settings.web.users)
    click.echo("==> in a browser (coaches: athletes worst first, feedback on alerts; runners: plan and check-in)")
    if not users:
        click.echo("    first add people: `tendon hash-password`, then [[web.users]] in your config (docs/web.md)")
    click.echo(f"    start the server: tendon serve     then open http://127.0.0.1:{port}/")


def _register() -> None:
    from tendon_pipeline.cli.activities import COMMANDS as ACTIVITY_COMMANDS
    from tendon_pipeline.cli.rules import COMMANDS as RULE_COMMANDS
    from tendon_pipeline.cli.sources import serve_api, watch, worker
    from tendon_pipeline.cli.sync import COMMANDS as SYNC_COMMANDS
    from tendon_pipeline.cli.views import COMMANDS as VIEW_COMMANDS
    from tendon_pipeline.cli.web import COMMANDS as WEB_COMMANDS

    for command in [*RULE_COMMANDS, *VIEW_COMMANDS, *WEB_COMMANDS, *ACTIVITY_COMMANDS, watch, serve_api, worker,
                    *SYNC_COMMANDS]:
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: returns the exit code instead of raising."""
    try:
        cli.main(args=argv, prog_name="tendon", standalone_mode=False)
    except TendonError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted: files stored so far are kept; run the same command again to resume", err=True)
        return 130
    return 0


def run() -> None:
    """The ``tendon`` console script: the process set up for a short command, :func:`main`, then
    the process ends promptly with its exit code (``cli.process``)."""
    from tendon_pipeline.cli.process import exit_promptly, prepare_process

    prepare_process()
    exit_promptly(main())


if __name__ == "__main__":  # pragma: no cover
    run()
