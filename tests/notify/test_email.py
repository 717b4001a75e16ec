"""Email through Apprise (mailto://) to a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
from datetime import timedelta

from notify_helpers import NOW, add_alert, make_settings

from tendon_pipeline.app.delivery import deliver_pending, plan_deliveries
from tendon_pipeline.warehouse import outbox


def mail_url(smtp, to: str = "maria@example.org") -> str:
    return (f"mailto://{smtp.user}:{smtp.password}@127.0.0.1:{smtp.port}"
            f"?from=tendon@example.org&to={to}&mode=insecure")


def test_an_alert_arrives_by_email_once_with_the_numbers(tmp_path, wh, smtp, monkeypatch):
    monkeypatch.setenv("MARIA_MAIL", mail_url(smtp))
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": ["env:MARIA_MAIL"]}],
                             athletes=[{"id": "ana", "name": "Ana Lopez"}], notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    assert deliver_pending(wh, settings, NOW).delivered == 1
    assert deliver_pending(wh, settings, NOW + timedelta(days=1)).results == []

    [mail] = smtp.messages
    assert smtp.logins == ["tendon"]  # the password from the environment was used
    assert mail.rcpt_tos == ["maria@example.org"] and mail.mail_from == "tendon@example.org"
    parsed = email.message_from_string(mail.content)
    assert parsed["Subject"] == "Ana Lopez: weekly volume increase (warning)"
    assert parsed["X-Tendon-Idempotency-Key"] == outbox.deliveries(wh)[0].delivery_id
    text = parsed.get_payload(decode=True).decode() if not parsed.is_multipart() else \
        "".join(p.get_payload(decode=True).decode() for p in parsed.walk() if p.get_content_type() == "text/plain")
    assert "38 % more" in text and "Nielsen et al. 2014" in text


def test_a_refused_address_is_permanent(tmp_path, wh, smtp):
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"],
                                                 "notify": [mail_url(smtp, to="nobody@example.org")]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    [result] = deliver_pending(wh, settings, NOW).results
    assert result.outcome == "permanent" and "SMTP 550" in result.error
    assert result.error.startswith("mailto://127.0.0.1")
    assert outbox.deliveries(wh)[0].status == "failed_permanent"
    assert smtp.messages == []


def test_wrong_smtp_password_is_permanent(tmp_path, wh, smtp):
    url = mail_url(smtp).replace(smtp.password, "wrong-password")
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": [url]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    [result] = deliver_pending(wh, settings, NOW).results
    assert result.outcome == "permanent" and "SMTP 535" in result.error


def test_mail_server_down_then_back(tmp_path, wh, smtp):
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": [mail_url(smtp)]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    smtp.stop()
    [result] = deliver_pending(wh, settings, NOW).results
    assert result.outcome == "transient" and "cannot connect" in result.error
    smtp.start()
    assert deliver_pending(wh, settings, NOW + timedelta(minutes=5)).delivered == 1
    assert len(smtp.messages) == 1
