"""Ingest over real files in real folders into a real DuckDB (no mocks, no Prefect)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.app.ingest import discover, ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.examples.generate import ActivitySpec, write_activity, write_settings_file

START = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)


def _run_file(path: Path, day: int = 0, **overrides) -> Path:
    spec = dict(start_utc=START + timedelta(days=day), distance_m=4000.0 + 100 * day, duration_s=1300,
                serial_number=3_900_000_001)
    spec.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_activity(path, ActivitySpec(**spec))


@pytest.fixture
def inbox(tmp_path) -> Path:
    root = tmp_path / "inbox"
    _run_file(root / "ana" / "mon.fit", 0)
    _run_file(root / "ana" / "wed.fit", 2)
    _run_file(root / "ben" / "2026" / "ride.fit", 1, sport="cycling", sub_sport="road", cadence_spm=None)
    return root


def test_inbox_folder_names_the_athlete(warehouse, settings, inbox):
    report = ingest_paths(warehouse, settings, [inbox])
    assert report.counts()["ingested"] == 3
    assert report.athletes_changed() == ["ana", "ben"]
    owners = warehouse.query("SELECT athlete_id, count(*) AS n FROM activities GROUP BY 1 ORDER BY 1")
    assert owners.values.tolist() == [["ana", 2], ["ben", 1]]


def test_cross_training_is_kept_but_is_not_running(warehouse, settings, inbox):
    ingest_paths(warehouse, settings, [inbox])
    sports = warehouse.query("SELECT a.athlete_id, s.sport FROM sessions s JOIN activities a USING (activity_id) ORDER"
                             " BY 1")
    assert sports.values.tolist() == [["ana", "running"], ["ana", "running"], ["ben", "cycling"]]
    steps = warehouse.query(
        "SELECT s.sport, count(r.steps_per_min) AS with_steps FROM records r"
        " JOIN sessions s USING (activity_id, session_index) GROUP BY 1 ORDER BY 1")
    assert dict(steps.values.tolist()) == {"cycling": 0, "running": 2600}


def test_explicit_athlete_wins_over_the_folder(warehouse, settings, inbox):
    ingest_paths(warehouse, settings, [inbox / "ana"], athlete="zoe")
    assert warehouse.query("SELECT DISTINCT athlete_id FROM activities").values.ravel().tolist() == ["zoe"]


def test_a_root_inside_the_configured_inbox_names_the_athlete(warehouse, tmp_path, inbox):
    settings = load_settings(db=tmp_path / "w.duckdb", inbox=inbox)
    report = ingest_paths(warehouse, settings, [inbox / "ana"])
    assert {o.athlete_id for o in report.outcomes} == {"ana"}


def test_a_subfolder_of_an_athletes_inbox_folder_stays_that_athletes(warehouse, tmp_path, inbox):
    """INBOX/ben/2026/ride.fit is ben's, also when only INBOX/ben is named (not athlete '2026')."""
    settings = load_settings(db=tmp_path / "w.duckdb", inbox=inbox)
    report = ingest_paths(warehouse, settings, [inbox / "ben"])
    assert [o.athlete_id for o in report.outcomes] == ["ben"]
    outside = tmp_path / "export"  # a folder outside the inbox: ROOT/<athlete>/... as before
    _run_file(outside / "cleo" / "2026" / "run.fit", 5)
    assert [o.athlete_id for o in ingest_paths(warehouse, settings, [outside]).outcomes] == ["cleo"]


def test_device_serial_mapping_from_configuration(warehouse, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[[athletes]]\nid = "cleo"\nbody_mass_kg = 58.5\ndevices = [3900000777]\n')
    settings = load_settings(config, db=tmp_path / "w.duckdb")
    loose = _run_file(tmp_path / "downloads" / "run.fit", serial_number=3_900_000_777)
    report = ingest_paths(warehouse, settings, [loose])
    assert [o.athlete_id for o in report.outcomes] == ["cleo"]
    mass = warehouse.query("SELECT body_mass_kg, body_mass_source FROM athletes").iloc[0]
    assert (mass.body_mass_kg, mass.body_mass_source) == (58.5, "config")


def test_unknown_owner_is_skipped_with_what_to_do_and_can_be_ingested_later(warehouse, settings, tmp_path):
    loose = _run_file(tmp_path / "downloads" / "run.fit", serial_number=3_900_000_999)
    first = ingest_paths(warehouse, settings, [loose]).outcomes[0]
    assert first.status == "skipped" and first.reason_code == "no_athlete"
    assert "--athlete" in first.reason and "3900000999" in first.reason
    second = ingest_paths(warehouse, settings, [loose], athlete="dan").outcomes[0]
    assert second.status == "ingested"


def test_bad_files_get_reasons_and_never_stop_the_others(warehouse, settings, tmp_path):
    folder = tmp_path / "inbox" / "ana"
    good = _run_file(folder / "good.fit")
    data = good.read_bytes()
    (folder / "empty.fit").write_bytes(b"")
    (folder / "notes.fit").write_text("these are my training notes, not a FIT file\n")
    (folder / "cut.fit").write_bytes(data[: len(data) * 2 // 3])  # watch died mid-run
    flipped = bytearray(_run_file(tmp_path / "other.fit", day=5).read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    (folder / "flipped.fit").write_bytes(bytes(flipped))
    write_settings_file(folder / "settings.fit")
    report = ingest_paths(warehouse, settings, [tmp_path / "inbox"])
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["good.fit"].status == "ingested"
    assert (by_name["empty.fit"].status, by_name["empty.fit"].reason_code) == ("quarantined", "empty")
    assert (by_name["notes.fit"].status, by_name["notes.fit"].reason_code) == ("quarantined", "not_fit")
    assert by_name["flipped.fit"].status == "quarantined"
    assert by_name["flipped.fit"].reason_code in {"crc_mismatch", "corrupt", "undefined_message"}
    assert (by_name["settings.fit"].status, by_name["settings.fit"].reason_code) == ("skipped", "not_activity")
    # cut.fit (read first) is a cut-short copy of good.fit: the complete copy replaces it
    assert by_name["cut.fit"].status == "salvaged"
    assert warehouse.table_counts()["activities"] == 1
    stored = warehouse.query("SELECT salvaged FROM activities").iloc[0]
    assert not stored.salvaged
    assert warehouse.table_counts()["records"] == 1300
    superseded = warehouse.query("SELECT status, reason_code FROM source_files WHERE path LIKE '%cut.fit'")
    assert superseded.values.tolist() == [["duplicate", "superseded"]]


def test_a_salvaged_copy_arriving_after_the_complete_one_is_a_duplicate(warehouse, settings, tmp_path):
    good = _run_file(tmp_path / "inbox" / "ana" / "a-good.fit")
    (tmp_path / "inbox" / "ana" / "b-cut.fit").write_bytes(good.read_bytes()[:9000])
    report = ingest_paths(warehouse, settings, [tmp_path / "inbox"])
    assert [o.status for o in report.outcomes] == ["ingested", "duplicate"]
    assert warehouse.table_counts()["records"] == 1300


def test_truncated_run_is_salvaged_up_to_the_break(warehouse, settings, tmp_path):
    data = _run_file(tmp_path / "full.fit", duration_s=1800).read_bytes()
    cut = tmp_path / "inbox" / "ana" / "cut.fit"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(data[: len(data) // 2])
    outcome = ingest_paths(warehouse, settings, [tmp_path / "inbox"]).outcomes[0]
    assert outcome.status == "salvaged" and "ends unexpectedly" in outcome.reason
    stored = warehouse.query("SELECT count(*) AS n FROM records").iloc[0].n
    assert 0 < stored < 1800
    session = warehouse.query("SELECT synthesized, distance_m FROM sessions").iloc[0]
    assert session.synthesized and 0 < session.distance_m < 4000


def test_reingesting_changes_nothing(warehouse, settings, inbox):
    ingest_paths(warehouse, settings, [inbox])
    before = warehouse.table_counts()
    again = ingest_paths(warehouse, settings, [inbox])
    assert again.counts()["duplicate"] == 3 and again.counts()["ingested"] == 0
    assert warehouse.table_counts() == before


def test_too_large_files_are_refused_unread(warehouse, tmp_path, inbox):
    settings = load_settings(db=tmp_path / "w.duckdb", max_file_mb=0.001)
    outcome = ingest_paths(warehouse, settings, [inbox / "ana" / "mon.fit"], athlete="ana").outcomes[0]
    assert (outcome.status, outcome.reason_code) == ("quarantined", "too_large")


def test_discover_skips_hidden_and_non_fit_files_in_folders(tmp_path):
    _run_file(tmp_path / "ana" / "a.FIT")
    _run_file(tmp_path / "ana" / ".partial" / "b.fit")
    (tmp_path / "ana" / "readme.txt").write_text("x")
    found = discover([tmp_path])
    assert [f.path.name for f in found] == ["a.FIT"]


@pytest.mark.corpus
def test_whole_corpus_ingests_and_reingesting_adds_nothing(warehouse, settings, corpus_dir):
    report = ingest_paths(warehouse, settings, [corpus_dir], athlete="corpus")
    counts = report.counts()
    assert sum(counts.values()) == len(list(corpus_dir.glob("*.[fF][iI][tT]")))
    # 4 damaged files, and 2 whose device-relative times decode as 1970 (implausible: issue 14)
    assert counts["quarantined"] == 6 and counts["skipped"] == 9
    assert counts["ingested"] + counts["salvaged"] == warehouse.table_counts()["activities"]
    before = warehouse.table_counts()
    again = ingest_paths(warehouse, settings, [corpus_dir], athlete="corpus")
    assert again.counts()["duplicate"] == sum(counts.values())
    assert warehouse.table_counts() == before


def test_a_quarantined_file_is_retried_and_taken_in_once_the_decoder_reads_it(warehouse, settings, tmp_path):
    good = _run_file(tmp_path / "inbox" / "ana" / "run.fit")
    # an earlier decoder quarantined this very file
    warehouse.record_file(file_hash=__import__("hashlib").sha256(good.read_bytes()).hexdigest(),
                          path=str(good), size_bytes=good.stat().st_size, status="quarantined",
                          athlete_id="ana", reason_code="corrupt", reason="old decoder bug")
    outcome = ingest_paths(warehouse, settings, [tmp_path / "inbox"]).outcomes[0]
    assert outcome.status == "ingested"
    assert warehouse.query("SELECT status FROM source_files").values.ravel().tolist() == ["ingested"]
    again = ingest_paths(warehouse, settings, [tmp_path / "inbox"]).outcomes[0]
    assert again.status == "duplicate"


def test_a_still_damaged_quarantined_file_is_reported_as_seen_and_changes_nothing(warehouse, settings, tmp_path):
    bad = tmp_path / "inbox" / "ana" / "bad.fit"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a fit file at all, just text")
    first = ingest_paths(warehouse, settings, [tmp_path / "inbox"]).outcomes[0]
    second = ingest_paths(warehouse, settings, [tmp_path / "inbox"]).outcomes[0]
    assert (first.status, second.status) == ("quarantined", "duplicate")
    assert "quarantined" in second.reason
    assert warehouse.table_counts()["source_files"] == 1
