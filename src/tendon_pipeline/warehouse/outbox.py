"""The notification outbox: delivery rows and attempts (migration 0003).

Every function takes an open :class:`~tendon_pipeline.warehouse.store.Warehouse`;
all SQL for notifications lives here. Times are naive UTC, like the rest of the
warehouse. The routing and sending logic is in :mod:`tendon_pipeline.app.delivery`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from tendon_pipeline.domain.models import SEVERITY_RANK
from tendon_pipeline.warehouse.store import OUTBOX_LOCK, Warehouse, retry_on_conflict

T = TypeVar("T")

_COLUMNS = ("delivery_id", "seq", "message_key", "item_kind", "item_key", "athlete_id", "period", "severity",
            "recipient", "channel", "digest", "status", "attempts", "last_error", "next_attempt_at",
            "first_attempt_at", "claimed_by", "claimed_until", "created_at", "delivered_at")


def idempotency_key(*parts: str) -> str:
    """``tdn-`` and 32 hex digits of the SHA-256 of the parts: stable across runs and machines."""
    return "tdn-" + hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def delivery_key(item_key: str, recipient: str, channel: str) -> str:
    return idempotency_key(item_key, recipient, channel)


def athlete_message_key(recipient: str, channel: str, athlete: str, evaluation: str, send_at: datetime) -> str:
    """One message per athlete per evaluation (and routing pass) for a recipient without a digest."""
    return idempotency_key("athlete", recipient, channel, athlete, evaluation, send_at.isoformat(timespec="minutes"))


def digest_key(recipient: str, channel: str, send_at: datetime) -> str:
    return idempotency_key("digest", recipient, channel, send_at.isoformat(timespec="minutes"))


@dataclass(frozen=True)
class Route:
    """Where new items go: one recipient on one channel."""

    recipient: str
    channel: str
    athletes: frozenset[str] | None  # None: every athlete
    severities: tuple[str, ...]
    digest: str  # none | daily | weekly
    send_at: datetime  # when the first attempt is due (now, or the digest time)


@dataclass(frozen=True)
class DeliveryRow:
    delivery_id: str
    seq: int
    message_key: str
    item_kind: str
    item_key: str
    athlete_id: str
    period: str
    severity: str | None
    recipient: str
    channel: str
    digest: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    delivered_at: datetime | None


def _retry_on_conflict(fn: Callable[..., T]) -> Callable[..., T]:
    """Every outbox write holds the outbox lock (several writers of a DuckLake: one at a time
    here, so a message is claimed by one run only) and runs again when it lost a race."""

    @functools.wraps(fn)
    def locked(wh: Warehouse, *args: Any, **kwargs: Any) -> T:
        with wh.lock(OUTBOX_LOCK):
            return fn(wh, *args, **kwargs)

    return retry_on_conflict(locked)


def _message_key(route: Route, delivery_id: str) -> str:
    if route.digest == "none":
        return delivery_id
    return digest_key(route.recipient, route.channel, route.send_at)


def _athlete_filter(route: Route) -> tuple[str, list[Any]]:
    if route.athletes is None:
        return "", []
    if not route.athletes:
        return " AND false", []
    return f" AND athlete_id IN ({', '.join('?' for _ in route.athletes)})", sorted(route.athletes)


ESCALATION_MARK = "~e"  # deliveries.item_key of an alert's Nth escalation: alert_key~eN


def alert_item_key(alert_key: str, escalation: int) -> str:
    """The outbox item of an alert's current version: its key, or ``key~eN`` after N escalations."""
    return alert_key if not escalation else f"{alert_key}{ESCALATION_MARK}{escalation}"


def alert_key_of(item_key: str) -> str:
    """The alert behind an alert delivery's item_key (see :func:`alert_item_key`)."""
    return item_key.split(ESCALATION_MARK, 1)[0]


@_retry_on_conflict
def route_alerts(wh: Warehouse, route: Route, *, since: date, now: datetime) -> int:
    """Create a pending delivery for every routable alert this route has not had yet, and for
    every escalation of one (a worsened alert goes out again as an update, superseding an unsent
    older version); an alert that did not worsen is never routed twice. Without a digest, the
    alerts of one athlete and evaluation routed together share one message."""
    return _route_alerts(wh, route, since, now, keys=None, in_transaction=False)


def enqueue_alerts(wh: Warehouse, route: Route, keys: Iterable[str], *, since: date, now: datetime) -> int:
    """:func:`route_alerts` for these alerts only, inside the caller's transaction: the
    evaluation that stores (or escalates) alerts queues their deliveries in the same commit (the
    caller holds ``OUTBOX_LOCK``), so no crash can leave an alert stored and never routed."""
    return _route_alerts(wh, route, since, now, keys=sorted(set(keys)), in_transaction=True)


def _route_alerts(wh: Warehouse, route: Route, since: date, now: datetime, *, keys: list[str] | None,
                  in_transaction: bool) -> int:
    if not route.severities or keys == []:
        return 0
    where, params = _athlete_filter(route)
    if keys is not None:
        where += " AND list_contains(?, alert_key)"
        params = [*params, keys]
    rows = wh.con.execute(
        "SELECT item_key, alert_key, athlete_id, period, severity, coalesce(evaluation_id, '') FROM ("
        " SELECT CASE WHEN coalesce(escalation, 0) = 0 THEN alert_key"
        f"  ELSE alert_key || '{ESCALATION_MARK}' || CAST(escalation AS VARCHAR) END AS item_key, *"
        " FROM alerts WHERE withdrawn_at IS NULL AND alert_date >= ?"
        f" AND severity IN ({', '.join('?' for _ in route.severities)}){where}) a"
        " WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.item_key = a.item_key"
        "  AND d.recipient = ? AND d.channel = ?)"
        " ORDER BY alert_date, created_at, alert_key",
        [since, *route.severities, *params, route.recipient, route.channel],
    ).fetchall()
    if not rows:
        return 0
    per_message = Counter((athlete, evaluation) for _, _, athlete, _, _, evaluation in rows)
    items = [("alert", item_key, athlete, period, severity,
              athlete_message_key(route.recipient, route.channel, athlete, evaluation, route.send_at)
              if per_message[(athlete, evaluation)] > 1 else None)
             for item_key, _, athlete, period, severity, evaluation in rows]
    with nullcontext() if in_transaction else wh.transaction():
        for item_key, alert_key, *_ in rows:
            if item_key != alert_key:  # an escalation: an unsent older version is not sent any more
                wh.con.execute(
                    "UPDATE deliveries SET status = 'superseded', claimed_by = NULL, claimed_until = NULL"
                    " WHERE item_kind = 'alert' AND status = 'pending' AND recipient = ? AND channel = ?"
                    f" AND (item_key = ? OR starts_with(item_key, ? || '{ESCALATION_MARK}')) AND item_key <> ?",
                    [route.recipient, route.channel, alert_key, alert_key, item_key])
        return _insert(wh, route, items, now, in_transaction=True)


def due_count(wh: Warehouse, now: datetime) -> int:
    """Pending deliveries due by ``now`` (a run after a crash sends them)."""
    row = wh.con.execute("SELECT count(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ?",
                         [now]).fetchone()
    return int(row[0]) if row else 0


@_retry_on_conflict
def route_plans(wh: Warehouse, route: Route, *, since: date, now: datetime) -> int:
    """Create a pending delivery for every plan that is new, or changed since this route last had it.

    A changed plan supersedes a pending (unsent) delivery of the same week's plan.
    """
    where, params = _athlete_filter(route)
    plans = wh.con.execute(
        "SELECT athlete_id, CAST(week_start AS VARCHAR) AS week,"
        " substr(md5(concat_ws('|', status, target_km_low, target_km_high, long_run_cap_km,"
        "  CAST(plan AS VARCHAR), CAST(reasons AS VARCHAR))), 1, 12) AS content"
        f" FROM plans WHERE week_start >= ?{where} ORDER BY week_start, athlete_id",
        [since, *params],
    ).fetchall()
    created = 0
    for athlete, week, content in plans:
        history = wh.con.execute(
            "SELECT item_key FROM deliveries WHERE item_kind = 'plan' AND recipient = ? AND channel = ?"
            " AND athlete_id = ? AND period = ? ORDER BY seq",
            [route.recipient, route.channel, athlete, week],
        ).fetchall()
        keys = [row[0] for row in history]
        base = f"plan:{athlete}:{week}:{content}"
        if keys and _content_of(keys[-1]) == content:
            continue  # the latest version this route has is this one
        item_key = base if base not in keys else f"{base}~{len(keys)}"
        with wh.transaction():
            wh.con.execute(
                "UPDATE deliveries SET status = 'superseded', claimed_by = NULL, claimed_until = NULL"
                " WHERE item_kind = 'plan' AND status = 'pending' AND recipient = ? AND channel = ?"
                " AND athlete_id = ? AND period = ?",
                [route.recipient, route.channel, athlete, week])
            created += _insert(wh, route, [("plan", item_key, athlete, week, None, None)], now, in_transaction=True)
    return created


def _content_of(item_key: str) -> str:
    return item_key.split(":")[3].split("~")[0]


def _insert(wh: Warehouse, route: Route, items: list[tuple[str, str, str, str, str | None, str | None]],
            now: datetime, *, in_transaction: bool = False) -> int:
    """Insert deliveries; an item's own message key (the athlete's message) applies without a digest."""
    if not items:
        return 0
    values = []
    for kind, item_key, athlete, period, severity, message in items:
        delivery_id = delivery_key(item_key, route.recipient, route.channel)
        message_key = message if message and route.digest == "none" else _message_key(route, delivery_id)
        values.append([delivery_id, message_key, kind, item_key, athlete, period, severity,
                       route.recipient, route.channel, route.digest, route.send_at, now, delivery_id])
    # seq is the creation order, given here (not by a sequence: a DuckLake has none); the
    # outbox lock makes max(seq) + 1 safe with several writers
    sql = ("INSERT INTO deliveries (delivery_id, seq, message_key, item_kind, item_key, athlete_id, period,"
           " severity, recipient, channel, digest, next_attempt_at, created_at)"
           " SELECT ?, (SELECT coalesce(max(seq), 0) + 1 FROM deliveries), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
           " WHERE NOT EXISTS (SELECT 1 FROM deliveries WHERE delivery_id = ?)")
    if in_transaction:
        wh.con.executemany(sql, values)
    else:
        with wh.transaction():
            wh.con.executemany(sql, values)
    return len(values)


# --------------------------------------------------------------------------- sending


@_retry_on_conflict
def claim_due(wh: Warehouse, *, now: datetime, token: str, until: datetime) -> list[DeliveryRow]:
    """Hold every pending row that is due (and not held by another run) for this run."""
    with wh.transaction():
        wh.con.execute(
            "UPDATE deliveries SET claimed_by = ?, claimed_until = ?"
            " WHERE message_key IN (SELECT message_key FROM deliveries WHERE status = 'pending'"
            "  AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?))"
            " AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= ?)",
            [token, until, now, now, now],
        )
        # the token is this run's own: what carries it now is what was claimed (no RETURNING on a lake)
        rows = wh.con.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM deliveries WHERE claimed_by = ? AND status = 'pending'", [token],
        ).fetchall()
    out = [DeliveryRow(*row) for row in rows]
    return sorted(out, key=lambda r: (r.next_attempt_at, r.seq))


@_retry_on_conflict
def release(wh: Warehouse, message_key: str, *, token: str, next_attempt_at: datetime | None = None) -> None:
    """Give a claimed message back without an attempt (quiet hours, channel skipped this run)."""
    wh.con.execute(
        "UPDATE deliveries SET claimed_by = NULL, claimed_until = NULL,"
        " next_attempt_at = coalesce(?, next_attempt_at)"
        " WHERE message_key = ? AND claimed_by = ? AND status = 'pending'",
        [next_attempt_at, message_key, token])


@_retry_on_conflict
def cancel(wh: Warehouse, message_key: str, *, token: str, reason: str) -> None:
    wh.con.execute(
        "UPDATE deliveries SET status = 'cancelled', last_error = ?, claimed_by = NULL, claimed_until = NULL"
        " WHERE message_key = ? AND claimed_by = ? AND status = 'pending'", [reason, message_key, token])


@_retry_on_conflict
def record_attempt(
    wh: Warehouse, message_key: str, *, token: str, recipient: str, channel: str, outcome: str,
    started_at: datetime, finished_at: datetime, error: str | None = None, status_code: int | None = None,
    next_attempt_at: datetime | None = None,
) -> int:
    """Record one attempt and its result on the message's rows, in one transaction.

    ``delivered`` marks the rows delivered in the same commit that records the attempt;
    ``transient`` keeps them pending until ``next_attempt_at``; ``permanent`` and
    ``gave_up`` mark them ``failed_permanent``. Returns the attempt number.
    """
    with wh.transaction():
        row = wh.one("SELECT max(attempts), count(*) FROM deliveries WHERE message_key = ? AND claimed_by = ?",
                     [message_key, token])
        items = int(row[1] or 0)
        done = wh.one("SELECT coalesce(max(attempt), 0) FROM delivery_attempts WHERE message_key = ?",
                      [message_key])[0]
        attempt = max(int(row[0] or 0), int(done)) + 1
        wh.con.execute(
            "INSERT INTO delivery_attempts (message_key, attempt, recipient, channel, items, started_at,"
            " finished_at, outcome, status_code, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [message_key, attempt, recipient, channel, items, started_at, finished_at, outcome, status_code, error])
        status = {"delivered": "delivered", "transient": "pending"}.get(outcome, "failed_permanent")
        wh.con.execute(
            "UPDATE deliveries SET status = ?, attempts = ?, last_error = ?,"
            " first_attempt_at = coalesce(first_attempt_at, ?),"
            " next_attempt_at = coalesce(?, next_attempt_at), delivered_at = ?,"
            " claimed_by = NULL, claimed_until = NULL"
            " WHERE message_key = ? AND claimed_by = ? AND status = 'pending'",
            [status, attempt, error, started_at, next_attempt_at,
             finished_at if outcome == "delivered" else None, message_key, token])
    return attempt


@_retry_on_conflict
def requeue_failed(wh: Warehouse, *, now: datetime, recipient: str | None = None) -> int:
    """Put permanently failed deliveries back in the queue (after fixing a channel)."""
    with wh.transaction():
        count = wh.one(
            "SELECT count(*) FROM deliveries WHERE status = 'failed_permanent' AND (? IS NULL OR recipient = ?)",
            [recipient, recipient])[0]
        wh.con.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_at = ?, first_attempt_at = NULL,"
            " claimed_by = NULL, claimed_until = NULL WHERE status = 'failed_permanent'"
            " AND (? IS NULL OR recipient = ?)", [now, recipient, recipient])
    return int(count)


# --------------------------------------------------------------------------- reading


def alerts_by_key(wh: Warehouse, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    keys = sorted(set(keys))
    if not keys:
        return {}
    rows = wh.con.execute(
        "SELECT alert_key, athlete_id, rule, severity, alert_date, period, message, evidence, source,"
        f" evaluation_id, created_at FROM alerts WHERE alert_key IN ({', '.join('?' for _ in keys)})", keys,
    ).fetchall()
    out = {}
    for key, athlete, rule, severity, day, period, message, evidence, source, evaluation_id, _created in rows:
        out[key] = {
            "alert_key": key, "athlete_id": athlete, "rule": rule, "severity": severity,
            "date": day.isoformat(), "period": period, "message": message,
            "evidence": json.loads(evidence) if isinstance(evidence, str) else evidence,
            "source": source, "evaluation_id": evaluation_id,
        }
    return out


def severity_before(wh: Warehouse, alert_key: str, escalation: int) -> str | None:
    """The highest severity of the alert's versions before its ``escalation``-th rise (what an
    update message says it was): the worst earlier version below the current one."""
    rows = wh.con.execute("SELECT severity FROM alert_revisions WHERE alert_key = ? ORDER BY revision",
                          [alert_key]).fetchall()
    worst: list[str] = []
    for (severity,) in rows:  # the running maximum rises once per escalation
        if not worst or SEVERITY_RANK[severity] > SEVERITY_RANK[worst[-1]]:
            worst.append(severity)
    return worst[escalation - 1] if 0 < escalation <= len(worst) else None


def plan_for(wh: Warehouse, athlete_id: str, week: str | date) -> dict[str, Any] | None:
    row = wh.con.execute(
        "SELECT athlete_id, week_start, status, target_km_low, target_km_high, long_run_cap_km, plan, reasons"
        " FROM plans WHERE athlete_id = ? AND week_start = ?", [athlete_id, week]).fetchone()
    return _plan_dict(row) if row else None


def plan_after(wh: Warehouse, athlete_id: str, day: str | date) -> dict[str, Any] | None:
    """The athlete's first plan for a week starting after ``day`` (the week to act on)."""
    row = wh.con.execute(
        "SELECT athlete_id, week_start, status, target_km_low, target_km_high, long_run_cap_km, plan, reasons"
        " FROM plans WHERE athlete_id = ? AND week_start > ? ORDER BY week_start LIMIT 1",
        [athlete_id, day]).fetchone()
    return _plan_dict(row) if row else None


def _plan_dict(row: tuple) -> dict[str, Any]:
    athlete, week, status, low, high, cap, plan, reasons = row
    return {
        "athlete_id": athlete, "week_start": week.isoformat(), "status": status,
        "target_km_low": low, "target_km_high": high, "long_run_cap_km": cap,
        "plan": json.loads(plan) if isinstance(plan, str) else plan,
        "reasons": json.loads(reasons) if isinstance(reasons, str) else reasons,
    }


def deliveries(wh: Warehouse, *, status: str | None = None) -> list[DeliveryRow]:
    rows = wh.con.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM deliveries WHERE ? IS NULL OR status = ?"
        " ORDER BY seq", [status, status]).fetchall()
    return [DeliveryRow(*row) for row in rows]


def status_counts(wh: Warehouse) -> dict[str, int]:
    return dict(wh.con.execute("SELECT status, count(*) FROM deliveries GROUP BY 1 ORDER BY 1").fetchall())
