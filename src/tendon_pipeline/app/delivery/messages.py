"""The message text for one recipient: one alert, one plan, or a digest; and its JSON payload."""

from __future__ import annotations

import re
from typing import Any

from tendon_pipeline.app.delivery.recipients import Recipient
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.connectors.notifiers.base import Notification
from tendon_pipeline.domain.models import SEVERITY_RANK
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import Warehouse

PAYLOAD_SCHEMA = "tendon-pipeline.notification/1"
# evidence keys that hold a rule's threshold rather than a measured number
_THRESHOLD_KEY = re.compile(r"(above|below|^line|_line|limit|guide|threshold|_max$|^max_|^min_|minimum|^target"
                            r"|^caution_|^warning_|window)")


def render(wh: Warehouse, recipient: Recipient, rows: list[outbox.DeliveryRow], settings: Settings) -> Notification:
    """The message for one recipient: one athlete's alerts of one evaluation, one plan, or a
    digest of several."""
    alerts = outbox.alerts_by_key(wh, [outbox.alert_key_of(r.item_key) for r in rows if r.item_kind == "alert"])
    alert_items, plan_items = [], []
    for row in rows:
        if row.item_kind == "alert" and outbox.alert_key_of(row.item_key) in alerts:
            alert = dict(alerts[outbox.alert_key_of(row.item_key)])
            _mark_update(wh, alert, row.item_key)
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


def _mark_update(wh: Warehouse, alert: dict[str, Any], item_key: str) -> None:
    """An escalation's delivery (item_key alert_key~eN) carries ``update`` and the severity it was."""
    prefix = alert["alert_key"] + outbox.ESCALATION_MARK
    escalation = item_key[len(prefix):] if item_key.startswith(prefix) else ""
    if escalation.isdigit():
        alert["update"] = True
        alert["previous_severity"] = outbox.severity_before(wh, alert["alert_key"], int(escalation))


def _alert_text(alert: dict[str, Any]) -> tuple[str, str]:
    severity = alert["severity"]
    if alert.get("update") and alert.get("previous_severity"):
        severity += f", was {alert['previous_severity']}"
    update = "Update: " if alert.get("update") else ""
    subject = f"{update}{alert['athlete_name']}: {_rule_title(alert['rule'])} ({severity})"
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


def _severity_label(alert: dict[str, Any]) -> str:
    """``warning``, or for an escalation ``update: warning, was caution``."""
    if not alert.get("update"):
        return alert["severity"]
    was = f", was {alert['previous_severity']}" if alert.get("previous_severity") else ""
    return f"update: {alert['severity']}{was}"


def _athlete_text(alerts: list[dict[str, Any]]) -> tuple[str, str]:
    """One message for one athlete's evaluation: each incident once, the worst first."""
    ordered = sorted(alerts, key=lambda a: (-SEVERITY_RANK[a["severity"]], a["date"], a["rule"]))
    worst = ordered[0]
    subject = (f"{worst['athlete_name']}: {len(ordered)} alerts, worst {_rule_title(worst['rule'])}"
               f" ({worst['severity']})")
    lines = [f"- {_severity_label(a)}, {_rule_title(a['rule'])}: {a['message']} (source: {a['source']})"
             for a in ordered]
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
    for key, what in (("tendon_sessions_per_week", "tendon session"), ("cross_training_sessions", "cross-training"
                                                                                                  " session")):
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
