"""Notifiers: one shape (``Notifier.send(Notification)`` raising ``DeliveryError``) for
every channel: the console, the local outbox file, and Apprise for Slack, Microsoft
Teams, Discord, ntfy, email and JSON webhooks. Routing and delivery guarantees live
in :mod:`tendon_pipeline.app.delivery`; see docs/notifications.md.

Importing this package is cheap (Apprise is imported only when a message is sent).
"""

from .base import DeliveryError, Notification, Notifier
from .config import Coach, NotifySettings, Runner

__all__ = ["Coach", "DeliveryError", "Notification", "Notifier", "NotifySettings", "Runner"]
