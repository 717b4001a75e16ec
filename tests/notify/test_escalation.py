"""Issue 14 item 3: a re-evaluation that changes an alert updates it (history kept), and a worsened
alert reaches the coach again as an update; an unchanged alert is never sent twice.

Real FIT files, a real DuckDB file, the rules, and a real webhook receiver on loopback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from notify_helpers import NOW, make_settings

from tendon_pipeline.app.delivery import notify_command
from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.warehouse import outbox
from tendon_pipeline.warehouse.store import open_warehouse

SPIKE_MONDAY = date(2026, 11, 16)  # week 47; NOW is the Wednesday after it
AS_OF = date(2026, 11, 22)
RULE = "weekly_volume_increase"


def _run(path, day: date, km: float, hour: int = 7) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    write_activity(path, ActivitySpec(start_utc=start, distance_m=km * 1000, duration_s=int(km * 340)))


def _weeks(inbox) -> None:
    """Four weeks of 5 x 5 km (25 km), then 5 x 6.1 km (30.5 km: +22 %, a caution)."""
    for week in range(4, 0, -1):
        monday = SPIKE_MONDAY - timedelta(weeks=week)
        for day in (0, 1, 3, 4, 5):
            _run(inbox / "ana" / f"w{week}-{day}.fit", monday + timedelta(days=day), 5.0)
    for day in (0, 1, 3, 4, 5):
        _run(inbox / "ana" / f"spike-{day}.fit", SPIKE_MONDAY + timedelta(days=day), 6.1)


def _volume_messages(webhook) -> list[dict]:
    return [r.body for r in webhook.received if any(a["rule"] == RULE for a in r.body["tendon"]["alerts"])]


def _cycle(settings, inbox):
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [inbox])
        report = evaluate_athletes(wh, settings, ["ana"], as_of=AS_OF)
    return report, notify_command(settings, NOW)


def test_a_late_run_that_worsens_an_alert_updates_it_and_the_coach_gets_an_update(tmp_path, webhook):
    settings = make_settings(tmp_path, athletes=[{"id": "ana", "name": "Ana"}],
                             coaches=[{"name": "Maria", "athletes": ["ana"], "notify": [webhook.url()]}],
                             notify={"outbox": False})
    inbox = tmp_path / "inbox"
    _weeks(inbox)
    report, _ = _cycle(settings, inbox)
    [first] = [a for a in report.new_alerts() if a.rule == RULE]
    assert first.severity == "caution" and first.evidence["increase_pct"] == 22
    [sent] = _volume_messages(webhook)
    assert sent["tendon"]["alerts"][0]["severity"] == "caution"

    _run(inbox / "ana" / "late-sync.fit", SPIKE_MONDAY + timedelta(days=6), 13.0)  # synced days later
    report, delivery = _cycle(settings, inbox)
    assert [a.key for a in report.new_alerts() if a.rule == RULE] == []
    [updated] = [a for a in report.updated_alerts() if a.rule == RULE]
    assert updated.severity == "warning" and updated.evidence["increase_pct"] == 74

    with open_warehouse(settings.db, read_only=True) as wh:
        stored = wh.con.execute("SELECT severity, revision, json_extract(evidence, '$.increase_pct')::INT"
                                " FROM alerts WHERE rule = ?", [RULE]).fetchall()
        history = wh.con.execute("SELECT revision, severity, json_extract(evidence, '$.increase_pct')::INT"
                                 " FROM alert_revisions WHERE alert_key = ?", [first.key]).fetchall()
    assert stored == [("warning", 2, 74)]
    assert history == [(1, "caution", 22)]  # the version that was superseded, kept

    first_sent, update = _volume_messages(webhook)
    # alone, the update's title says so; with the late run's other alerts (one message per athlete
    # and evaluation, issue 15) its line does
    assert (update["title"].startswith("Update: Ana: weekly volume increase (warning, was caution)")
            or "- update: warning, was caution, weekly volume increase" in update["message"])
    [alert] = [a for a in update["tendon"]["alerts"] if a["rule"] == RULE]
    assert (alert["severity"], alert["evidence"]["increase_pct"], alert["update"]) == ("warning", 74, True)
    assert alert["previous_severity"] == "caution"
    assert alert["alert_key"] == first.key and update["idempotency_key"] != first_sent["idempotency_key"]

    # nothing changed since: evaluating and notifying again sends nothing more about it
    report, _ = _cycle(settings, inbox)
    assert [a for a in report.updated_alerts() if a.rule == RULE] == []
    assert len(_volume_messages(webhook)) == 2
    with open_warehouse(settings.db, read_only=True) as wh:
        keys = [r.item_key for r in outbox.deliveries(wh) if r.item_key.startswith(first.key)]
    assert sorted(keys) == [first.key, f"{first.key}~e1"]
