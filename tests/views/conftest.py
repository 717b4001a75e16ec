"""One small warehouse for the views, report, coach and export tests.

Five weeks of the example athletes ana (steady, running dynamics, body mass) and ben (a
long-run spike and a +50 % week at the end), written as real FIT files by the project's
generator, ingested and evaluated without Prefect; plus pain, strength and VISA-A logs,
ben's last sync moved 5 days back, GPS positions on ana's runs and a coach's feedback on
ben's spike alert. Built once per test
run (shared by xdist workers); tests that write use a copy (``writable_db``).
"""

from __future__ import annotations

import fcntl
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

WEEKS = 5
CONFIG = """
[[athletes]]
id = "ana"
name = "Ana Example"

[[athletes]]
id = "ben"

[[coaches]]
name = "Kim"
athletes = ["ana", "ben", "cleo"]

[[coaches]]
name = "Lee"
athletes = ["ana"]
"""


@dataclass(frozen=True)
class Built:
    root: Path
    db: Path
    config: Path
    as_of: date  # today (UTC): the data ends on the Sunday before

    @property
    def last_sunday(self) -> date:
        return self.as_of - timedelta(days=self.as_of.weekday() + 1)

    def settings(self, db: Path | None = None):
        from tendon_pipeline.config.settings import load_settings

        return load_settings(self.config, db=db or self.db)


@pytest.fixture(scope="session")
def built(tmp_path_factory, worker_id) -> Built:
    """Built once per test run: xdist workers share it (the first builds, the others wait)."""
    if worker_id == "master":
        return _build(tmp_path_factory.mktemp("views"))
    shared = tmp_path_factory.getbasetemp().parent / "views-warehouse"
    with open(shared.parent / "views-warehouse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (shared / "built.ok").exists():
                shutil.rmtree(shared, ignore_errors=True)
                shared.mkdir()
                _build(shared)
                (shared / "built.ok").write_text(_today().isoformat())
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return Built(shared, shared / "warehouse.duckdb", shared / "config.toml",
                 date.fromisoformat((shared / "built.ok").read_text()))


def _today() -> date:
    return datetime.now(UTC).date()


def _build(root: Path) -> Built:
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.domain.models import PainEntry, StrengthEntry, VisaAEntry
    from tendon_pipeline.examples import generate as g
    from tendon_pipeline.warehouse.feedback import FeedbackOutcome, record_feedback
    from tendon_pipeline.warehouse.history import log_pain, log_strength, log_visa_a
    from tendon_pipeline.warehouse.store import open_warehouse

    as_of = _today()
    histories = g.example_histories(weeks=WEEKS, end=as_of)
    for athlete in ("ana", "ben"):
        for i, spec in enumerate(histories[athlete]):
            g.write_activity(root / "inbox" / athlete / f"{i:03d}.fit", spec)
    config = root / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    result = Built(root, root / "warehouse.duckdb", config, as_of)
    settings = result.settings()
    sunday = result.last_sunday
    with open_warehouse(settings.db) as wh:
        report = ingest_paths(wh, settings, [root / "inbox"])
        assert report.counts()["ingested"] == len(histories["ana"]) + len(histories["ben"])
        for days_before, during, morning in ((10, 2, 1), (8, 3, 2), (3, 5, 3), (1, 6, 4)):
            log_pain(wh, PainEntry(athlete_id="ben", local_date=sunday - timedelta(days=days_before),
                                   during=during, next_morning=morning))
        log_visa_a(wh, VisaAEntry(athlete_id="ben", local_date=sunday - timedelta(days=1), score=78))
        log_strength(wh, StrengthEntry(athlete_id="ana", local_date=sunday - timedelta(days=2),
                                       exercise="eccentric_heel_drop", kind="strength", sets=3, reps=15, load_kg=10))
        evaluate_athletes(wh, settings, as_of=as_of)
        # a coach's answer on ben's spike alert (the web pages' feedback; alert_precision)
        spike = wh.con.execute("SELECT alert_key FROM alerts WHERE athlete_id = 'ben' AND rule = 'session_spike'"
                               ).fetchone()[0]
        record_feedback(wh, "ben", spike, FeedbackOutcome.ACTED_ON, "kim", note="moved his long run to next week")
        # test-only edits of stored facts: an older sync for ben, positions on ana's runs
        wh.con.execute("UPDATE source_files SET first_seen_at = first_seen_at - INTERVAL 5 DAY"
                       " WHERE athlete_id = 'ben'")
        wh.con.execute("UPDATE records SET lat_deg = 59.91 + 0.0001 * (epoch(ts_utc) % 100), lon_deg = 10.75"
                       " WHERE activity_id IN (SELECT activity_id FROM activities WHERE athlete_id = 'ana')")
    return result


@pytest.fixture
def writable_db(built, tmp_path) -> Path:
    """A copy of the built warehouse that a test may change."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(built.db, copy)
    return copy


@pytest.fixture
def run_cli(built):
    """Invoke a view command as `tendon --config ... --db ... ARGS` (default: the built warehouse)."""
    from views_helpers import invoke

    def run(*args: str, db: Path | None = None):
        return invoke(built.config, db or built.db, *args)

    return run
