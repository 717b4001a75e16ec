"""``tendon link`` and ``tendon sync``: pull activities from intervals.icu and Garmin Connect.

Registered on the main group in ``cli/main.py`` (``COMMANDS``). Credentials are never taken
on the command line, never written to the config or the link file, never printed:
intervals.icu keys are referenced (``env:VAR`` or a Prefect Secret block), Garmin's
password is used once to obtain tokens and then forgotten.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from tendon_pipeline.cli.context import config_path, settings_of
from tendon_pipeline.connectors.sources.providers import PROVIDERS
from tendon_pipeline.errors import SourceError

if TYPE_CHECKING:  # imported by the commands: `tendon --help` and the read commands stay light
    from tendon_pipeline.config.settings import Settings
    from tendon_pipeline.connectors.sources.remote import SyncResult
    from tendon_pipeline.connectors.sources.sync_state import LinkStore


def _store(settings: Settings) -> LinkStore:
    from tendon_pipeline.connectors.sources.accounts import state_dir
    from tendon_pipeline.connectors.sources.sync_state import LinkStore

    return LinkStore(state_dir(settings.sync, settings.db))


@click.group()
def link() -> None:
    """Link an athlete to intervals.icu or Garmin Connect (once per athlete and service)."""


@link.command("intervals")
@click.option("--athlete", required=True, help="Athlete id in tendon-pipeline.")
@click.option("--intervals-id", required=True,
              help="The athlete's intervals.icu id (i12345: intervals.icu settings page).")
@click.option("--credential", metavar="REF",
              help="Where the API key (or OAuth token) is: env:VARIABLE or prefect-secret:BLOCK.")
@click.option("--save-secret", is_flag=True,
              help="Ask for the key now and keep it in the Prefect Secret block tendon-intervals-ATHLETE.")
@click.option("--oauth", is_flag=True, help="The credential is an OAuth access token (Bearer), not an API key.")
@click.pass_context
def link_intervals(ctx: click.Context, athlete: str, intervals_id: str, credential: str | None,
                   save_secret: bool, oauth: bool) -> None:
    """Check the credential against intervals.icu, then remember the link (a reference, never the key)."""
    from tendon_pipeline.connectors.sources.intervals_icu import IntervalsAccount
    from tendon_pipeline.connectors.sources.sync_state import Link
    from tendon_pipeline.errors import ConfigError

    settings = settings_of(ctx)
    if (credential is None) == (not save_secret):
        raise ConfigError("give exactly one of --credential env:VAR|prefect-secret:BLOCK or --save-secret",
                          hint="e.g. export ANA_INTERVALS_KEY=... and pass --credential env:ANA_INTERVALS_KEY")
    if save_secret:
        credential = _save_prefect_secret(f"tendon-intervals-{athlete.lower()}",
                                          click.prompt("intervals.icu API key", hide_input=True))
    try:
        new = Link(provider="intervals", athlete=athlete, remote_athlete=intervals_id,
                   auth="bearer" if oauth else "api_key", credential=credential)
    except ValueError as exc:
        raise ConfigError(f"cannot link {athlete}: {_first_error(exc)}") from None
    with IntervalsAccount(new, base_url=settings.sync.intervals_url, timeout_s=settings.sync.timeout_s) as account:
        who = account.whoami()
    _store(settings).save(new)
    click.echo(f"linked {athlete} -> intervals.icu athlete {who.get('id', intervals_id)}"
               f" ({who.get('name') or 'no name'}); credential {credential}")


@link.command("garmin")
@click.option("--athlete", required=True, help="Athlete id in tendon-pipeline.")
@click.option("--email", help="Garmin account e-mail (asked if not given).")
@click.option("--password-ref", metavar="REF",
              help="env:VARIABLE or prefect-secret:BLOCK holding the password (else it is asked, hidden).")
@click.option("--token-file", type=click.Path(exists=True),
              help="Adopt tokens that garminconnect already wrote (garmin_tokens.json) instead of logging in.")
@click.pass_context
def link_garmin(ctx: click.Context, athlete: str, email: str | None, password_ref: str | None,
                token_file: str | None) -> None:
    """Log in to Garmin Connect once (MFA code asked if the account has it); later syncs use the tokens."""
    from pathlib import Path

    from tendon_pipeline.connectors.sources.garmin_connect import import_tokens, login_with_password
    from tendon_pipeline.connectors.sources.sync_state import Link, resolve_reference
    from tendon_pipeline.errors import ConfigError

    settings = settings_of(ctx)
    try:
        new = Link(provider="garmin", athlete=athlete, auth="token_store")
    except ValueError as exc:
        raise ConfigError(f"cannot link {athlete!r}: {_first_error(exc)}") from None
    store = _store(settings)
    tokens = store.token_dir(athlete)
    domain = settings.sync.garmin_domain
    if token_file:
        account = import_tokens(athlete, tokens, Path(token_file), domain=domain)
    else:
        email = email or click.prompt("Garmin e-mail")
        password = (resolve_reference(password_ref, f"Garmin password of {athlete}",
                                      relink=f"tendon link garmin --athlete {athlete}")
                    if password_ref else click.prompt("Garmin password", hide_input=True))
        account = login_with_password(athlete, tokens, email, password, lambda: click.prompt("MFA code"),
                                      domain=domain)
        del password
    store.save(new)
    click.echo(f"linked {athlete} -> Garmin Connect ({account.display_name or 'account'}); tokens in {tokens}")


def _save_prefect_secret(block: str, value: str) -> str:
    from prefect.blocks.system import Secret

    from tendon_pipeline.orchestration.embedded import quiet_prefect_env

    quiet_prefect_env()
    Secret(value=value).save(block, overwrite=True)
    return f"prefect-secret:{block}"


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    return errors()[0]["msg"] if callable(errors) else str(exc)


def _utc_date(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None else None


@click.command()
@click.option("--athlete", help="Only this athlete's links (default: every linked athlete).")
@click.option("--provider", type=click.Choice(PROVIDERS), help="Only this service.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Fetch from this day (a first backfill); default: from the newest activity already fetched.")
@click.option("--land-only", is_flag=True, help="Only land the files in the inbox; `tendon watch` processes them.")
@click.option("--json", "as_json", is_flag=True, help="Print what each account did as JSON.")
@click.pass_context
def sync(ctx: click.Context, athlete: str | None, provider: str | None, since: datetime | None,
         land_only: bool, as_json: bool) -> None:
    """Fetch new activities from every linked account, land them in the inbox and process them."""
    from tendon_pipeline.connectors.sources.accounts import sync_all
    from tendon_pipeline.orchestration import events

    settings = settings_of(ctx)
    results = sync_all(settings.sync, settings.db, settings.inbox, events.emit_file_received,
                       athlete=athlete, provider=provider, since=_utc_date(since))
    events.flush()
    counts = {} if land_only else _process(results, settings, config_path(ctx))
    if as_json:
        click.echo(json.dumps({"accounts": [r.to_dict() for r in results], "ingest": counts}))
    else:
        for result in results:
            click.echo(_line(result))
        if counts:
            click.echo("ingest: " + ", ".join(f"{n} {status}" for status, n in counts.items() if n))
    failed = [r.error for r in results if r.error is not None]
    if failed:
        raise _worst(failed)


def _process(results: list[SyncResult], settings: Settings, config: str | None) -> dict[str, int]:
    from tendon_pipeline.runtime.watch import process_batch

    by_athlete: dict[str, list[str]] = defaultdict(list)
    for result in results:
        by_athlete[result.athlete].extend(str(p) for p in result.paths)
    totals: dict[str, int] = {}
    for athlete, paths in by_athlete.items():
        if paths:
            report = getattr(process_batch(paths, settings, athlete=athlete, config=config), "ingest", None)
            for status, n in (report.counts() if report else {}).items():
                totals[status] = totals.get(status, 0) + n
    return totals


def _line(result: SyncResult) -> str:
    text = (f"{result.provider}/{result.athlete}: {result.listed} listed, {len(result.landed)} new"
            + (f", {len(result.skipped)} without a FIT file" if result.skipped else ""))
    if result.error is not None:
        kind = "transient, the next sync resumes" if result.error.transient else "terminal"
        text += f"\n  stopped ({kind}): {result.error}"
    return text


def _worst(errors: list[SourceError]) -> SourceError:
    """A terminal error first (someone must act), else the first transient one."""
    return next((e for e in errors if not e.transient), errors[0])


COMMANDS = [link, sync]
