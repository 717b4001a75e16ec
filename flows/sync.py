"""Scheduled sync: pull new activities from every linked intervals.icu / Garmin Connect account.

Deployed entrypoint: ``flows/sync.py:sync_flow`` (every 15 minutes, ``deploy/prefect.yaml``).
Each account is one task; each new file is landed in ``INBOX/<athlete>/`` and announced
as ``fit.file.received``, so in server mode the ``ingest-on-arrival`` deployment takes it
from there like any other arrival (``process=False``, the deployed default). ``process=True``
ingests, evaluates and notifies in this run instead (no event deployments needed).

No task retries: a transient failure (429, 5xx, timeout) ends that account's sync and
the next scheduled run resumes where it stopped; a terminal one (re-link needed) fails
the run with what to do, after the other accounts were synced.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from prefect import flow, task

from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.connectors.sources.accounts import links_to_sync, state_dir, sync_link
from tendon_pipeline.connectors.sources.sync_state import LinkStore
from tendon_pipeline.errors import SourceError
from tendon_pipeline.orchestration import events


@task(name="sync-account")
def sync_account_task(provider: str, athlete: str, since: str | None, db: str | None,
                      config: str | None) -> dict:
    """I/O task: one linked account; files land in the inbox, each one announced as an event."""
    settings = load_settings(config, db=db)
    store = LinkStore(state_dir(settings.sync, settings.db))
    link = store.get(provider, athlete)
    start = datetime.combine(date.fromisoformat(since), datetime.min.time(), UTC) if since else None
    result = sync_link(link, settings.sync, store, settings.inbox, events.emit_file_received, since=start)
    return result.to_dict()


@flow(name="sync-linked-accounts")
def sync_flow(athlete: str | None = None, since: str | None = None, process: bool = False,
              db: str | None = None, config: str | None = None) -> dict:
    """Sync every linked account (or one athlete's); ``since`` = YYYY-MM-DD for a backfill."""
    settings = load_settings(config, db=db)
    links = links_to_sync(LinkStore(state_dir(settings.sync, settings.db)), athlete)
    results = [sync_account_task(link.provider, link.athlete, since, db, config) for link in links]
    events.flush()
    if process:
        _process(results, db, config)
    terminal = [r for r in results if r["error"] and not r["error"]["transient"]]
    if terminal:
        first = terminal[0]
        raise SourceError(f"{first['provider']}/{first['athlete']}: {first['error']['message']}",
                          transient=False, hint=first["error"]["hint"])
    return {"accounts": results}


def _process(results: list[dict], db: str | None, config: str | None) -> None:
    from tendon_pipeline.flows.pipeline import process_files_flow

    by_athlete: dict[str, list[str]] = defaultdict(list)
    for result in results:
        by_athlete[result["athlete"]].extend(result["landed"])
    for athlete, paths in by_athlete.items():
        if paths:
            process_files_flow(paths, athlete, db, config)
