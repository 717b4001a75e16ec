"""SIGKILL the ingest at random points of a batch, restart it: every file stored exactly once,
no half-written activity, alerts once, and the warehouse opens cleanly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from tendon_pipeline.examples.generate import ActivitySpec, write_activity
from tendon_pipeline.warehouse.store import open_warehouse

FILES = 36
DURATION_S = 480  # the long run (2.6 km) at 5.4 m/s: plausible (at 240 s it was 10.8 m/s: quarantined)

INGEST_AND_EVALUATE = """
import sys
from datetime import date
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.app.evaluate import evaluate_athletes
settings = load_settings(db=sys.argv[1])
def progress(outcome, number, total):
    print("file", number, flush=True)
with open_warehouse(settings.db) as wh:
    report = ingest_paths(wh, settings, [sys.argv[2]], on_file=progress)
    print("evaluating", flush=True)
    evaluate_athletes(wh, settings, as_of=date(2026, 6, 28))
print("done", flush=True)
"""


def _inbox(root):
    start = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    for i in range(FILES):
        athlete = ("ana", "ben")[i % 2]
        km = 0.6 + 0.1 * (i % 5) + (1.6 if i == FILES - 2 else 0.0)  # one long run late: a spike alert
        spec = ActivitySpec(start_utc=start + timedelta(days=i // 2 * 2 + i % 2), distance_m=km * 1000,
                            duration_s=DURATION_S, serial_number=3_900_300_000 + i % 2)
        write_activity(root / athlete / f"run-{i:02d}.fit", spec)


def _run(db, inbox):
    return subprocess.Popen([sys.executable, "-c", INGEST_AND_EVALUATE, str(db), str(inbox)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_ingest_resumes_without_duplicates_gaps_or_half_files(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    _inbox(inbox)
    rng = random.Random(7)
    kills = 0
    for attempt in range(4):
        proc = _run(db, inbox)
        # kill at a random file, or (last attempt) while the rules are being evaluated,
        # whatever the machine's speed
        target = "evaluating" if attempt == 3 else f"file {rng.randint(1, FILES - 1)}"
        for line in proc.stdout:
            if line.strip() == target or line.startswith("evaluating"):
                time.sleep(rng.uniform(0.0, 0.2))
                break
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate()
    final = _run(db, inbox)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0 and "done" in out, err
    assert kills >= 2, "the batch finished before the kills"
    with open_warehouse(db) as wh:  # opens cleanly (WAL replayed) and migrates nothing new
        files = wh.query("SELECT status, count(*) AS n FROM source_files GROUP BY 1").values.tolist()
        per_activity = wh.query(
            "SELECT a.activity_id, (SELECT count(*) FROM records r WHERE r.activity_id = a.activity_id) AS n,"
            " (SELECT count(*) FROM sessions s WHERE s.activity_id = a.activity_id) AS s FROM activities a")
        orphans = wh.query("SELECT count(*) AS n FROM records WHERE activity_id NOT IN (SELECT activity_id FROM"
                           " activities)")
        alerts = wh.query("SELECT alert_key, count(*) AS n FROM alerts GROUP BY 1")
    assert files == [["ingested", FILES]]
    assert len(per_activity) == FILES
    assert (per_activity["n"] == DURATION_S).all() and (per_activity["s"] == 1).all()
    assert orphans.iloc[0].n == 0
    assert len(alerts) >= 1 and (alerts["n"] == 1).all()
