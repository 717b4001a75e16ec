"""``tendon link`` / ``tendon sync`` and the scheduled sync flow, against the loopback intervals.icu."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from intervals_server import IntervalsServer

from tendon_pipeline.cli import main
from tendon_pipeline.warehouse.store import open_warehouse

KEY = "ana-personal-api-key-0123456789"
START = datetime(2026, 3, 2, 6, 30)


@pytest.fixture
def server(tmp_path, monkeypatch, fit_of):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TENDON_INBOX", str(tmp_path / "inbox"))
    monkeypatch.setenv("ANA_INTERVALS_KEY", KEY)
    with IntervalsServer() as running:
        monkeypatch.setenv("TENDON_SYNC__INTERVALS_URL", running.url)
        athlete = running.athlete("i77", api_key=KEY)
        for n in (1, 2, 3):
            athlete.add(n, START + timedelta(days=n), fit_of(n))
        yield running


def _tendon(tmp_path, capsys, *args: str) -> tuple[int, str]:
    code = main(["--db", str(tmp_path / "w.duckdb"), *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _link(tmp_path, capsys, credential: str = "env:ANA_INTERVALS_KEY") -> tuple[int, str]:
    return _tendon(tmp_path, capsys, "link", "intervals", "--athlete", "ana", "--intervals-id", "i77",
                   "--credential", credential)


def test_link_checks_the_key_and_keeps_only_its_reference(server, tmp_path, capsys):
    code, out = _link(tmp_path, capsys)
    assert code == 0 and "linked ana -> intervals.icu athlete i77 (Test Runner)" in out
    links = (tmp_path / "sync" / "links.json").read_text()
    assert json.loads(links)["intervals/ana"]["credential"] == "env:ANA_INTERVALS_KEY"
    assert KEY not in links and KEY not in out


def test_link_with_a_wrong_key_is_refused_with_what_to_do(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ANA_INTERVALS_KEY", "not-the-right-key-at-all-123")
    code, out = _link(tmp_path, capsys)
    assert code == 5 and "refuses the credential of ana (HTTP 401)" in out
    assert "tendon link intervals --athlete ana" in out and "not-the-right-key" not in out
    assert not (tmp_path / "sync" / "links.json").exists()


def test_link_refuses_a_key_written_on_the_command_line(server, tmp_path, capsys):
    code, out = _link(tmp_path, capsys, credential=KEY)
    assert code == 2 and "env:VARIABLE or prefect-secret:BLOCK" in out and KEY not in out


def test_sync_without_links_says_how_to_link(server, tmp_path, capsys):
    code, out = _tendon(tmp_path, capsys, "sync")
    assert code == 2 and "tendon link intervals|garmin --athlete ID" in out


@pytest.mark.prefect
def test_sync_ingests_and_a_file_also_dropped_in_the_folder_is_stored_once(server, tmp_path, capsys, fit_of):
    assert _link(tmp_path, capsys)[0] == 0
    code, out = _tendon(tmp_path, capsys, "sync", "--athlete", "ana", "--since", "2026-03-01")
    assert code == 0 and "intervals/ana: 3 listed, 3 new" in out and "3 ingested" in out, out
    copy = tmp_path / "inbox" / "ana" / "from-the-watch-cable.fit"
    copy.write_bytes(fit_of(2))  # the same activity, also copied by hand
    code, out = _tendon(tmp_path, capsys, "ingest", str(copy))
    assert code == 0, out
    with open_warehouse(tmp_path / "w.duckdb", read_only=True) as wh:
        assert int(wh.query("SELECT count(*) FROM activities").iloc[0, 0]) == 3
    code, out = _tendon(tmp_path, capsys, "sync", "--json")
    assert code == 0 and json.loads(out)["accounts"][0]["landed"] == []


@pytest.mark.prefect
def test_the_scheduled_flow_lands_files_and_fails_with_relink_for_a_revoked_key(server, tmp_path, capsys,
                                                                               monkeypatch):
    from tendon_pipeline.errors import SourceError
    from tendon_pipeline.flows.sync import sync_flow

    assert _link(tmp_path, capsys)[0] == 0
    done = sync_flow(since="2026-03-01", db=str(tmp_path / "w.duckdb"))
    (account,) = done["accounts"]
    assert len(account["landed"]) == 3 and account["error"] is None
    monkeypatch.setenv("ANA_INTERVALS_KEY", "revoked-key-000000000000")
    with pytest.raises(SourceError, match="intervals/ana: intervals.icu refuses") as failed:
        sync_flow(db=str(tmp_path / "w.duckdb"))
    assert not failed.value.transient and "tendon link intervals --athlete ana" in str(failed.value)


@pytest.mark.prefect
@pytest.mark.filterwarnings("ignore::getpass.GetPassWarning")  # the hidden prompt reads a pipe here
def test_link_can_keep_the_key_in_a_prefect_secret_block(server, tmp_path, capsys, monkeypatch, no_prefect_events):
    import io
    import uuid

    athlete = f"sec{uuid.uuid4().hex[:8]}"  # block names are global in the Prefect database
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    code, out = _tendon(tmp_path, capsys, "link", "intervals", "--athlete", athlete, "--intervals-id", "i77",
                        "--save-secret")
    assert code == 0 and f"credential prefect-secret:tendon-intervals-{athlete}" in out, out
    assert KEY not in (tmp_path / "sync" / "links.json").read_text() and KEY not in out
    monkeypatch.delenv("ANA_INTERVALS_KEY")
    code, out = _tendon(tmp_path, capsys, "sync", "--athlete", athlete, "--since", "2026-03-01", "--land-only")
    assert code == 0 and f"intervals/{athlete}: 3 listed, 3 new" in out, out


def test_a_bad_athlete_id_is_a_clear_error_not_a_traceback(server, tmp_path, capsys):
    code, out = _tendon(tmp_path, capsys, "link", "garmin", "--athlete", "../etc", "--token-file", str(tmp_path))
    assert code == 2 and "cannot link '../etc'" in out and "Traceback" not in out
    assert not (tmp_path / "sync" / "garmin").exists()


def test_a_garmin_password_on_the_command_line_is_refused_unechoed(server, tmp_path, capsys):
    code, out = _tendon(tmp_path, capsys, "link", "garmin", "--athlete", "ana", "--email", "a@example.org",
                        "--password-ref", "hunter2-plain-password")
    assert code == 2 and "env:VARIABLE or prefect-secret:BLOCK" in out and "hunter2" not in out
