"""Every file of the real-device corpus decodes to what its MANIFEST.json says.

Damaged files must be quarantined with a stable reason code or salvaged with a
reason; truncated runs keep their data up to the break.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tendon_pipeline.errors import FitFileRejected, NotAnActivity
from tendon_pipeline.fit.decode import decode_path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "fit-corpus"
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text()) if (CORPUS / "MANIFEST.json").exists() else []
OK_ACTIVITIES = [e for e in MANIFEST if e["fitparse"] == "ok" and e["type"] == "activity"]
NON_ACTIVITIES = [e for e in MANIFEST if e["fitparse"] == "ok" and e["type"] != "activity"]
DAMAGED = [e for e in MANIFEST if e["fitparse"] != "ok"]
# fitparse error text -> the reason code a quarantine must carry
EXPECTED_CODE = {"FitCRCError": "crc_mismatch", "FitHeaderError": "bad_header",
                 "FitParseError": "undefined_message"}

pytestmark = pytest.mark.corpus


def _ids(entries):
    return [e["file"] for e in entries]


def _sub_sport(value):
    return None if value in (None, "None") else value


@pytest.mark.parametrize("entry", OK_ACTIVITIES, ids=_ids(OK_ACTIVITIES))
def test_activity_matches_manifest(corpus_dir, entry):
    decoded = decode_path(corpus_dir / entry["file"])
    assert not decoded.salvaged
    assert decoded.manufacturer == entry["manufacturer"]
    sessions = decoded.sessions
    assert len(sessions) == len(entry["sessions"])
    for row, expected in zip(sessions.itertuples(), entry["sessions"]):
        assert row.sport == expected["sport"]
        assert row.sub_sport == _sub_sport(expected["sub_sport"])
        assert (row.distance_m or 0.0) / 1000 == pytest.approx(expected["km"], abs=0.0006)
    assert len(decoded.records) == entry["records"]
    assert decoded.has_running_dynamics == entry["running_dynamics"]
    assert len(decoded.sets) == entry["sets"]
    assert decoded.size_bytes == entry["bytes"]


@pytest.mark.parametrize("entry", OK_ACTIVITIES, ids=_ids(OK_ACTIVITIES))
def test_running_cadence_is_converted_to_steps(corpus_dir, entry):
    decoded = decode_path(corpus_dir / entry["file"])
    records = decoded.records
    on_foot = records["session_index"].map(
        dict(zip(decoded.sessions.session_index, decoded.sessions.sport))
    ).isin(["running", "walking"]) if len(decoded.sessions) else records["cadence"].isna()
    with_cadence = records[on_foot & records["cadence"].notna()]
    expected = 2 * (with_cadence["cadence"] + with_cadence["fractional_cadence"].fillna(0))
    assert (with_cadence["steps_per_min"] == expected).all()
    assert records.loc[~on_foot, "steps_per_min"].isna().all()


@pytest.mark.parametrize("entry", NON_ACTIVITIES, ids=_ids(NON_ACTIVITIES))
def test_non_activity_files_are_recognised(corpus_dir, entry):
    with pytest.raises(NotAnActivity) as caught:
        decode_path(corpus_dir / entry["file"])
    assert caught.value.file_type == entry["type"]
    assert entry["type"] in str(caught.value)


@pytest.mark.parametrize("entry", DAMAGED, ids=_ids(DAMAGED))
def test_damaged_file_is_quarantined_or_salvaged_with_reason(corpus_dir, entry):
    error_type = entry["fitparse"].split(":")[0]
    try:
        decoded = decode_path(corpus_dir / entry["file"])
    except FitFileRejected as exc:
        assert error_type != "FitEOFError", "an early end must be salvaged, not quarantined"
        assert exc.reason_code == EXPECTED_CODE[error_type]
        assert exc.message
        return
    assert error_type == "FitEOFError", f"{entry['file']} ({error_type}) was accepted"
    assert decoded.salvaged
    assert "ends unexpectedly" in decoded.salvage_reason
    assert len(decoded.records) > 0
    assert len(decoded.sessions) >= 1


@pytest.mark.parametrize("name,records,sport", [("nick.fit", 14392, "cycling"),
                                                 ("activity-unexpected-eof.fit", 14, "running")])
def test_truncated_activity_keeps_data_up_to_the_break(corpus_dir, name, records, sport):
    decoded = decode_path(corpus_dir / name)
    assert decoded.salvaged
    assert len(decoded.records) == records
    assert decoded.sessions["sport"].tolist() == [sport]
    last = decoded.records.dropna(subset=["distance_m"]).iloc[-1]
    assert decoded.sessions["distance_m"].iloc[0] == pytest.approx(last["distance_m"])


def test_multisport_legs_keep_their_sport_and_records_follow_them(corpus_dir):
    decoded = decode_path(corpus_dir / "sample_mulitple_header.fit")
    assert decoded.sessions["sport"].tolist() == ["swimming", "transition", "cycling", "transition", "running"]
    per_leg = decoded.records.groupby("session_index").size()
    assert per_leg.sum() == len(decoded.records)
    assert set(per_leg.index) <= set(decoded.sessions["session_index"])
    running_leg = decoded.records[decoded.records["session_index"] == 4]
    assert running_leg["stance_time_ms"].notna().any()
    assert decoded.local_offset_s == 7200


def test_user_profile_body_mass_is_read(corpus_dir):
    decoded = decode_path(corpus_dir / "garmin-fenix-5-run.fit")
    assert decoded.body_mass_kg == pytest.approx(68.0)
    assert decoded.height_m == pytest.approx(1.75)
    assert decoded.serial_number == 3945849289
