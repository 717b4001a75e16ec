"""Step 1 of delivery: route stored alerts and plans to recipients as pending outbox rows."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from tendon_pipeline.app.delivery.recipients import recipients
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


def utc_naive(value: datetime | None) -> datetime:
    """Naive UTC, like every timestamp in the warehouse."""
    if value is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
