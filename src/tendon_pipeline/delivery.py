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

import json
import logging
import re
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

from pydantic import SecretStr

from tendon_pipeline.connectors.notifiers.base import DeliveryError, Notification
from tendon_pipeline.connectors.notifiers.config import (
    SEVERITY_RANK,
    Coach,
    NotifySettings,
    RecipientSettings,
    Runner,
    next_digest_at,
    quiet_until,
    zone,
)
from tendon_pipeline.connectors.notifiers.factory import channel_of, make_notifier
from tendon_pipeline.errors import WarehouseLockedError
from tendon_pipeline.settings import Settings
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.location import WarehouseLocation
from tendon_pipeline.warehouse.store import Warehouse, open_warehouse

__all__ = ["DeliveryReport", "Recipient", "deliver_pending", "notify_command", "plan_deliveries", "recipients"]

log = logging.getLogger("tendon_pipeline.delivery")

PAYLOAD_SCHEMA = "tendon-pipeline.notification/1"
LOCAL = "local"
_SEVERITIES = ("info", "caution", "warning", "high")
# evidence keys that hold a rule's threshold rather than a measured number
_THRESHOLD_KEY = re.compile(r"(above|below|^line|_line|limit|guide|threshold|_max$|^max_|^min_|minimum|^target"
                            r"|^caution_|^warning_|window)")


# --------------------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipient:
    """A coach, a runner or the local operator, with channels by secret-free id."""

    id: str
    display: str
    athletes: frozenset[str] | None  # None: every athlete
    alerts: bool
    plans: bool
    min_severity: str
    timezone: str | None
    quiet_hours: str | None
    digest: str
    options: RecipientSettings | None
    channels: dict[str, SecretStr | str]

    def severities(self) -> tuple[str, ...]:
        if not self.alerts:
            return ()
        return tuple(s for s in _SEVERITIES if SEVERITY_RANK[s] >= SEVERITY_RANK[self.min_severity])


def _channels(entries: list[SecretStr]) -> dict[str, SecretStr | str]:
    out: dict[str, SecretStr | str] = {}
    for entry in entries:
        out.setdefault(channel_of(entry), entry)
    return out


def recipients(settings: Settings) -> list[Recipient]:
    """Everyone who gets messages: the local console/outbox, then coaches, then runners."""
    notify: NotifySettings = settings.notify
    found: list[Recipient] = []
    local_channels: dict[str, SecretStr | str] = {}
    if notify.console:
        local_channels["console"] = "console"
    if notify.outbox:
        local_channels["outbox"] = "outbox"
    if local_channels:
        found.append(Recipient(
            id=LOCAL, display="local", athletes=None, alerts=True, plans=True,
            min_severity=notify.local_min_severity, timezone=None, quiet_hours=None, digest="none",
            options=None, channels=local_channels))
    for coach in settings.coaches:
        found.append(_recipient(f"coach:{coach.name}", coach.name, coach, frozenset(coach.athletes),
                                alerts=True, plans=False, default_tz=None))
    for runner in settings.runners:
        athlete = settings.athlete(runner.athlete)
        name = runner.name or (athlete.name if athlete and athlete.name else runner.athlete)
        found.append(_recipient(f"runner:{runner.athlete}", name, runner, frozenset({runner.athlete}),
                                alerts=runner.alerts, plans=runner.plans,
                                default_tz=athlete.timezone if athlete else None))
    return found


def _recipient(rid: str, display: str, options: Coach | Runner, athletes: frozenset[str], *, alerts: bool,
               plans: bool, default_tz: str | None) -> Recipient:
    return Recipient(
        id=rid, display=display, athletes=athletes, alerts=alerts, plans=plans,
        min_severity=options.min_severity, timezone=options.timezone or default_tz,
        quiet_hours=options.quiet_hours, digest=options.digest, options=options,
        channels=_channels(options.notify))


# --------------------------------------------------------------------------- routing


def plan_deliveries(warehouse: Warehouse, settings: Settings, now: datetime | None = None) -> int:
    """Create pending deliveries for alerts and plans not yet routed; returns how many.

    Alerts below a recipient's ``min_severity`` are not routed. Alerts dated (and plans for
    weeks starting) more than ``notify.max_age_days`` ago are not routed either. With a
    digest, rows are due at the recipient's next digest time and share its key. Quiet hours
    are applied when sending (the message waits, it is not dropped).
    """
    now = _utc(now)
    since = now.date() - timedelta(days=settings.notify.max_age_days)
    created = 0
    for recipient in recipients(settings):
        send_at = now
        if recipient.digest != "none" and recipient.options is not None:
            send_at = next_digest_at(recipient.options, zone(recipient.timezone), now)
        for channel in recipient.channels:
            route = outbox.Route(recipient=recipient.id, channel=channel, athletes=recipient.athletes,
                                 severities=recipient.severities(), digest=recipient.digest, send_at=send_at)
            created += outbox.route_alerts(warehouse, route, since=since, now=now)
            if recipient.plans:
                created += outbox.route_plans(warehouse, route, since=since, now=now)
    if created:
        log.info("routed %d new deliveries", created)
    return created


# --------------------------------------------------------------------------- sending


@dataclass
class MessageResult:
    message_key: str
    recipient: str
    channel: str
    items: int
    outcome: str  # delivered | transient | permanent | gave_up | deferred | skipped | cancelled
    error: str | None = None
    next_attempt_at: str | None = None


@dataclass
class DeliveryReport:
    """What one run did, secret-free (channels as scheme://host)."""

    routed: int = 0
    results: list[MessageResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def delivered(self) -> int:
        return self.count("delivered")

    @property
    def retrying(self) -> int:
        return self.count("transient")

    @property
    def failed(self) -> int:
        return self.count("permanent") + self.count("gave_up")

    @property
    def deferred(self) -> int:
        return self.count("deferred") + self.count("skipped")

    def problems(self) -> list[MessageResult]:
        return [r for r in self.results if r.outcome in ("transient", "permanent", "gave_up", "cancelled")]

    def summary(self) -> str:
        parts = [f"{self.routed} routed", f"{self.delivered} delivered", f"{self.retrying} to retry",
                 f"{self.failed} failed", f"{self.deferred} deferred"]
        if self.count("cancelled"):
            parts.append(f"{self.count('cancelled')} cancelled")
        return "notify: " + ", ".join(parts)

    def to_json(self) -> str:
        return json.dumps({"routed": self.routed, "delivered": self.delivered, "retrying": self.retrying,
                           "failed": self.failed, "deferred": self.deferred,
                           "messages": [asdict(r) for r in self.results]}, indent=2)


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
    fixed = _utc(now) if now is not None else None
    clock = (lambda: fixed) if fixed is not None else (lambda: _utc(None))
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
                                                    "cancelled", reason))
                continue
            quiet_end = quiet_until(recipient.quiet_hours, zone(recipient.timezone), start)
            if quiet_end is not None:
                outbox.release(wh, key, token=token, next_attempt_at=quiet_end)
                report.results.append(MessageResult(key, recipient.id, first.channel, len(members), "deferred",
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
                                                len(item.rows), "skipped", reason))
            continue
        result = _send_one(target, item, token, clock, notify, default_outbox)
        report.results.append(result)
        if result.outcome == "transient":
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
        outcome = "delivered"
    elif not error.transient:
        outcome = "permanent"
    elif finished - first_attempt >= timedelta(hours=notify.retry_for_hours):
        outcome = "gave_up"
    else:
        outcome = "transient"
        delay = min(notify.retry_max_s, notify.retry_initial_s * 2 ** (attempts - 1))
        next_at = finished + timedelta(seconds=delay)
    message = None
    if error is not None:
        message = error.message if outcome != "gave_up" else (
            f"gave up after {attempts} attempts over {notify.retry_for_hours:g} h: {error.message}")
    with _session(target) as wh:
        outbox.record_attempt(
            wh, item.message_key, token=token, recipient=item.recipient.id, channel=item.channel,
            outcome=outcome, started_at=started, finished_at=finished, error=message,
            status_code=error.status if error is not None else None, next_attempt_at=next_at)
    level = logging.WARNING if outcome in ("permanent", "gave_up") else logging.INFO  # retries are routine
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


def notify_command(settings: Settings, now: datetime | None = None, *, retry_failed: bool = False) -> DeliveryReport:
    """``tendon notify``: route what is new, then deliver what is due. The event-driven path
    (after an evaluation) calls this same function."""
    with _session(settings.location) as wh:
        if retry_failed:
            outbox.requeue_failed(wh, now=_utc(now))
        routed = plan_deliveries(wh, settings, now)
    report = deliver_pending(settings.location, settings, now)
    report.routed = routed
    return report


# --------------------------------------------------------------------------- messages


def render(wh: Warehouse, recipient: Recipient, rows: list[outbox.DeliveryRow], settings: Settings) -> Notification:
    """The message for one recipient: one athlete's alerts of one evaluation, one plan, or a
    digest of several."""
    alerts = outbox.alerts_by_key(wh, [r.item_key for r in rows if r.item_kind == "alert"])
    alert_items, plan_items = [], []
    for row in rows:
        if row.item_kind == "alert" and row.item_key in alerts:
            alert = dict(alerts[row.item_key])
            alert["athlete_name"] = _athlete_name(settings, alert["athlete_id"])
            alert["next_week"] = outbox.plan_after(wh, alert["athlete_id"], alert["date"])
            alert_items.append(alert)
        elif row.item_kind == "plan":
            plan = outbox.plan_for(wh, row.athlete_id, row.period)
            if plan is not None:
                plan["athlete_name"] = _athlete_name(settings, row.athlete_id)
                plan_items.append(plan)
    digest = rows[0].digest
    kind = "digest" if digest != "none" else ("alert" if alert_items else "plan")
    severity = max((a["severity"] for a in alert_items), key=SEVERITY_RANK.__getitem__, default=None)
    if kind == "alert" and len(alert_items) > 1:
        subject, body = _athlete_text(alert_items)
    elif kind == "alert":
        subject, body = _alert_text(alert_items[0])
    elif kind == "plan" and plan_items:
        subject, body = _plan_text(plan_items[0])
    else:
        subject, body = _digest_text(recipient, digest, alert_items, plan_items)
    payload = {
        "schema": PAYLOAD_SCHEMA,
        "kind": kind,
        "digest": digest,
        "recipient": recipient.id,
        "alerts": [{k: v for k, v in a.items() if k != "next_week"} | {"advice": _advice(a.get("next_week"))}
                   for a in alert_items],
        "plans": plan_items,
    }
    return Notification(recipient=recipient.id, subject=subject, body=body, payload=payload,
                        idempotency_key=rows[0].message_key, severity=severity)


def _athlete_name(settings: Settings, athlete_id: str) -> str:
    athlete = settings.athlete(athlete_id)
    return athlete.name if athlete and athlete.name else athlete_id


def _rule_title(rule: str) -> str:
    group, _, name = rule.partition(".")
    text = f"{group.replace('_', ' ')}: {name.replace('_', ' ')}" if name else group.replace("_", " ")
    return text.replace("pain monitoring", "pain")


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _advice(plan: dict[str, Any] | None) -> str | None:
    if not plan:
        return None
    return (f"Week of {plan['week_start']}: {plan['target_km_low']:.0f}-{plan['target_km_high']:.0f} km,"
            f" long run at most {plan['long_run_cap_km']:.0f} km (plan: {plan['status']})")


def _alert_text(alert: dict[str, Any]) -> tuple[str, str]:
    subject = f"{alert['athlete_name']}: {_rule_title(alert['rule'])} ({alert['severity']})"
    lines = [alert["message"]]
    evidence = alert.get("evidence") or {}
    shown = [f"{k.replace('_', ' ')} {_number(v)}" for k, v in evidence.items()
             if v is not None and not _THRESHOLD_KEY.search(k)][:4]
    if shown:  # the measured numbers; the thresholds are in the message and the payload
        lines.append("Numbers: " + ", ".join(shown))
    advice = _advice(alert.get("next_week"))
    if advice:
        lines.append("Do: " + advice)
    lines.append(f"Source: {alert['source']}")
    return subject, "\n".join(lines)


def _athlete_text(alerts: list[dict[str, Any]]) -> tuple[str, str]:
    """One message for one athlete's evaluation: each incident once, the worst first."""
    ordered = sorted(alerts, key=lambda a: (-SEVERITY_RANK[a["severity"]], a["date"], a["rule"]))
    worst = ordered[0]
    subject = (f"{worst['athlete_name']}: {len(ordered)} alerts, worst {_rule_title(worst['rule'])}"
               f" ({worst['severity']})")
    lines = [f"- {a['severity']}, {_rule_title(a['rule'])}: {a['message']} (source: {a['source']})" for a in ordered]
    advice = _advice(worst.get("next_week"))
    if advice:
        lines.append("Do: " + advice)
    return subject, "\n".join(lines)


def _plan_text(plan: dict[str, Any]) -> tuple[str, str]:
    subject = f"{plan['athlete_name']}: plan for the week of {plan['week_start']} ({plan['status']})"
    lines = [f"Run {plan['target_km_low']:.0f}-{plan['target_km_high']:.0f} km,"
             f" long run at most {plan['long_run_cap_km']:.0f} km."]
    details = plan.get("plan") if isinstance(plan.get("plan"), dict) else {}
    extra = []
    for key, what in (("tendon_sessions_per_week", "tendon session"), ("cross_training_sessions", "cross-training session")):
        if details.get(key):
            extra.append(f"{details[key]} {what}{'s' if details[key] != 1 else ''}")
    if extra:
        lines.append("Also: " + ", ".join(extra) + ".")
    for reason in (plan.get("reasons") or [])[:3]:
        lines.append(f"Why: {reason}")
    return subject, "\n".join(lines)


def _digest_text(recipient: Recipient, digest: str, alerts: list[dict[str, Any]],
                 plans: list[dict[str, Any]]) -> tuple[str, str]:
    counts = []
    if alerts:
        counts.append(f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}")
    if plans:
        counts.append(f"{len(plans)} plan{'s' if len(plans) != 1 else ''}")
    subject = f"Tendon {digest} digest for {recipient.display}: {', '.join(counts) or 'nothing new'}"
    lines = []
    for alert in sorted(alerts, key=lambda a: (-SEVERITY_RANK[a["severity"]], a["athlete_name"], a["date"])):
        lines.append(f"- {alert['athlete_name']}, {alert['severity']}: {alert['message']} (source: {alert['source']})")
    for plan in plans:
        lines.append(f"- {plan['athlete_name']}, plan for the week of {plan['week_start']}:"
                     f" {plan['target_km_low']:.0f}-{plan['target_km_high']:.0f} km,"
                     f" long run at most {plan['long_run_cap_km']:.0f} km ({plan['status']})")
    return subject, "\n".join(lines)


def _monotonic() -> float:
    return time.monotonic()


def _utc(value: datetime | None) -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    if value is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
