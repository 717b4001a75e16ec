"""Garmin Connect sync with the unmodified garminconnect library, pointed by configuration
(HTTPS proxy + CA bundle) at a loopback Garmin Connect (garmin_server.py)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

pytest.importorskip("garminconnect")

from garmin_server import GarminServer

from tendon_pipeline.connectors.sources.accounts import sync_all
from tendon_pipeline.connectors.sources.config import SyncSettings
from tendon_pipeline.connectors.sources.garmin_connect import TOKEN_FILE, import_tokens
from tendon_pipeline.connectors.sources.sync_state import Link, LinkStore
from tendon_pipeline.errors import RelinkNeeded

START = dt.datetime(2026, 3, 2, 6, 30)


@pytest.fixture
def garmin(tmp_path, monkeypatch, fit_of):
    (tmp_path / "tls").mkdir()
    with GarminServer(tmp_path / "tls") as server:
        for key, value in server.environment().items():
            monkeypatch.setenv(key, value)
        for n in range(1, 24):  # more than one page of 20
            server.add(n, START + dt.timedelta(hours=7 * n), fit_of(n))
        yield server


def _link(tmp_path, garmin, *, revoked: bool = False) -> LinkStore:
    store = LinkStore(tmp_path / "sync")
    garmin.token_file(store.token_dir("ana") / TOKEN_FILE, revoked=revoked)
    store.save(Link(provider="garmin", athlete="ana", auth="token_store"))
    return store


def _sync(tmp_path, **overrides):
    values = dict(state_dir=tmp_path / "sync", backoff_s=0.05)
    values.update(overrides)
    (result,) = sync_all(SyncSettings(**values), tmp_path / "wh.duckdb", tmp_path / "inbox", lambda a: None,
                         since=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    return result


def test_original_zips_are_unpacked_and_landed_once(garmin, tmp_path, fit_of):
    _link(tmp_path, garmin)
    result = _sync(tmp_path)
    assert result.error is None and result.listed == 23
    assert [a.path.read_bytes() for a in result.landed] == [fit_of(n) for n in range(1, 24)]
    assert {a.source for a in result.landed} == {"garmin"} and {a.athlete_id for a in result.landed} == {"ana"}
    listing = [q for _, p, q in garmin.requests if p.endswith("/search/activities")]
    assert len(listing) == 3 and "start=20" in listing[1]  # pages of 20, then an empty page
    assert {h for h, _, _ in garmin.requests} == {"connectapi.garmin.com"}  # through the proxy, over TLS

    garmin.requests.clear()
    again = _sync(tmp_path)
    assert again.landed == [] and garmin.paths("/download-service/") == []


def test_an_expired_token_is_refreshed_by_the_library(garmin, tmp_path):
    store = _link(tmp_path, garmin)
    before = (store.token_dir("ana") / TOKEN_FILE).read_text()
    garmin.tokens.clear()  # the access token expired server-side; the refresh token still works
    result = _sync(tmp_path)
    assert result.error is None and len(result.landed) == 23
    assert garmin.paths("/di-oauth2-service/oauth/token")
    assert (store.token_dir("ana") / TOKEN_FILE).read_text() != before  # the library kept the new token


def test_revoked_tokens_say_relink_once_without_a_retry_storm(garmin, tmp_path):
    _link(tmp_path, garmin, revoked=True)
    started = time.monotonic()
    result = _sync(tmp_path, attempts=5)
    assert isinstance(result.error, RelinkNeeded) and not result.error.transient
    assert "tendon link garmin --athlete ana" in str(result.error)
    assert result.landed == [] and garmin.paths("/download-service/") == []
    assert len(garmin.paths("/socialProfile")) <= 6  # the library's own bounded tries, not ours on top
    assert time.monotonic() - started < 30


def test_no_token_store_is_relink_needed(tmp_path, garmin):
    LinkStore(tmp_path / "sync").save(Link(provider="garmin", athlete="ana", auth="token_store"))
    result = _sync(tmp_path)
    assert isinstance(result.error, RelinkNeeded) and garmin.requests == []


def test_429_and_5xx_are_transient_and_backed_off(garmin, tmp_path):
    _link(tmp_path, garmin)
    garmin.fail("/download-service/files/activity/20000000003", 429)
    garmin.fail("/search/activities", 503)
    result = _sync(tmp_path, attempts=3)
    assert result.error is None and len(result.landed) == 23
    assert len(garmin.paths("/download-service/files/activity/20000000003")) == 2

    garmin.add(30, START + dt.timedelta(days=20), b"")
    garmin.fail("/search/activities", 500, times=5)
    lasting = _sync(tmp_path, attempts=2)
    assert lasting.error is not None and lasting.error.transient and "500" in lasting.error.message


def test_tokens_from_an_earlier_garminconnect_login_can_be_adopted(garmin, tmp_path):
    written = garmin.token_file(tmp_path / "elsewhere.json")
    store = LinkStore(tmp_path / "sync")
    account = import_tokens("ana", store.token_dir("ana"), written)
    assert account.display_name == "ana-garmin"
    assert (store.token_dir("ana") / TOKEN_FILE).stat().st_mode & 0o777 == 0o600
    assert store.token_dir("ana").stat().st_mode & 0o777 == 0o700


def _tendon(tmp_path, capsys, *args: str) -> tuple[int, str]:
    from tendon_pipeline.cli import main

    code = main(["--db", str(tmp_path / "w.duckdb"), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture
def cli_env(tmp_path, monkeypatch, no_prefect_events):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TENDON_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("ANA_GARMIN_PASSWORD", "correct horse battery")


def test_link_logs_in_once_with_mfa_then_syncs_from_the_tokens(garmin, cli_env, tmp_path, capsys, monkeypatch):
    import io

    garmin.logins["ana@example.org"] = ("correct horse battery", "424242")
    monkeypatch.setattr("sys.stdin", io.StringIO("424242\n"))  # the MFA code, typed at the prompt
    code, out = _tendon(tmp_path, capsys, "link", "garmin", "--athlete", "ana", "--email", "ana@example.org",
                        "--password-ref", "env:ANA_GARMIN_PASSWORD")
    assert code == 0 and "linked ana -> Garmin Connect (ana-garmin)" in out, out
    assert garmin.paths("/mobile/api/mfa/verifyCode")
    state = tmp_path / "sync"
    assert all("correct horse" not in p.read_text() for p in state.rglob("*") if p.is_file())

    garmin.logins.clear()  # the password no longer works: syncing needs only the stored tokens
    code, out = _tendon(tmp_path, capsys, "sync", "--provider", "garmin", "--since", "2026-03-01", "--land-only")
    assert code == 0 and "garmin/ana: 23 listed, 23 new" in out, out
    assert len(list((tmp_path / "inbox" / "ana").glob("garmin-*.fit"))) == 23


def test_link_with_a_wrong_password_is_terminal_after_one_try(garmin, cli_env, tmp_path, capsys):
    garmin.logins["ana@example.org"] = ("another password", None)
    code, out = _tendon(tmp_path, capsys, "link", "garmin", "--athlete", "ana", "--email", "ana@example.org",
                        "--password-ref", "env:ANA_GARMIN_PASSWORD")
    assert code == 5 and "re-link needed" in out and "correct horse" not in out, out
    assert len(garmin.paths("/mobile/api/login")) == 1  # wrong credentials stop the library's login chain
    assert not (tmp_path / "sync" / "links.json").exists()
