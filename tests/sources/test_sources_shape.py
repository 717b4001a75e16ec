"""The arrival shape, FIT completeness, names, events and upload tokens (no Prefect, no server)."""

from __future__ import annotations

import hashlib

import pytest

from tendon_pipeline.orchestration import events
from tendon_pipeline.connectors.sources.base import (
    Arrival,
    Source,
    athlete_from_inbox_path,
    fit_expected_size,
    fit_header,
    is_candidate_name,
)
from tendon_pipeline.connectors.sources.config import UploadSettings, UploadToken
from tendon_pipeline.connectors.sources.folder import FolderSource
from tendon_pipeline.connectors.sources.http_upload import HttpUploadSource
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.config.settings import load_settings


def test_the_fit_header_proves_a_file_complete_and_a_cut_copy_is_not(tmp_path, drop):
    whole = drop(tmp_path / "run.fit", 1)
    assert fit_expected_size(whole) == whole.stat().st_size
    cut = tmp_path / "cut.fit"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert fit_expected_size(cut) == whole.stat().st_size != cut.stat().st_size
    assert fit_header(b"PK\x03\x04" + b"\0" * 20) is None
    assert fit_header(whole.read_bytes()[:5]) is None


@pytest.mark.parametrize("name, taken", [
    ("run.fit", True), ("RUN.FIT", True), (".run.fit", False), ("run.fit.tmp", False), ("run.fit.part", False),
    ("run.fit.crdownload", False), ("run.fit~", False), ("run.gpx", False), ("notes.txt", False),
])
def test_candidate_names(name, taken):
    assert is_candidate_name(name) is taken


def test_the_first_folder_under_the_inbox_names_the_athlete(tmp_path):
    assert athlete_from_inbox_path(tmp_path, tmp_path / "ana" / "2026" / "a.fit") == "ana"
    assert athlete_from_inbox_path(tmp_path, tmp_path / "a.fit") is None
    assert athlete_from_inbox_path(tmp_path / "x", tmp_path / "ana" / "a.fit") is None


def test_sources_have_the_one_shape(tmp_path):
    http = HttpUploadSource(UploadSettings(), tmp_path, port=0)
    try:
        assert isinstance(FolderSource(tmp_path), Source) and isinstance(http, Source)
        assert http.port > 0 and http.url.startswith("http://127.0.0.1:")
    finally:
        http.sock.close()


def test_file_received_event_names_file_and_athlete_and_its_id_is_stable(tmp_path, drop):
    path = drop(tmp_path / "ana" / "a.fit", 1)
    arrival = Arrival.for_file(path, source="folder", athlete_id="ana", with_hash=True)
    assert arrival.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    event = events.file_received_event(arrival)
    assert event.event == "fit.file.received"
    assert event.resource["prefect.resource.id"] == f"tendon.fit-file.{arrival.arrival_id}"
    assert event.resource["tendon.athlete"] == "ana" and event.resource["tendon.path"] == str(path)
    assert event.related == [{"prefect.resource.id": "tendon.athlete.ana", "prefect.resource.role": "athlete",
                              "prefect.resource.name": "ana"}]
    assert all(isinstance(v, str) for v in event.resource.values())  # Prefect labels are strings
    assert events.file_received_event(arrival).id == event.id  # same arrival, same event id
    other = Arrival.for_file(path, source="folder", athlete_id="ana")
    assert events.file_received_event(other).id != event.id


def test_listeners_get_every_event_even_with_prefect_emission_off(no_prefect_events):
    seen = []
    unsubscribe = events.subscribe(seen.append)
    sent = events.emit(events.data_changed_event("ana", "ingest1", ["b", "a", "a"]))
    unsubscribe()
    events.emit(events.data_changed_event("ana", "ingest2"))
    assert seen == [sent] and sent.payload["activity_ids"] == ["a", "b"]
    assert sent.id == events.data_changed_event("ana", "ingest1").id


def test_upload_tokens_match_in_constant_time_by_digest():
    digest = hashlib.sha256(b"per-device-token-0123").hexdigest()
    upload = UploadSettings(tokens=[
        UploadToken(athlete="ana", token="per-athlete-token-0123"),
        UploadToken(athlete="ben", device="ben-watch", token_sha256=digest),
    ])
    assert upload.find("per-athlete-token-0123").athlete == "ana"
    assert upload.find("per-device-token-0123").device == "ben-watch"
    assert upload.find("per-athlete-token-012") is None and upload.find("") is None
    assert "per-athlete-token-0123" not in repr(upload)  # a SecretStr is never printed


@pytest.mark.parametrize("entry", [
    {"athlete": "ana", "token": "short"},
    {"athlete": "ana"},
    {"athlete": "ana", "token": "x" * 20, "token_sha256": "0" * 64},
    {"athlete": "../ana", "token": "x" * 20},
    {"athlete": "ana", "token_sha256": "not-hex"},
])
def test_bad_token_entries_are_configuration_errors(tmp_path, entry, monkeypatch):
    import json

    monkeypatch.setenv("TENDON_UPLOAD__TOKENS", json.dumps([entry]))
    with pytest.raises(ConfigError, match="upload"):
        load_settings(db=tmp_path / "w.duckdb")


def test_watch_and_upload_settings_from_the_config_file(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[watch]\nbatch_window_s = 0.2\npoll = true\n\n[upload]\nmax_mb = 2\n'
                      '[[upload.tokens]]\nathlete = "ana"\ndevice = "fenix"\ntoken = "0123456789abcdef-ana"\n')
    settings = load_settings(config, db=tmp_path / "w.duckdb")
    assert (settings.watch.batch_window_s, settings.watch.poll, settings.upload.max_mb) == (0.2, True, 2.0)
    assert settings.upload.find("0123456789abcdef-ana").device == "fenix"
