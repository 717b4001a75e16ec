"""Delivery use case: alerts and plans to coaches and runners (docs/notifications.md)."""

from tendon_pipeline.app.delivery.sending import (
    DeliveryReport,
    Recipient,
    deliver_pending,
    notify_command,
    plan_deliveries,
    recipients,
)

__all__ = ["DeliveryReport", "Recipient", "deliver_pending", "notify_command", "plan_deliveries", "recipients"]
