"""The watcher end to end on the embedded default: files dropped into a watched inbox end
in the warehouse (and alerts), each activity once, with the latency printed (``-s``)."""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tendon_pipeline.connectors.sources.base import Arrival
from tendon_pipeline.orchestration import events
from tendon_pipeline.runtime.watch import Watcher, catch_up_once, folder_watcher
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = pytest.mark.prefect


def _finished_at(watcher: Watcher) -> dict[Path, float]:
    return {a.path: b.finished for b in watcher.batches for a in b.arrivals}


def _report(label: str, latencies: list[float], batches: int) -> None:
    print(f"\n[latency] {label}: {len(latencies)} files, {batches} batches, median {statistics.median(latencies):.2f}"
          " s,"
          f" max {max(latencies):.2f} s")


def test_burst_duplicates_and_redelivery_each_activity_once(settings, drop):
    inbox = settings.inbox
    for n in (0, 1):  # there before the watcher starts: caught up
        drop(inbox / "ana" / f"early-{n}.fit", n)
    received = []
    events.subscribe(lambda e: received.append(e))
    watcher = folder_watcher(settings, batch_window_s=0.5)
    with watcher:
        assert watcher.wait_ready(30) and watcher.wait_idle(120)
        assert watcher.batches and sum(len(b.arrivals) for b in watcher.batches) == 2

        # a burst of 50 files for two athletes, written concurrently by two "sync tools"
        written: dict[Path, float] = {}

        def sync(athlete: str, numbers: range) -> None:
            for n in numbers:
                path = drop(inbox / athlete / f"run-{n:03d}.fit", n)
                written[path] = time.time()

        tools = [threading.Thread(target=sync, args=("ana", range(10, 35))),
                 threading.Thread(target=sync, args=("ben", range(35, 60)))]
        for tool in tools:
            tool.start()
        for tool in tools:
            tool.join()
        # the same file twice: a copy under another name, and the same landing offered again
        shutil.copyfile(inbox / "ana" / "run-010.fit", inbox / "ana" / ".copy")
        (inbox / "ana" / ".copy").rename(inbox / "ana" / "run-010-copy.fit")
        landing = next(a for b in watcher.batches for a in b.arrivals)
        assert watcher.submit(landing) is False  # same landing: dropped before it is even queued
        redelivered = Arrival(**{**landing.model_dump(), "arrival_id": "redelivered0001"})
        assert watcher.submit(redelivered) is False  # the same landing under a new event id, too

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_finished_at(watcher)) < 2 + 50 + 1:
            time.sleep(0.1)
        assert watcher.wait_idle(120)
        finished = _finished_at(watcher)
        latencies = [finished[p] - t for p, t in written.items()]
        burst_batches = len({b.number for b in watcher.batches for a in b.arrivals if a.path in written})
    _report("embedded, burst of 50 files, file -> ingested + rules evaluated", latencies, burst_batches)

    assert not [b.error for b in watcher.batches if b.error]
    # a restart offers every file again (catch-up): ingest recognises them all
    again = catch_up_once(settings, batch_window_s=0.2)
    assert sum(len(b.arrivals) for b in again) == 53
    assert {s: n for b in again for s, n in b.counts().items() if n} == {"duplicate": 53}
    with open_warehouse(settings.db, read_only=True) as wh:
        per_athlete = dict(wh.query("SELECT athlete_id, count(*) FROM activities GROUP BY 1").values.tolist())
        keys = wh.query("SELECT count(*) AS n, count(DISTINCT activity_key) AS k FROM activities").iloc[0]
        statuses = dict(wh.query("SELECT status, count(*) FROM source_files GROUP BY 1").values.tolist())
    assert per_athlete == {"ana": 2 + 25, "ben": 25}
    assert keys.n == keys.k == 52
    assert statuses == {"ingested": 52}  # a byte-identical copy is recognised by its hash, not stored
    twins = [o for b in watcher.batches for o in b.outcomes if "run-010" in o.path]
    assert sorted((o.status, o.reason_code) for o in twins) == [("duplicate", "already_seen"), ("ingested", None)]
    names = [e.event for e in received]
    assert names.count("fit.file.received") == 2 + 50 + 1 + 53
    changed = {e.athlete for e in received if e.event == "athlete.data.changed"}
    assert changed == {"ana", "ben"}
    assert len(watcher.batches) < 53, "files that arrive together must share flow runs"


def test_file_to_alert_latency(settings, drop):
    """A volume spike dropped into the inbox raises alerts with no command run."""
    from tendon_pipeline.examples.generate import AthleteProfile, _file_names, volume_spike, write_activity

    today = date.today()
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=6)
    specs = volume_spike(AthleteProfile(athlete_id="dan"), monday, weeks=6)
    spike_week = monday + timedelta(weeks=5)
    folder = settings.inbox / "dan"
    folder.mkdir(parents=True)
    history = [(n, s) for n, s in zip(_file_names(specs), specs) if s.start_utc.date() < spike_week]
    spike = [(n, s) for n, s in zip(_file_names(specs), specs) if s.start_utc.date() >= spike_week]
    for name, spec in history:
        write_activity(folder / name, spec)
    alerts: list[tuple[float, events.PipelineEvent]] = []
    outbox = settings.db.parent / "notifications.jsonl"  # what the deliveries have written so far
    sent_at_alert: list[int] = []

    def on_alert(event: events.PipelineEvent) -> None:
        if event.event == "alert.raised":
            alerts.append((time.time(), event))
            sent_at_alert.append(len(outbox.read_text().splitlines()) if outbox.exists() else 0)

    events.subscribe(on_alert)
    watcher = folder_watcher(settings, batch_window_s=0.5)
    with watcher:
        assert watcher.wait_ready(30) and watcher.wait_idle(120)
        before = len(alerts)
        written = {}
        for name, spec in spike:
            written[folder / name] = time.time()
            write_activity(folder / name, spec)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(_finished_at(watcher)) < len(history) + len(spike):
            time.sleep(0.1)
        assert watcher.wait_idle(120)
    new = alerts[before:]
    rules = {e.payload["rule"] for _, e in new}
    assert "weekly_volume_increase" in rules, rules
    assert len({e.id for _, e in alerts}) == len(alerts), "each alert.raised is emitted once"
    # announced as soon as the evaluation committed, before the batch's deliveries were written
    assert sent_at_alert[before] < len(outbox.read_text().splitlines()), (sent_at_alert, outbox.read_text())
    first_write = min(written.values())
    to_alert = [t - first_write for t, _ in new]
    finished = _finished_at(watcher)
    _report(f"embedded, spike week of {len(spike)} files, file -> ingested + evaluated",
            [finished[p] - t for p, t in written.items()],
            len({b.number for b in watcher.batches for a in b.arrivals if a.path in written}))
    print(f"[latency] embedded, file -> alert.raised event: first {min(to_alert):.2f} s, last {max(to_alert):.2f} s"
          f" ({len(new)} alerts: {sorted(rules)})")


def test_alerts_raised_by_the_start_up_catch_up_are_announced(settings, tmp_path, no_prefect_events):
    """An earlier run stored a spike week and stopped before evaluating it: the watcher's (and the
    warm worker's) catch-up at start evaluates it, and each alert it raises is an alert.raised event."""
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.examples.generate import AthleteProfile, _file_names, volume_spike, write_activity
    from tendon_pipeline.runtime.batch import catch_up_pending

    today = date.today()
    specs = volume_spike(AthleteProfile(athlete_id="ana"), today - timedelta(days=today.weekday(), weeks=6), weeks=6)
    for name, spec in zip(_file_names(specs), specs):
        write_activity(tmp_path / "stored" / name, spec)
    with open_warehouse(settings.db) as wh:
        ingest_paths(wh, settings, [tmp_path / "stored"], athlete="ana")
        assert wh.pending_evaluations("ana")
    raised = []
    events.subscribe(lambda e: raised.append(e) if e.event == events.ALERT_RAISED else None)
    with Watcher(settings, warm_up=False, recover=catch_up_pending) as watcher:
        assert watcher.wait_idle(120)
    with open_warehouse(settings.db, read_only=True) as wh:
        stored = sorted(wh.query("SELECT alert_key FROM alerts WHERE athlete_id = 'ana'").iloc[:, 0])
    assert stored, "the spike raised no alert: nothing to check"
    assert sorted(e.resource["prefect.resource.name"] for e in raised) == stored
