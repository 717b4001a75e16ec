"""Real receivers on loopback: an HTTP server for JSON webhooks and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import pytest
from notify_helpers import SmtpReceiver, WebhookReceiver, free_port


@pytest.fixture
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp():
    receiver = SmtpReceiver(port=free_port(), user="tendon", password="smtp-Pa55word-xyz").start()
    yield receiver
    receiver.stop()


@pytest.fixture
def wh():
    from tendon_pipeline.warehouse.store import open_warehouse

    with open_warehouse(":memory:") as warehouse:
        yield warehouse
