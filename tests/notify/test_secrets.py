"""Secrets (webhook URLs, tokens, SMTP passwords) never reach a log, the console, the
warehouse, a report or an error message, whatever happens to the delivery."""

from __future__ import annotations

import logging
import os
import sys
import types
from datetime import timedelta

import pytest
from notify_helpers import NOW, WebhookReceiver, add_alert, make_settings

from tendon_pipeline.connectors.notifiers import secret_ref
from tendon_pipeline.connectors.notifiers.apprise_channel import AppriseConfig, AppriseNotifier
from tendon_pipeline.connectors.notifiers.base import DeliveryError, Notification
from tendon_pipeline.app.delivery import deliver_pending, notify_command, plan_deliveries
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import open_warehouse

PASSWORD = "PassW0rd-s3cret-9931"
TOKEN = "TOKEN-a8f7c6e5d4b3"
SMTP_PASSWORD = "smtp-Pa55word-xyz"


def all_text(wh) -> str:
    frames = [wh.query("SELECT * FROM deliveries"), wh.query("SELECT * FROM delivery_attempts")]
    return "\n".join(frame.to_csv() for frame in frames)


def test_no_secret_anywhere_through_success_outage_rejection_and_a_missing_variable(
        tmp_path, monkeypatch, caplog, capsys, smtp):
    caplog.set_level(1)  # everything, from every logger, including Apprise's trace lines
    logging.getLogger("apprise").setLevel(1)
    receiver = WebhookReceiver()
    monkeypatch.setenv("MARIA_HOOK", receiver.url(f"/hook/{TOKEN}", auth=f"hook:{PASSWORD}@"))
    mail = (f"mailto://{smtp.user}:{SMTP_PASSWORD}@127.0.0.1:{smtp.port}"
            "?from=tendon@example.org&to=jon@example.org&mode=insecure")
    settings = make_settings(tmp_path, notify={"console": True}, coaches=[
        {"name": "Maria", "athletes": ["ana"], "notify": ["env:MARIA_HOOK"]},
        {"name": "Jon", "athletes": ["ana"], "notify": [mail]},
        {"name": "Kim", "athletes": ["ana"], "notify": ["env:KIM_HOOK_NOT_SET"]}])
    with open_warehouse(settings.db) as wh:
        add_alert(wh)
    reports = [notify_command(settings, NOW)]  # webhook down: connection refused
    receiver.start()
    try:
        receiver.script.extend([503])
        reports.append(notify_command(settings, NOW + timedelta(minutes=2)))  # 503
        receiver.status_by_path[f"/hook/{TOKEN}"] = 400
        reports.append(notify_command(settings, NOW + timedelta(minutes=10)))  # 400: permanent
        del receiver.status_by_path[f"/hook/{TOKEN}"]
        with open_warehouse(settings.db) as wh:
            outbox.requeue_failed(wh, now=NOW + timedelta(minutes=20))
        reports.append(notify_command(settings, NOW + timedelta(minutes=20)))  # delivered
    finally:
        receiver.stop()

    outcomes = [(r.recipient, r.outcome) for report in reports for r in report.results]
    assert ("coach:Maria", "transient") in outcomes and ("coach:Maria", "permanent") in outcomes
    assert ("coach:Maria", "delivered") in outcomes and ("coach:Jon", "delivered") in outcomes
    assert ("coach:Kim", "transient") in outcomes
    assert receiver.received[0].headers["Authorization"].startswith("Basic ")  # the password was used
    assert smtp.logins == ["tendon"]
    kim = [r.error for report in reports for r in report.results if r.recipient == "coach:Kim"]
    assert kim[0] == "environment variable KIM_HOOK_NOT_SET is not set"

    with open_warehouse(settings.db) as wh:
        stored = all_text(wh)
    out = capsys.readouterr()
    haystacks = {
        "logs": caplog.text, "stdout": out.out, "stderr": out.err, "warehouse": stored,
        "reports": "\n".join(r.to_json() + r.summary() for r in reports),
        "settings": repr(settings) + str(settings),
        "outbox file": (tmp_path / "outbox.jsonl").read_text(),
    }
    assert "HTTP 503" in caplog.text and "HTTP 400" in caplog.text  # the failures were logged...
    for where, text in haystacks.items():
        for secret in (PASSWORD, TOKEN, SMTP_PASSWORD):
            assert secret not in text, f"{secret} leaked into {where}"  # ...without a secret


def test_a_literal_secret_url_in_the_config_is_masked_in_errors(tmp_path, wh, caplog, capsys):
    caplog.set_level(1)
    url = f"json://hook:{PASSWORD}@127.0.0.1:9/{TOKEN}"  # port 9: nothing listens
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": [url]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    [result] = deliver_pending(wh, settings, NOW).results
    assert result.outcome == "transient" and result.error == "json://127.0.0.1: cannot connect (will retry)"
    assert result.channel.startswith("json://127.0.0.1#")
    out = capsys.readouterr()
    for text in (caplog.text, out.out, out.err, all_text(wh), result.channel):
        assert PASSWORD not in text and TOKEN not in text


@pytest.mark.parametrize("url", [f"nosuchservice://{TOKEN}/{PASSWORD}", "json://", f"{TOKEN}://x"])
def test_an_unusable_url_is_permanent_and_not_echoed(url, caplog):
    caplog.set_level(1)
    notifier = AppriseNotifier(AppriseConfig(url=url))
    with pytest.raises(DeliveryError) as caught:
        notifier.send(Notification(recipient="r", subject="s", body="b", idempotency_key="k"))
    assert caught.value.transient is False
    assert TOKEN not in str(caught.value) and PASSWORD not in str(caught.value)
    assert TOKEN not in caplog.text and PASSWORD not in caplog.text


@pytest.mark.parametrize("url, shown", [
    ("slack://T0AAA/B0BBB/C0CCCsecret", "slack://***"),
    ("discord://123456789/webhook-token", "discord://***"),
    ("ntfy://private-topic-name", "ntfy://***"),
    ("ntfys://ntfy.sh/private-topic", "ntfys://ntfy.sh"),
    (f"jsons://user:{PASSWORD}@hooks.example.org/{TOKEN}", "jsons://hooks.example.org"),
    (f"mailtos://coach:{PASSWORD}@smtp.example.org:587?to=a@example.org", "mailtos://smtp.example.org"),
    (f"msteams://{TOKEN}/{PASSWORD}", "msteams://***"),
    ("env:MARIA_HOOK", "env:MARIA_HOOK"),
    ("prefect-secret:maria-hook", "prefect-secret:maria-hook"),
    (f"no scheme {TOKEN}", "(unparseable URL)"),
])
def test_mask_shows_scheme_and_a_plain_host_only(url, shown):
    assert secret_ref.mask(url) == shown
    channel = secret_ref.channel_id(url)
    assert PASSWORD not in channel and TOKEN not in channel


def test_rotating_a_password_keeps_the_channel_identity():
    a = secret_ref.channel_id("jsons://u:old-password@hooks.example.org/in")
    b = secret_ref.channel_id("jsons://u:new-password@hooks.example.org/in")
    c = secret_ref.channel_id("jsons://u:new-password@hooks.example.org/other")
    assert a == b != c


def test_a_missing_variable_waits_and_then_delivers(tmp_path, wh, webhook, monkeypatch):
    settings = make_settings(tmp_path, coaches=[{"name": "Maria", "athletes": ["ana"], "notify": ["env:LATE_HOOK"]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    [first] = deliver_pending(wh, settings, NOW).results
    assert first.outcome == "transient"
    monkeypatch.setenv("LATE_HOOK", webhook.url())
    assert deliver_pending(wh, settings, NOW + timedelta(hours=1)).delivered == 1
    assert len(webhook.received) == 1


def _prefect_secret_case(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[
        {"name": "Maria", "athletes": ["ana"], "notify": ["prefect-secret:tendon-test-coach-hook"]},
        {"name": "Jon", "athletes": ["ana"], "notify": ["prefect-secret:no-such-block"]}],
        notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    results = {r.recipient: r for r in deliver_pending(wh, settings, NOW).results}
    assert results["coach:Maria"].outcome == "delivered"
    assert results["coach:Maria"].channel == "prefect-secret:tendon-test-coach-hook"
    assert results["coach:Jon"].outcome == "transient"
    assert "Prefect Secret block 'no-such-block' cannot be loaded" in results["coach:Jon"].error
    assert webhook.received[0].path == f"/hook/{TOKEN}"


def test_a_prefect_secret_block_holds_the_url(tmp_path, wh, webhook, monkeypatch):
    """Prefect's Secret block API, stood in for (the real one below needs Prefect's API: ~12 s,
    and importing Prefect alone takes seconds)."""
    blocks = {"tendon-test-coach-hook": webhook.url(f"/hook/{TOKEN}")}

    class FakeSecret:
        def __init__(self, value: str) -> None:
            self.value = value

        @classmethod
        def load(cls, name: str) -> "FakeSecret":
            if name not in blocks:
                raise ValueError(f"Unable to find block document named {name}")
            return cls(blocks[name])

        def get(self) -> str:
            return self.value

    fake = types.ModuleType("prefect.blocks.system")
    fake.Secret = FakeSecret
    monkeypatch.setitem(sys.modules, "prefect.blocks.system", fake)
    _prefect_secret_case(tmp_path, wh, webhook)


@pytest.mark.prefect
@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NOTIFY_TEST_REAL_PREFECT"),
                    reason="starts Prefect's API (~12 s); set NOTIFY_TEST_REAL_PREFECT=1")
def test_a_real_prefect_secret_block_holds_the_url(tmp_path, wh, webhook):
    from prefect.blocks.system import Secret

    Secret(value=webhook.url(f"/hook/{TOKEN}")).save("tendon-test-coach-hook", overwrite=True)
    _prefect_secret_case(tmp_path, wh, webhook)
