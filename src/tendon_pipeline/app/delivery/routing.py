"""Step 1 of delivery: route stored alerts and plans to recipients as pending outbox rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tendon_pipeline.app.delivery.recipients import Recipient, recipients
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.connectors.notifiers.config import next_digest_at, zone
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import Warehouse

log = logging.getLogger("tendon_pipeline.app.delivery")


def plan_deliveries(warehouse: Warehouse, settings: Settings, now: datetime | None = None) -> int:
    """Create pending deliveries for alerts and plans not yet routed; returns how many.

    Alerts below a recipient's ``min_severity`` are not routed. Alerts dated (and plans for
    weeks starting) more than ``notify.max_age_days`` ago are not routed either. With a
    digest, rows are due at the recipient's next digest time and share its key. Quiet hours
    are applied when sending (the message waits, it is not dropped).
    """
    now = utc_naive(now)
    since = now.date() - timedelta(days=settings.notify.max_age_days)
    created = 0
    for recipient, route in _routes(settings, now):
        created += outbox.route_alerts(warehouse, route, since=since, now=now)
        if recipient.plans:
            created += outbox.route_plans(warehouse, route, since=since, now=now)
    if created:
        log.info("routed %d new deliveries", created)
    return created


def route_new_alerts(warehouse: Warehouse, settings: Settings, alert_keys: list[str], *, arrived_at: datetime,
                     now: datetime | None = None) -> int:
    """Queue the deliveries of alerts an evaluation just stored, inside its transaction.

    The horizon (``notify.max_age_days``) is counted from ``arrived_at``, when the data that
    raised them was stored, not from now: an evaluation that runs late (after a crash, a
    stalled writer) routes what an evaluation right after the arrival would have, and an
    athlete's first import of an old history still routes nothing older than the horizon.
    """
    if not alert_keys:
        return 0
    now = utc_naive(now)
    since = utc_naive(arrived_at).date() - timedelta(days=settings.notify.max_age_days)
    return sum(outbox.enqueue_alerts(warehouse, route, alert_keys, since=since, now=now)
               for _, route in _routes(settings, now))


def _routes(settings: Settings, now: datetime) -> Iterator[tuple[Recipient, outbox.Route]]:
    """Every (recipient, route) of the configuration: one route per recipient and channel."""
    for recipient in recipients(settings):
        send_at = now
        if recipient.digest != "none" and recipient.options is not None:
            send_at = next_digest_at(recipient.options, zone(recipient.timezone), now)
        for channel in recipient.channels:
            yield recipient, outbox.Route(recipient=recipient.id, channel=channel, athletes=recipient.athletes,
                                          severities=recipient.severities(), digest=recipient.digest,
                                          send_at=send_at)


def utc_naive(value: datetime | None) -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    if value is None:
        return datetime.now(UTC).replace(tzinfo=None)
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value
