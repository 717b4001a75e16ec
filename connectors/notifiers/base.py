"""The one shape every notifier has: ``name`` and ``send(Notification)``.

A notifier either returns (the receiver accepted the message) or raises
:class:`DeliveryError` saying whether a retry can help (``transient``). Nothing
else: no boolean results to forget to check, no secrets in messages.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tendon_pipeline.errors import TendonError


class DeliveryError(TendonError):
    """A notifier could not deliver a message.

    ``transient`` (timeouts, 5xx, connection refused, SMTP 4xx): retry later with
    backoff. Not transient (4xx, bad address, unparseable URL): retrying cannot
    help; the delivery is marked ``failed_permanent`` and reported. ``status`` is
    the HTTP or SMTP status code when one was observed. The message never holds a
    secret (channels are named by scheme and host only).
    """

    exit_code = 4

    def __init__(self, message: str, *, transient: bool, status: int | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient
        self.status = status


class Notification(BaseModel):
    """One message for one recipient on one channel.

    ``idempotency_key`` is the same on every attempt to deliver this message, so a
    receiver that saw it already can drop the repeat (see docs/notifications.md).
    ``payload`` is the structured content (the ``tendon`` object of the webhook JSON).
    """

    model_config = ConfigDict(frozen=True)

    recipient: str
    subject: str
    body: str
    payload: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    severity: str | None = Field(default=None, description="highest severity in the message, if any")


class Notifier(ABC):
    """A delivery channel. ``name`` is secret-free (scheme and host at most)."""

    name: str

    @abstractmethod
    def send(self, message: Notification) -> None:
        """Deliver ``message`` or raise :class:`DeliveryError`."""
