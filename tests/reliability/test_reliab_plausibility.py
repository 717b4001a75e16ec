"""Issue 14 item 9: implausible activities (a watch clock never set, a run in 2099, a 600 km
"run") are quarantined with a named reason, on both ingest paths, and never reach the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from reliab_helpers import START, run_file

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.app.ingest.bulk import BULK_MIN_FILES
from tendon_pipeline.domain.plausibility import Implausible, PlausibilitySettings, SessionClaim, check_sessions
from tendon_pipeline.examples.generate import ActivitySpec, fit_bytes
from tendon_pipeline.warehouse.store import open_warehouse


def _unchecked(path, **fields) -> None:
    """A FIT file the generator's own checks would refuse to describe (a model copy skips them)."""
    spec = ActivitySpec(start_utc=START, distance_m=5000.0, duration_s=1700).model_copy(update=fields)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fit_bytes(spec))


def _history(inbox) -> None:
    for week in range(3):
        for day in (0, 2, 4):
            run_file(inbox / "ana" / f"w{week}d{day}.fit", 7 * week + day, distance_m=6000.0 + 300 * week)


def _bad_files(inbox) -> None:
    _unchecked(inbox / "ana" / "clock-unset.fit", start_utc=datetime(1995, 3, 2, 6, 30, tzinfo=UTC))
    _unchecked(inbox / "ana" / "future.fit", start_utc=datetime(2099, 6, 1, 7, 0, tzinfo=UTC))
    _unchecked(inbox / "ana" / "far.fit", start_utc=START + timedelta(days=17), distance_m=600_000.0,
               duration_s=20_000)


@pytest.mark.parametrize("path", ["one_by_one", "bulk"])
def test_implausible_files_are_quarantined_with_the_reason_and_change_no_alert(settings, tmp_path, path):
    clean, dirty = tmp_path / "clean", tmp_path / "dirty"
    _history(clean)
    _history(dirty)
    _bad_files(dirty)
    if path == "bulk":
        for root in (clean, dirty):
            for n in range(BULK_MIN_FILES):
                run_file(root / "zed" / f"f{n}.fit", 30 + n, serial_number=3_900_000_555)
    with open_warehouse(tmp_path / "clean.duckdb") as wh:
        ingest_paths(wh, settings, [clean])
        expected = sorted(a.key for a in evaluate_athletes(wh, settings, ["ana"]).new_alerts())
    with open_warehouse(tmp_path / "dirty.duckdb") as wh:
        report = ingest_paths(wh, settings, [dirty])
        got = {o.path.rsplit("/", 1)[-1]: o for o in report.outcomes}
        for name, reason in (("clock-unset.fit", Implausible.BEFORE_EARLIEST_START),
                             ("future.fit", Implausible.IN_THE_FUTURE), ("far.fit", Implausible.TOO_FAR)):
            outcome = got[name]
            assert (outcome.status, outcome.reason_code) == ("quarantined", "implausible"), outcome
            assert outcome.reason.startswith(reason.value) and "plausibility." in outcome.reason
        assert "1970-01-01" in got["clock-unset.fit"].reason and "600 km" in got["far.fit"].reason
        rows = wh.con.execute("SELECT count(*) FROM source_files WHERE reason_code = 'implausible'").fetchone()
        assert rows == (3,)
        assert wh.con.execute("SELECT min(start_utc) >= '2026-01-01', max(start_utc) < '2027-01-01'"
                              " FROM activities").fetchone() == (True, True)
        assert sorted(a.key for a in evaluate_athletes(wh, settings, ["ana"]).new_alerts()) == expected
        again = ingest_paths(wh, settings, [dirty / "ana" / "future.fit"]).outcomes[0]
        assert again.status == "duplicate" and "quarantined" in again.reason


def test_a_53_day_run_is_too_long_and_thresholds_are_settings():
    now = datetime(2026, 12, 1)
    run = SessionClaim(sport="running", start_utc=datetime(2026, 5, 1), elapsed_s=53 * 86400, distance_m=13_800_000)
    assert check_sessions([run], now, PlausibilitySettings()).reason is Implausible.TOO_LONG
    loose = PlausibilitySettings(max_session_hours=53 * 24 + 1)
    assert check_sessions([run], now, loose).reason is Implausible.TOO_FAR
    sprint = SessionClaim(sport="running", start_utc=datetime(2026, 5, 1), elapsed_s=600, distance_m=6000)
    assert check_sessions([sprint], now, PlausibilitySettings()).reason is Implausible.TOO_FAST
    ride = sprint.model_copy(update={"sport": "cycling"})
    assert check_sessions([ride], now, PlausibilitySettings()) is None
    tomorrow = run.model_copy(update={"start_utc": now + timedelta(hours=20), "elapsed_s": 3600, "distance_m": 10000})
    assert check_sessions([tomorrow], now, PlausibilitySettings()) is None  # a time zone ahead: fine
