"""Delivery use case: alerts and plans to coaches and runners (docs/notifications.md).

``recipients`` says who gets what, ``routing`` queues it in the warehouse outbox, ``sending``
delivers what is due with back-off, ``messages`` writes the text, ``report`` says what happened.
"""

from tendon_pipeline.app.delivery.recipients import Recipient, recipients
from tendon_pipeline.app.delivery.report import DeliveryReport, MessageResult
from tendon_pipeline.app.delivery.routing import plan_deliveries
from tendon_pipeline.app.delivery.sending import deliver_pending, notify_command

__all__ = ["DeliveryReport", "MessageResult", "Recipient", "deliver_pending", "notify_command", "plan_deliveries",
           "recipients"]
