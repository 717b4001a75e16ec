"""``tendon watch`` and ``tendon serve-api``: data flows in without anyone running a command."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from tendon_pipeline.cli.context import config_path, settings_of


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("tendon_pipeline").setLevel(logging.INFO if verbose else logging.WARNING)


def _check_server_mode() -> None:
    from tendon_pipeline.errors import ConfigError

    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError("server mode needs a Prefect server: PREFECT_API_URL is not set",
                          hint="start one (prefect server start) and export PREFECT_API_URL=http://HOST:PORT/api,"
                               " or drop --server to run the flows in this process")


def _echo_batch(record) -> None:
    counts = ", ".join(f"{n} {s}" for s, n in record.counts().items() if n)
    alerts = record.new_alerts
    click.echo(f"batch {record.number}: {len(record.arrivals)} files in {record.finished - record.started:.2f} s"
               f" ({counts or 'nothing new'})" + (f", {len(alerts)} new alerts" if alerts else "")
               + (f"  error: {record.error}" if record.error else ""))


@click.command()
@click.argument("inbox", required=False, type=click.Path(file_okay=False))
@click.option("--once", is_flag=True, help="Process what is in the inbox now, then exit (cron, tests).")
@click.option("--batch-window", type=float, default=None,
              help="Seconds to collect arrivals into one flow run (default: watch.batch_window_s).")
@click.option("--poll", is_flag=True, default=None, help="Poll instead of OS notifications (network mounts).")
@click.option("--server", "server_mode", is_flag=True,
              help="Server mode: only emit fit.file.received to the Prefect server at PREFECT_API_URL;"
                   " its deployments' triggers run ingest, rules and notifications (deploy/prefect.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="Log every batch and event.")
@click.pass_context
def watch(ctx: click.Context, inbox: str | None, once: bool, batch_window: float | None, poll: bool | None,
          server_mode: bool, verbose: bool) -> None:
    """Watch INBOX/<athlete>/ (default: the configured inbox) and process each FIT file that lands.

    Files already there are caught up first; each complete file becomes a fit.file.received
    event and goes through ingest, rules and notifications with no further command.
    Stop with Ctrl-C or SIGTERM: what was accepted is finished first.
    """
    from tendon_pipeline.runtime.watch import catch_up_once, folder_watcher

    _logging(verbose)
    settings = settings_of(ctx)
    folder = Path(inbox).expanduser() if inbox else settings.inbox
    if server_mode:
        _check_server_mode()
        watcher = folder_watcher(settings, folder, config=config_path(ctx), poll=poll, process=False)
        click.echo(f"watching {folder.resolve()} -> events to {os.environ['PREFECT_API_URL']} (Ctrl-C to stop)")
        watcher.run_forever()
        click.echo("stopped")
        return
    if once:
        if not folder.is_dir():  # still worth running: it finishes pending evaluations and deliveries
            click.echo(f"note: there is no folder {folder}: no files taken in (check the path; the"
                       " inbox is INBOX/<athlete>/*.fit)", err=True)
        batches = catch_up_once(settings, folder, config=config_path(ctx), batch_window_s=batch_window,
                                on_batch=_echo_batch)
        click.echo(f"caught up: {sum(len(b.arrivals) for b in batches)} files in {len(batches)} batches")
        return
    watcher = folder_watcher(settings, folder, config=config_path(ctx), batch_window_s=batch_window, poll=poll,
                             on_batch=_echo_batch)
    click.echo(f"watching {folder.resolve()} -> {settings.location} (Ctrl-C to stop)")
    watcher.run_forever()
    click.echo("stopped")


def upload_server_options(land_only_help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options ``tendon serve`` and ``tendon serve-api`` share: --host, --port, --watch/--no-watch,
    --land-only (its help says what still works in that command) and --verbose."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
        click.option("--port", default=8765, show_default=True, type=int, help="Port (0: any free port)."),
        click.option("--watch/--no-watch", "watch_folder", default=True, show_default=True,
                     help="Also watch the inbox folder in this process (sync tools writing files)."),
        click.option("--land-only", is_flag=True, help=land_only_help),
        click.option("-v", "--verbose", is_flag=True, help="Log every batch and event."),
    ]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def serve_uploads(ctx: click.Context, settings: Any, http: Any, *, watch_folder: bool, land_only: bool,
                  banner: str) -> None:
    """Run the upload server ``http`` (plus the inbox folder, unless ``--no-watch`` or
    ``--land-only``) under one watcher until Ctrl-C; ``banner`` is printed once it listens.
    With ``--land-only`` another process (``tendon watch``) owns the warehouse, so this one does
    not catch up pending evaluations at start either."""
    from tendon_pipeline.connectors.sources.folder import FolderSource
    from tendon_pipeline.runtime.watch import Watcher

    sources: list = [http]
    if watch_folder and not land_only:
        sources.append(FolderSource(settings.inbox, settle_s=settings.watch.settle_s, poll=settings.watch.poll,
                                    poll_interval_ms=settings.watch.poll_interval_ms))
    watcher = Watcher(settings, config=config_path(ctx), sources=sources, on_batch=_echo_batch, warm_up=not land_only,
                      recover=not land_only)
    click.echo(banner + ("" if land_only else f" -> {settings.location}") + " (Ctrl-C to stop)")
    watcher.run_forever()
    click.echo("stopped")


@click.command("serve-api")
@upload_server_options("Only land uploads in the inbox; a separate `tendon watch` processes them.")
@click.pass_context
def serve_api(ctx: click.Context, host: str, port: int, watch_folder: bool, land_only: bool, verbose: bool) -> None:
    """Serve the authenticated FIT upload endpoint (POST /v1/files) and process what arrives.

    Tokens come from the configuration ([[upload.tokens]], per athlete or per device).
    """
    from tendon_pipeline.connectors.sources.http_upload import HttpUploadSource
    from tendon_pipeline.errors import ConfigError

    _logging(verbose)
    settings = settings_of(ctx)
    if not settings.upload.tokens:
        raise ConfigError("no upload tokens configured, so every upload would be refused",
                          hint="add [[upload.tokens]] entries (athlete, token) to the config; see docs/event-driven.md")
    http = HttpUploadSource(settings.upload, settings.inbox, host=host, port=port, land_only=land_only)
    serve_uploads(ctx, settings, http, watch_folder=watch_folder, land_only=land_only,
                  banner=f"upload endpoint {http.url}/v1/files -> {settings.inbox}")


@click.command()
@click.argument("inbox", required=False, type=click.Path(file_okay=False))
@click.option("--batch-window", type=float, default=None,
              help="Seconds to collect arrivals into one flow run (default: watch.batch_window_s).")
@click.option("-v", "--verbose", is_flag=True, help="Log every batch, event and reconnection.")
@click.pass_context
def worker(ctx: click.Context, inbox: str | None, batch_window: float | None, verbose: bool) -> None:
    """Server mode with a warm worker: take fit.file.received events from the Prefect server.

    Needs PREFECT_API_URL. Each batch of events for files under INBOX (default: the configured
    inbox) is ingested, evaluated and notified in this process, as a flow run in that server,
    and athlete.data.changed / alert.raised go back to it. Files that arrived while the worker
    was down are caught up at start. Replaces the per-event deployments of deploy/prefect.yaml
    (it refuses to start next to them). Stop with Ctrl-C or SIGTERM: the current batch is finished.
    """
    from tendon_pipeline.runtime.warm import ServerWorker

    _logging(verbose)
    settings = settings_of(ctx)
    folder = Path(inbox).expanduser() if inbox else settings.inbox
    server = ServerWorker(settings, folder, config=config_path(ctx), batch_window_s=batch_window,
                          on_batch=_echo_batch)
    click.echo(f"taking {folder.resolve()} arrivals from {server.api_url} -> {settings.location} (Ctrl-C to stop)",
               nl=True)
    server.run_forever()
    click.echo("stopped")
