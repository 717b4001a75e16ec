"""The local outbox file, the warehouse outbox (claims, attempts) and the file lock."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta

from notify_helpers import NOW, add_alert, make_settings

from tendon_pipeline.app.delivery import deliver_pending, notify_command, plan_deliveries
from tendon_pipeline.connectors.notifiers.base import Notification
from tendon_pipeline.connectors.notifiers.outbox_file import OutboxFileConfig, OutboxFileNotifier, read_outbox
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import open_warehouse


def note(key: str) -> Notification:
    return Notification(recipient="local", subject=f"subject {key}", body="line one\nline two",
                        payload={"kind": "alert", "alerts": [{"alert_key": key}]}, idempotency_key=key,
                        severity="warning")


def test_outbox_file_appends_json_lines_once_per_key_even_from_many_threads(tmp_path):
    notifier = OutboxFileNotifier(OutboxFileConfig(path=tmp_path / "deep" / "outbox.jsonl"))
    threads = [threading.Thread(target=lambda i=i: [notifier.send(note(f"k{i % 25}")) for _ in range(4)])
               for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = (tmp_path / "deep" / "outbox.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is whole JSON
    assert sorted(r["idempotency_key"] for r in records) == sorted(f"k{i}" for i in range(25))
    assert records[0]["body"] == "line one\nline two" and records[0]["tendon"]["kind"] == "alert"


def test_a_cut_off_last_line_is_skipped_by_readers(tmp_path):
    path = tmp_path / "outbox.jsonl"
    OutboxFileNotifier(OutboxFileConfig(path=path)).send(note("a"))
    with path.open("a") as handle:
        handle.write('{"idempotency_key": "b", "subj')
    assert [r["idempotency_key"] for r in read_outbox(path)] == ["a"]


def test_a_second_run_never_sends_what_a_running_one_holds(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    held = outbox.claim_due(wh, now=NOW, token="other-run", until=NOW + timedelta(minutes=5))
    assert len(held) == 1
    assert deliver_pending(wh, settings, NOW).results == []
    assert deliver_pending(wh, settings, NOW + timedelta(minutes=5)).delivered == 1  # the claim lapsed
    assert len(webhook.received) == 1


def test_every_attempt_is_recorded_per_recipient_and_channel(tmp_path, wh, webhook):
    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana"], "notify": [webhook.url()]}])
    add_alert(wh)
    plan_deliveries(wh, settings, NOW)
    webhook.script.extend([500])
    deliver_pending(wh, settings, NOW)
    deliver_pending(wh, settings, NOW + timedelta(hours=1))
    attempts = wh.query("SELECT recipient, channel, attempt, outcome, status_code FROM delivery_attempts"
                        " ORDER BY recipient, attempt")
    rows = [tuple(r) for r in attempts.itertuples(index=False)]
    assert [(r[0], r[2], r[3]) for r in rows] == [("coach:M", 1, "transient"), ("coach:M", 2, "delivered"),
                                                  ("local", 1, "delivered")]
    assert rows[0][1].startswith("json://127.0.0.1#") and rows[0][4] == 500 and rows[2][1] == "outbox"
    [coach_row] = [d for d in outbox.deliveries(wh) if d.recipient == "coach:M"]
    assert coach_row.status == "delivered" and coach_row.attempts == 2 and coach_row.delivered_at is not None


def test_the_warehouse_file_is_free_while_waiting_on_the_network(tmp_path, webhook):
    """Another process can open the warehouse read-write while a message is in flight."""
    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    with open_warehouse(settings.db) as wh:
        add_alert(wh)
    seen = []

    def other_process_writes() -> None:
        code = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]);"
                " con.execute(\"UPDATE alerts SET message = message\"); con.close()")
        seen.append(subprocess.run([sys.executable, "-c", code, str(settings.db)], capture_output=True,
                                   text=True, timeout=60).returncode)

    webhook.on_post = other_process_writes
    assert notify_command(settings, NOW).delivered == 1
    assert seen == [0]


def test_concurrent_runs_in_one_process_send_each_message_once(tmp_path, webhook):
    """The event-driven path can start several runs at once (one per alert.raised event)."""
    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    with open_warehouse(settings.db) as wh:
        keys = [add_alert(wh, rule=f"rule_{i}") for i in range(6)]
    errors: list[BaseException] = []

    def run() -> None:
        try:
            notify_command(settings, NOW)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(webhook.alert_keys()) == sorted(keys)  # each once
    with open_warehouse(settings.db) as wh:
        assert outbox.status_counts(wh) == {"delivered": 6}


def test_a_run_stops_sending_before_its_claim_lapses(tmp_path, wh, webhook, monkeypatch):
    import tendon_pipeline.app.delivery.sending as delivery

    settings = make_settings(tmp_path, coaches=[{"name": "M", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False, "claim_s": 120})
    for i in range(3):
        add_alert(wh, rule=f"rule_{i}", evaluation=f"eval-{i}")  # three evaluations: three messages
    plan_deliveries(wh, settings, NOW)
    ticks = iter([0.0, 0.0, 59.0, 61.0, 61.0])  # start, then before each message
    monkeypatch.setattr(delivery, "_monotonic", lambda: next(ticks))
    report = deliver_pending(wh, settings, NOW)
    assert [r.outcome for r in report.results] == ["delivered", "delivered", "skipped"]
    assert len(webhook.received) == 2
    monkeypatch.undo()
    assert deliver_pending(wh, settings, NOW).delivered == 1  # released, not lost
