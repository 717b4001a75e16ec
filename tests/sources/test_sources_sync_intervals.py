"""intervals.icu sync against a loopback server that follows the documented API (intervals_server.py)."""

from __future__ import annotations

import gzip
import io
import time
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from intervals_server import IntervalsServer

from tendon_pipeline.connectors.sources.accounts import sync_all
from tendon_pipeline.connectors.sources.config import SyncSettings
from tendon_pipeline.connectors.sources.intervals_icu import IntervalsAccount, retry_after_seconds
from tendon_pipeline.connectors.sources.remote import Backoff, SyncSource, unwrap_fit
from tendon_pipeline.connectors.sources.sync_state import FetchState, Link, LinkStore
from tendon_pipeline.errors import RelinkNeeded, SourceError

START = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # the first activity of conftest.spec

KEY = "ana-personal-api-key-0123456789"
SINCE = START.replace(tzinfo=None) - timedelta(days=1)


@pytest.fixture
def server():
    with IntervalsServer() as running:
        yield running


@pytest.fixture
def ana(server, fit_of, monkeypatch):
    monkeypatch.setenv("ANA_INTERVALS_KEY", KEY)
    athlete = server.athlete("i77", api_key=KEY)
    for n in range(1, 6):
        athlete.add(n, START.replace(tzinfo=None) + timedelta(days=n), fit_of(n))
    return athlete


def _settings(server, tmp_path, **overrides) -> SyncSettings:
    values = dict(intervals_url=server.url, state_dir=tmp_path / "sync", page_size=2, backoff_s=0.05)
    values.update(overrides)
    return SyncSettings(**values)


def _link(tmp_path, auth="api_key", credential="env:ANA_INTERVALS_KEY") -> LinkStore:
    store = LinkStore(tmp_path / "sync")
    store.save(Link(provider="intervals", athlete="ana", remote_athlete="i77", auth=auth, credential=credential))
    return store


def _sync(server, tmp_path, got, **overrides):
    (result,) = sync_all(_settings(server, tmp_path, **overrides), tmp_path / "wh.duckdb", tmp_path / "inbox",
                         got.append, since=datetime(2026, 3, 1, tzinfo=UTC))
    return result


def test_each_original_file_lands_once_across_restarts_with_paging(server, ana, tmp_path, fit_of):
    _link(tmp_path)
    got = []
    result = _sync(server, tmp_path, got, page_size=3)
    assert result.error is None and len(result.landed) == 5 and got == result.landed
    assert [a.path.read_bytes() for a in got] == [fit_of(n) for n in range(1, 6)]  # oldest first, unwrapped
    assert {a.source for a in got} == {"intervals"} and {a.athlete_id for a in got} == {"ana"}
    assert all(a.path.parent == tmp_path / "inbox" / "ana" and a.sha256 for a in got)
    pages = [query for path, query, _ in server.requests if path.endswith("/activities")]
    assert len(pages) == 3 and all(q["limit"] == ["3"] for q in pages)  # [5 4 3] [3 2 1] [1]: a full page
    assert "newest" not in pages[0] and pages[1]["newest"] == [ana.activities[2].start_local.isoformat()]
    assert {scheme for _, _, scheme in server.requests} == {"Basic"}

    server.requests.clear()
    assert _sync(server, tmp_path, got).landed == []  # a restart: nothing downloaded again
    assert server.paths("/file") == []
    ana.add(6, START.replace(tzinfo=None) + timedelta(days=6), fit_of(6))
    again = _sync(server, tmp_path, got)
    assert [a.path.read_bytes() for a in again.landed] == [fit_of(6)]


def test_requests_keep_the_documented_pace(server, ana, tmp_path):
    _link(tmp_path)
    started = time.monotonic()
    result = _sync(server, tmp_path, [], page_size=100, intervals_request_gap_s=0.3)
    assert len(result.landed) == 5 and len(server.requests) == 6  # one listing, five files
    assert time.monotonic() - started >= 5 * 0.3


def test_the_next_sync_starts_at_the_newest_fetched_activity(server, ana, tmp_path):
    _link(tmp_path)
    store = LinkStore(tmp_path / "sync")
    state = FetchState(store.state_dir, "intervals", "ana")
    with IntervalsAccount(store.get("intervals", "ana"), base_url=server.url, timeout_s=5) as account:
        source = SyncSource(account, state, tmp_path / "inbox", interval_s=60, backoff=Backoff(),
                            max_bytes=1 << 20, overlap=timedelta(hours=1))
        source.sync_once(lambda a: None, since=datetime(2026, 3, 1, tzinfo=UTC))
        server.requests.clear()
        source.sync_once(lambda a: None)
    (_, query, _), = [r for r in server.requests if r[0].endswith("/activities")]
    assert query["oldest"] == [(START + timedelta(days=5) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")]


def test_an_oauth_token_is_sent_as_bearer(server, fit_of, tmp_path, monkeypatch):
    monkeypatch.setenv("ANA_INTERVALS_TOKEN", "oauth-access-token-abcdef")
    server.athlete("i77", bearer="oauth-access-token-abcdef").add(1, START.replace(tzinfo=None), fit_of(1))
    _link(tmp_path, auth="bearer", credential="env:ANA_INTERVALS_TOKEN")
    result = _sync(server, tmp_path, [])
    assert len(result.landed) == 1 and {s for _, _, s in server.requests} == {"Bearer"}


def test_a_revoked_key_is_terminal_says_relink_and_is_not_retried(server, ana, tmp_path, monkeypatch):
    monkeypatch.setenv("ANA_INTERVALS_KEY", "an-old-revoked-key-987654321")
    _link(tmp_path)
    result = _sync(server, tmp_path, [], attempts=5)
    assert isinstance(result.error, RelinkNeeded) and not result.error.transient
    assert "tendon link intervals --athlete ana" in str(result.error)
    assert "an-old-revoked-key" not in str(result.error)
    assert len(server.requests) == 1  # no retry storm
    assert result.landed == []


def test_429_waits_for_retry_after_then_goes_on(server, ana, tmp_path):
    _link(tmp_path)
    server.fail("/file", 429, retry_after="1")
    started = time.monotonic()
    result = _sync(server, tmp_path, [], backoff_s=0.0)
    assert result.error is None and len(result.landed) == 5
    assert time.monotonic() - started >= 1.0  # Retry-After honoured, not the zero back-off


def test_a_long_retry_after_stops_the_sync_and_the_next_one_resumes(server, ana, tmp_path, fit_of):
    _link(tmp_path)
    server.fail("/activity/i9003/file", 429, retry_after="3600")  # the third file is rate limited
    result = _sync(server, tmp_path, [])
    assert result.error is not None and result.error.transient and result.error.retry_after_s == 3600
    assert [a.path.read_bytes() for a in result.landed] == [fit_of(1), fit_of(2)]  # kept, recorded
    resumed = _sync(server, tmp_path, [])
    assert resumed.error is None and [a.path.read_bytes() for a in resumed.landed] == [fit_of(n) for n in (3, 4, 5)]


def test_5xx_backs_off_and_a_lasting_outage_is_transient(server, ana, tmp_path):
    _link(tmp_path)
    server.fail("/activities", 503, times=2)
    assert len(_sync(server, tmp_path, [], attempts=3).landed) == 5

    ana.add(7, START.replace(tzinfo=None) + timedelta(days=7), b"")
    server.fail("/activities", 502, times=3)
    server.requests.clear()
    result = _sync(server, tmp_path, [], attempts=3)
    assert result.error is not None and result.error.transient and "502" in result.error.message
    assert len(server.paths("/activities")) == 3  # bounded: `attempts` tries, then stop


def test_a_slow_response_times_out_and_is_tried_again(server, ana, tmp_path):
    _link(tmp_path)
    server.slow("/activity/i9001/file", 2.0)
    result = _sync(server, tmp_path, [], timeout_s=0.5, attempts=2, backoff_s=0.0)
    assert result.error is None and len(result.landed) == 5
    assert len(server.paths("/activity/i9001/file")) == 2


def test_an_activity_without_a_file_is_skipped_and_remembered(server, ana, tmp_path):
    ana.add(8, START.replace(tzinfo=None) + timedelta(hours=1), None)  # e.g. imported from Strava
    _link(tmp_path)
    result = _sync(server, tmp_path, [])
    assert len(result.landed) == 5 and set(result.skipped) == {"i9008"}
    server.requests.clear()
    _sync(server, tmp_path, [])
    assert server.paths("/file") == []


def test_a_missing_credential_variable_is_named_never_its_value(server, ana, tmp_path, monkeypatch):
    monkeypatch.delenv("ANA_INTERVALS_KEY")
    _link(tmp_path)
    result = _sync(server, tmp_path, [])
    assert isinstance(result.error, SourceError) and not result.error.transient
    assert "ANA_INTERVALS_KEY" in str(result.error) and server.requests == []


def test_a_link_never_holds_the_secret_itself(tmp_path):
    with pytest.raises(ValueError, match="env:VARIABLE or prefect-secret:BLOCK"):
        Link(provider="intervals", athlete="ana", auth="api_key", credential=KEY)
    _link(tmp_path)
    assert "ANA_INTERVALS_KEY" in (tmp_path / "sync" / "links.json").read_text()
    assert oct((tmp_path / "sync" / "links.json").stat().st_mode & 0o777) == "0o600"


def test_unwrap_takes_the_fit_out_of_gzip_and_zip(fit_of):
    fit = fit_of(1)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("123_ACTIVITY.fit", fit)
    assert unwrap_fit(fit, max_bytes=1 << 20) == fit
    assert unwrap_fit(gzip.compress(fit), max_bytes=1 << 20) == fit
    assert unwrap_fit(packed.getvalue(), max_bytes=1 << 20) == fit
    assert unwrap_fit(gzip.compress(b"<gpx></gpx>"), max_bytes=1 << 20) is None
    assert unwrap_fit(gzip.compress(fit), max_bytes=len(fit) - 1) is None


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("Sun, 01 Mar 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_the_sync_source_polls_until_stopped_and_ends_itself_on_a_revoked_key(server, ana, tmp_path, monkeypatch):
    import threading

    from tendon_pipeline.connectors.sources.base import Source

    store = _link(tmp_path)

    def source() -> SyncSource:
        account = IntervalsAccount(store.get("intervals", "ana"), base_url=server.url, timeout_s=5)
        return SyncSource(account, FetchState(store.state_dir, "intervals", "ana"), tmp_path / "inbox",
                          interval_s=0.1, backoff=Backoff(attempts=1), max_bytes=1 << 20, first_days=3650)

    polling, got, stop = source(), [], threading.Event()
    assert isinstance(polling, Source) and polling.name == "intervals"
    thread = threading.Thread(target=polling.run, args=(got.append, stop))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while len(got) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        ana.add(9, START.replace(tzinfo=None) + timedelta(days=9), b"")  # polled again: seen, skipped
        while len(server.paths("/activity/i9009/file")) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and len(got) == 5 and len(server.paths("/activity/i9009/file")) == 1

    monkeypatch.setenv("ANA_INTERVALS_KEY", "revoked-key-000000000000")
    revoked = threading.Thread(target=source().run, args=(got.append, threading.Event()))
    revoked.start()
    revoked.join(10)
    assert not revoked.is_alive()  # terminal: the source ends by itself instead of polling a dead key
