"""The one per-file ingest decision (app/ingest/decision.py), without a warehouse."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tendon_pipeline.app.ingest.decision import (
    Accept, AlreadySeen, Decoded, NotActivityFile, Refused, RejectedFile, Unattributed, decide, decode_job,
)
from tendon_pipeline.examples.generate import ActivitySpec, fit_bytes

SERIAL = 3_900_777_001


@pytest.fixture(scope="module")
def decoded() -> Decoded:
    verdict = decode_job(fit_bytes(ActivitySpec(start_utc=datetime(2026, 1, 5, 6, 30, tzinfo=timezone.utc),
                                                distance_m=1000.0, duration_s=300, serial_number=SERIAL)))
    assert isinstance(verdict, Decoded)
    return verdict


def _never() -> Decoded:
    raise AssertionError("a file already seen was decoded")


def _no_serials(serial: int | None) -> str | None:
    return None


def test_a_file_seen_before_is_a_duplicate_and_is_not_decoded():
    decision = decide(("ingested", None), _never, "ana", _no_serials)
    assert decision == AlreadySeen("file already seen (ingested)")
    assert decision.outcome("x.fit", "h").status == "duplicate"


def test_a_quarantined_file_still_damaged_is_a_duplicate_naming_the_old_reason():
    decision = decide(("quarantined", "bad header"), lambda: RejectedFile("bad_header", "new words"), "ana",
                      _no_serials)
    assert decision == AlreadySeen("file already seen (quarantined: bad header)")


def test_a_damaged_or_non_activity_file_is_refused_and_remembered():
    assert decide(None, lambda: RejectedFile("crc", "CRC mismatch"), "ana", _no_serials) == \
        Refused("quarantined", "crc", "CRC mismatch", "ana")
    assert decide(None, lambda: NotActivityFile("a settings file"), None, _no_serials) == \
        Refused("skipped", "not_activity", "a settings file", None)


def test_the_athlete_comes_from_the_caller_else_the_device_serial(decoded):
    by_name = decide(None, lambda: decoded, "ana", _no_serials)
    by_serial = decide(None, lambda: decoded, None, {SERIAL: "bo"}.get)
    assert isinstance(by_name, Accept) and by_name.athlete == "ana" and not by_name.forget_quarantined
    assert isinstance(by_serial, Accept) and by_serial.athlete == "bo"


def test_an_activity_nobody_owns_is_skipped_and_a_quarantined_row_that_now_decodes_is_forgotten(decoded):
    decision = decide(("quarantined", "old decoder"), lambda: decoded, None, _no_serials)
    assert isinstance(decision, Unattributed) and decision.forget_quarantined
    assert str(SERIAL) in decision.reason
    assert decision.outcome("x.fit", "h").reason_code == "no_athlete"
    invalid = decide(None, lambda: decoded, "no such/id", _no_serials)
    assert isinstance(invalid, Unattributed) and "not a valid athlete id" in invalid.reason
