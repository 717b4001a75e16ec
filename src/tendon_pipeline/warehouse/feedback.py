"""Coaches' feedback on alerts and the runner's "feeling unwell" days (migration 0010).

What a coach says became of an alert (acted on, not needed, false alarm) is stored with who
and when; ``alert_precision`` (a view) turns it into the precision of each rule and severity.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from tendon_pipeline.warehouse.store import Warehouse, athlete_lock, retry_on_conflict

NOTE_MAX_CHARS = 500


class FeedbackOutcome(StrEnum):
    """What became of an alert, in the coach's words (``alert_feedback.outcome``)."""

    ACTED_ON = "acted_on"
    NOT_NEEDED = "not_needed"
    FALSE_ALARM = "false_alarm"


OUTCOME_LABELS: dict[FeedbackOutcome, str] = {
    FeedbackOutcome.ACTED_ON: "acted on",
    FeedbackOutcome.NOT_NEEDED: "not needed",
    FeedbackOutcome.FALSE_ALARM: "false alarm",
}


@dataclass(frozen=True)
class Feedback:
    alert_key: str
    outcome: FeedbackOutcome
    note: str | None
    given_by: str
    given_at: datetime

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


class UnknownAlertError(LookupError):
    """No alert with that key for that athlete (feedback refers to stored alerts only)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_feedback(warehouse: Warehouse, athlete_id: str, alert_key: str, outcome: FeedbackOutcome,
                    given_by: str, note: str | None = None) -> Feedback:
    """Store one answer about one of ``athlete_id``'s alerts; the alert's rule and severity
    are copied from the stored alert (an unknown key is refused)."""
    note = (note or "").strip()[:NOTE_MAX_CHARS] or None
    found = warehouse.con.execute(
        "SELECT rule, severity FROM alerts WHERE alert_key = ? AND athlete_id = ?", [alert_key, athlete_id]).fetchone()
    if found is None:
        raise UnknownAlertError(f"no alert {alert_key!r} for athlete {athlete_id!r}")
    given_at = _now()
    with warehouse.transaction():
        warehouse.con.execute(
            "INSERT INTO alert_feedback (feedback_id, alert_key, athlete_id, rule, severity, outcome, note,"
            " given_by, given_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [uuid.uuid4().hex, alert_key, athlete_id, found[0], found[1], outcome.value, note, given_by, given_at])
    return Feedback(alert_key, outcome, note, given_by, given_at)


def latest_feedback(warehouse: Warehouse, athlete_id: str) -> dict[str, list[Feedback]]:
    """alert_key -> the latest answer of each coach on it, newest first."""
    rows = warehouse.con.execute(
        "SELECT alert_key, outcome, note, given_by, given_at FROM ("
        "  SELECT *, row_number() OVER (PARTITION BY alert_key, given_by"
        "                               ORDER BY given_at DESC, feedback_id DESC) AS nth"
        "  FROM alert_feedback WHERE athlete_id = ?) WHERE nth = 1 ORDER BY given_at DESC",
        [athlete_id]).fetchall()
    out: dict[str, list[Feedback]] = {}
    for key, outcome, note, given_by, given_at in rows:
        out.setdefault(key, []).append(Feedback(key, FeedbackOutcome(outcome), note, given_by, given_at))
    return out


def alert_precision(warehouse: Warehouse) -> list[dict]:
    """The ``alert_precision`` view, worst severity first, then by rule."""
    cursor = warehouse.con.execute("SELECT * FROM alert_precision ORDER BY severity_rank DESC, rule")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


@retry_on_conflict
def log_unwell(warehouse: Warehouse, athlete_id: str, day: date) -> None:
    """The runner feels unwell on ``day`` (once per day)."""
    with warehouse.lock(athlete_lock(athlete_id)), warehouse.transaction():
        warehouse.con.execute("DELETE FROM unwell_log WHERE athlete_id = ? AND local_date = ?", [athlete_id, day])
        warehouse.con.execute("INSERT INTO unwell_log (athlete_id, local_date, logged_at) VALUES (?, ?, ?)",
                              [athlete_id, day, _now()])


def unwell_days(warehouse: Warehouse, athlete_id: str, since: date) -> list[date]:
    rows = warehouse.con.execute(
        "SELECT local_date FROM unwell_log WHERE athlete_id = ? AND local_date >= ? ORDER BY local_date",
        [athlete_id, since]).fetchall()
    return [r[0] for r in rows]
