"""Every linked account, synced: used by ``tendon sync`` and the sync flow (flows/sync.py).

One account failing never stops the others: each :class:`~.remote.SyncResult` carries
its own error (transient: the next run resumes; terminal: re-link needed).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from tendon_pipeline.connectors.sources.base import Emit
from tendon_pipeline.connectors.sources.config import SyncSettings
from tendon_pipeline.connectors.sources.remote import Backoff, RemoteAccount, SyncResult, SyncSource
from tendon_pipeline.connectors.sources.sync_state import FetchState, Link, LinkStore
from tendon_pipeline.errors import ConfigError, SourceError


def state_dir(sync: SyncSettings, db: Path) -> Path:
    """``sync.state_dir``, else a ``sync`` folder beside the warehouse file."""
    return Path(sync.state_dir).expanduser() if sync.state_dir else Path(db).parent / "sync"


def open_account(link: Link, sync: SyncSettings, store: LinkStore) -> RemoteAccount:
    if link.provider == "intervals":
        from tendon_pipeline.connectors.sources.intervals_icu import IntervalsAccount

        return IntervalsAccount(link, base_url=sync.intervals_url, timeout_s=sync.timeout_s,
                                page_size=sync.page_size, request_gap_s=sync.intervals_request_gap_s)
    from tendon_pipeline.connectors.sources.garmin_connect import GarminAccount

    return GarminAccount(link.athlete, store.token_dir(link.athlete), domain=sync.garmin_domain)


def backoff_of(sync: SyncSettings) -> Backoff:
    return Backoff(attempts=sync.attempts, backoff_s=sync.backoff_s, max_wait_s=sync.max_wait_s)


def sync_link(link: Link, sync: SyncSettings, store: LinkStore, inbox: Path, emit: Emit, *,
              since: datetime | None = None) -> SyncResult:
    """Sync one linked account; a failure to even open it is returned in the result too."""
    try:
        account = open_account(link, sync, store)
    except SourceError as exc:
        return SyncResult(link.provider, link.athlete, error=exc)
    try:
        source = SyncSource(account, FetchState(store.state_dir, link.provider, link.athlete), inbox,
                            interval_s=sync.interval_minutes * 60, backoff=backoff_of(sync),
                            max_bytes=int(sync.max_file_mb * 1024 * 1024), first_days=sync.first_sync_days,
                            overlap=timedelta(hours=sync.overlap_hours))
        return source.sync_once(emit, since=since)
    finally:
        close = getattr(account, "close", None)
        if close is not None:
            close()


def links_to_sync(store: LinkStore, athlete: str | None = None, provider: str | None = None) -> list[Link]:
    links = [link for link in store.all() if (athlete is None or link.athlete == athlete)
             and (provider is None or link.provider == provider)]
    if not links:
        who = f" for {athlete}" if athlete else ""
        raise ConfigError(f"no linked account{who} in {store.path}",
                          hint="link one first: tendon link intervals|garmin --athlete ID")
    return links


def sync_all(sync: SyncSettings, db: Path, inbox: Path, emit: Emit, *, athlete: str | None = None,
             provider: str | None = None, since: datetime | None = None) -> list[SyncResult]:
    store = LinkStore(state_dir(sync, db))
    return [sync_link(link, sync, store, inbox, emit, since=since)
            for link in links_to_sync(store, athlete, provider)]
