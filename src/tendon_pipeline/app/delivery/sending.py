"""Alerts and plans to coaches and runners: routing and delivery that loses nothing.

Two steps, both safe to run any number of times (``tendon notify`` runs both; the
event-driven path calls :func:`notify_command` after an evaluation):

1. :func:`plan_deliveries` routes stored alerts and plans to recipients and creates one
   ``pending`` row per item, recipient and channel in the warehouse (the outbox), unless
   that row exists already. Nothing is sent yet.
2. :func:`deliver_pending` sends what is due, records every attempt, retries transient
   failures with exponential backoff and marks permanent ones.

Exactly once, as seen by the receiver: a row is marked delivered in the same commit
that records the successful attempt, so a delivered row is never sent again. The one
gap is a crash after the receiver accepted a message and before that commit: the next
run sends it again, with the same idempotency key, and the receiver drops the repeat
(the local outbox file does this itself). See docs/notifications.md.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tendon_pipeline.app.delivery.messages import render
from tendon_pipeline.app.delivery.recipients import Recipient, recipients
from tendon_pipeline.app.delivery.report import DeliveryReport, MessageResult
from tendon_pipeline.app.delivery.routing import plan_deliveries, utc_naive
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.connectors.notifiers.base import DeliveryError, Notification
from tendon_pipeline.connectors.notifiers.config import NotifySettings, quiet_until, zone
from tendon_pipeline.connectors.notifiers.factory import make_notifier
from tendon_pipeline.domain.models import DeliveryOutcome
from tendon_pipeline.errors import WarehouseLockedError
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.location import WarehouseLocation
from tendon_pipeline.warehouse.store import Warehouse, open_warehouse

log = logging.getLogger("tendon_pipeline.app.delivery")


@dataclass
class _Outgoing:
    message_key: str
    recipient: Recipient
    channel: str
    rows: list[outbox.DeliveryRow]
    notification: Notification


WarehouseTarget = Warehouse | WarehouseLocation  # open, or a file path / DuckLake to open per step
# Runs in one process (concurrent event-driven flows) take turns on the warehouse file: each
# holds it only for a few statements, and DuckDB aborts concurrent catalog and row writes.
_PROCESS_LOCK = threading.RLock()


def deliver_pending(target: WarehouseTarget, settings: Settings, now: datetime | None = None) -> DeliveryReport:
    """Send every due message, record each attempt, and return what happened.

    ``target`` is an open warehouse (kept open throughout; tests, callers already holding
    it) or a warehouse path, which is then opened only to read and to record, never while
    waiting on the network. ``now`` (UTC) fixes the clock, for tests and replays.
    """
    fixed = utc_naive(now) if now is not None else None
    clock = (lambda: fixed) if fixed is not None else (lambda: utc_naive(None))
    notify = settings.notify
    start = clock()
    token = uuid.uuid4().hex
    report = DeliveryReport()
    by_id = {r.id: r for r in recipients(settings)}
    default_outbox = notify.outbox_file or Path(settings.db).expanduser().parent / "notifications.jsonl"

    outgoing: list[_Outgoing] = []
    with _session(target) as wh:
        rows = outbox.claim_due(wh, now=start, token=token, until=start + timedelta(seconds=notify.claim_s))
        grouped: dict[str, list[outbox.DeliveryRow]] = defaultdict(list)
        for row in rows:
            grouped[row.message_key].append(row)
        for key, members in grouped.items():
            first = members[0]
            recipient = by_id.get(first.recipient)
            if recipient is None or first.channel not in recipient.channels:
                reason = "recipient no longer configured" if recipient is None else "channel no longer configured"
                outbox.cancel(wh, key, token=token, reason=reason)
                report.results.append(MessageResult(key, first.recipient, first.channel, len(members),
                                                    DeliveryOutcome.CANCELLED, reason))
                continue
            quiet_end = quiet_until(recipient.quiet_hours, zone(recipient.timezone), start)
            if quiet_end is not None:
                outbox.release(wh, key, token=token, next_attempt_at=quiet_end)
                report.results.append(MessageResult(key, recipient.id, first.channel, len(members),
                                                    DeliveryOutcome.DEFERRED,
                                                    "quiet hours", quiet_end.isoformat(timespec="seconds")))
                continue
            outgoing.append(_Outgoing(key, recipient, first.channel, members,
                                      render(wh, recipient, members, settings)))

    broken: set[str] = set()
    # stop sending well before the claim lapses, or another run could send the same message
    stop_at = _monotonic() + max(notify.claim_s - 60.0, notify.claim_s / 2)
    for item in outgoing:
        reason = None
        if item.channel in broken:
            reason = "channel failing in this run"
        elif _monotonic() >= stop_at:
            reason = "run out of time: next run"
        if reason is not None:
            with _session(target) as wh:
                outbox.release(wh, item.message_key, token=token)
            report.results.append(MessageResult(item.message_key, item.recipient.id, item.channel,
                                                len(item.rows), DeliveryOutcome.SKIPPED, reason))
            continue
        result = _send_one(target, item, token, clock, notify, default_outbox)
        report.results.append(result)
        if result.outcome == DeliveryOutcome.TRANSIENT:
            broken.add(item.channel)
    return report


def _send_one(target: WarehouseTarget, item: _Outgoing, token: str, clock: Any, notify: NotifySettings,
              default_outbox: Path) -> MessageResult:
    entry = item.recipient.channels[item.channel]
    started = clock()
    error: DeliveryError | None = None
    try:
        notifier = make_notifier(entry, default_outbox=default_outbox)
        notifier.send(item.notification)
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - an unexpected bug is retried, never leaks a secret
        error = DeliveryError(f"{type(exc).__name__} while sending", transient=True)
    finished = clock()
    attempts = max(r.attempts for r in item.rows) + 1
    first_attempt = min((r.first_attempt_at for r in item.rows if r.first_attempt_at), default=started)
    next_at: datetime | None = None
    if error is None:
        outcome = DeliveryOutcome.DELIVERED
    elif not error.transient:
        outcome = DeliveryOutcome.PERMANENT
    elif finished - first_attempt >= timedelta(hours=notify.retry_for_hours):
        outcome = DeliveryOutcome.GAVE_UP
    else:
        outcome = DeliveryOutcome.TRANSIENT
        delay = min(notify.retry_max_s, notify.retry_initial_s * 2 ** (attempts - 1))
        next_at = finished + timedelta(seconds=delay)
    message = None
    if error is not None:
        message = error.message if outcome != DeliveryOutcome.GAVE_UP else (
            f"gave up after {attempts} attempts over {notify.retry_for_hours:g} h: {error.message}")
    with _session(target) as wh:
        outbox.record_attempt(
            wh, item.message_key, token=token, recipient=item.recipient.id, channel=item.channel,
            outcome=outcome, started_at=started, finished_at=finished, error=message,
            status_code=error.status if error is not None else None, next_attempt_at=next_at)
    failed = outcome in (DeliveryOutcome.PERMANENT, DeliveryOutcome.GAVE_UP)
    level = logging.WARNING if failed else logging.INFO  # retries are routine
    log.log(level, "%s %s to %s via %s%s", outcome, item.message_key, item.recipient.id, item.channel,
            f": {message}" if message else "")
    return MessageResult(item.message_key, item.recipient.id, item.channel, len(item.rows), outcome, message,
                         next_at.isoformat(timespec="seconds") if next_at else None)


@contextmanager
def _session(target: WarehouseTarget, wait_s: float = 30.0) -> Iterator[Warehouse]:
    """The open warehouse itself, or the file opened for this step only (waiting while another
    process holds it, so that an attempt that was sent is always recorded)."""
    if isinstance(target, Warehouse):
        yield target
        return
    deadline = time.monotonic() + wait_s
    delay = 0.1
    with _PROCESS_LOCK, ExitStack() as stack:
        while True:
            try:
                wh = stack.enter_context(open_warehouse(target))
                break
            except WarehouseLockedError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        yield wh


def notify_command(settings: Settings, now: datetime | None = None, *, retry_failed: bool = False,
                   warehouse: Warehouse | None = None) -> DeliveryReport:
    """``tendon notify``: route what is new, then deliver what is due. The event-driven path
    (after an evaluation) calls this same function; a caller already holding the warehouse
    (a one-shot ingest) passes it, else it is opened per step."""
    target: WarehouseTarget = warehouse if warehouse is not None else settings.location
    with _session(target) as wh:
        if retry_failed:
            outbox.requeue_failed(wh, now=utc_naive(now))
        routed = plan_deliveries(wh, settings, now)
    report = deliver_pending(target, settings, now)
    report.routed = routed
    return report


def _monotonic() -> float:
    return time.monotonic()
