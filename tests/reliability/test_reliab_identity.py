"""Issue 14 item 2: an activity's identity is per athlete; collisions across athletes are visible
conflicts naming both; a corrected re-export replaces the stored activity; on the one-by-one and
the bulk path alike. Real FIT files, a real DuckDB."""

from __future__ import annotations

import shutil

import pytest
from reliab_helpers import run_file

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.app.ingest.bulk import BULK_MIN_FILES
from tendon_pipeline.warehouse.store import open_warehouse

PATHS = ["one_by_one", "bulk"]


def _filler(inbox, path: str) -> None:
    """On the bulk path, enough other runs (of cleo's) to take the batched writer."""
    if path == "bulk":
        for day in range(BULK_MIN_FILES):
            run_file(inbox / "cleo" / f"f{day}.fit", 20 + day, serial_number=3_900_000_777)


def _ingest(settings, wh, inbox):
    report = ingest_paths(wh, settings, [inbox])
    return {o.path.split("/inbox/")[-1]: o for o in report.outcomes}


def _files(wh, athlete: str) -> list[tuple]:
    return wh.con.execute("SELECT athlete_id, status, reason_code, reason FROM source_files WHERE athlete_id = ?"
                          " ORDER BY first_seen_at", [athlete]).fetchall()


@pytest.mark.parametrize("path", PATHS)
def test_two_athletes_sharing_a_file_id_both_keep_their_run_and_the_collision_names_both(settings, tmp_path, path):
    inbox = tmp_path / "inbox"
    run_file(inbox / "ana" / "run.fit", 0, distance_m=8000.0)
    _filler(inbox, path)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        _ingest(settings, wh, inbox)
        # ben's run: another file (other distance) with the same device serial and creation second
        run_file(inbox / "ben" / "run.fit", 0, distance_m=6000.0)
        outcome = _ingest(settings, wh, inbox)["ben/run.fit"]
        assert outcome.status == "ingested", outcome
        assert outcome.reason_code == "athlete_conflict" and "'ana'" in outcome.reason
        stored = wh.con.execute("SELECT a.athlete_id, s.distance_m FROM activities a JOIN sessions s USING"
                                " (activity_id) WHERE a.athlete_id IN ('ana', 'ben') ORDER BY 1").fetchall()
        assert stored == [("ana", 8000.0), ("ben", 6000.0)]
        [(_, status, code, reason)] = _files(wh, "ben")
        assert (status, code) == ("ingested", "athlete_conflict") and "'ana'" in reason and "'ben'" in reason


def test_a_forged_upload_cannot_block_the_real_owners_run(settings, tmp_path):
    """mallory's token uploads a file carrying ana's serial and start time before ana's watch syncs."""
    inbox = tmp_path / "inbox"
    run_file(inbox / "mallory" / "forged.fit", 0, distance_m=100.0, duration_s=60)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        _ingest(settings, wh, inbox)
        run_file(inbox / "ana" / "real.fit", 0, distance_m=10000.0, duration_s=3000)
        outcome = _ingest(settings, wh, inbox)["ana/real.fit"]
        assert outcome.status == "ingested" and outcome.reason_code == "athlete_conflict"
        assert "'mallory'" in outcome.reason
        [(distance,)] = wh.con.execute("SELECT s.distance_m FROM activities a JOIN sessions s USING (activity_id)"
                                       " WHERE a.athlete_id = 'ana'").fetchall()
        assert distance == 10000.0


@pytest.mark.parametrize("path", PATHS)
def test_identical_bytes_offered_for_a_second_athlete_leave_a_visible_conflict(settings, tmp_path, path):
    inbox = tmp_path / "inbox"
    run_file(inbox / "ana" / "run.fit", 0)
    _filler(inbox, path)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        _ingest(settings, wh, inbox)
        (inbox / "ben").mkdir()
        shutil.copy(inbox / "ana" / "run.fit", inbox / "ben" / "copy.fit")
        outcome = _ingest(settings, wh, inbox)["ben/copy.fit"]
        assert (outcome.status, outcome.athlete_id, outcome.reason_code) == ("skipped", "ben", "athlete_conflict")
        assert "'ana'" in outcome.reason and "'ben'" in outcome.reason
        [(athlete, status, code, reason)] = _files(wh, "ana")
        assert (athlete, status, code) == ("ana", "ingested", "athlete_conflict")
        assert "offered for 'ben'" in reason and "copy.fit" in reason


@pytest.mark.parametrize("path", PATHS)
def test_a_corrected_re_export_replaces_the_stored_activity_and_the_loads_follow(settings, tmp_path, path):
    inbox = tmp_path / "inbox"
    run_file(inbox / "ana" / "run.fit", 0, distance_m=8000.0, duration_s=2700)
    _filler(inbox, path)
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        _ingest(settings, wh, inbox)
        evaluate_athletes(wh, settings, ["ana"])
        # the same file_id, the distance corrected (8 km -> 9.5 km)
        run_file(inbox / "ana" / "run-corrected.fit", 0, distance_m=9500.0, duration_s=2700)
        report = ingest_paths(wh, settings, [inbox])
        outcome = next(o for o in report.outcomes if o.path.endswith("run-corrected.fit"))
        assert (outcome.status, outcome.reason_code) == ("ingested", "replaced")
        assert "8.00 km" in outcome.reason and "9.50 km" in outcome.reason
        assert report.athletes_changed() == ["ana"]
        evaluate_athletes(wh, settings, report.athletes_changed())
        assert wh.con.execute("SELECT distance_m FROM run_loads WHERE athlete_id = 'ana'").fetchall() == [(9500.0,)]
        statuses = [(s, c) for _, s, c, _ in _files(wh, "ana")]
        assert statuses == [("duplicate", "superseded"), ("ingested", "replaced")]
        # a copy with the same sessions (other bytes: another seed) stays a duplicate
        run_file(inbox / "ana" / "run-again.fit", 0, distance_m=9500.0, duration_s=2700, seed=7)
        again = next(o for o in ingest_paths(wh, settings, [inbox]).outcomes if o.path.endswith("run-again.fit"))
        assert again.status == "duplicate"
