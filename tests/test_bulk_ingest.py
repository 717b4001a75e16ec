"""The bulk ingest path (decode processes, batched writes) gives exactly what file-by-file ingest gives,
resumes after SIGKILL without duplicates, gaps or half-written activities, and falls back file by file."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import tendon_pipeline.app.ingest.bulk as ingest_module
import tendon_pipeline.app.ingest.decision as decision_module
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.examples.generate import ActivitySpec, write_activity, write_settings_file
from tendon_pipeline.warehouse.store import Warehouse, open_warehouse

START = datetime(2026, 1, 5, 6, 30, tzinfo=UTC)


def _run(path: Path, i: int, duration_s: int = 120) -> Path:
    spec = ActivitySpec(start_utc=START + timedelta(hours=13 * i), distance_m=400.0 + 10 * (i % 7),
                        duration_s=duration_s, serial_number=3_900_500_000 + i % 3)
    return write_activity(path, spec)


def _half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


@pytest.fixture(scope="module")
def mixed_inbox(tmp_path_factory) -> Path:
    """~60 files in one batch: good runs, same bytes twice, a cut copy before and one after its complete
    copy, a quarantined and a not-an-activity file, and a runner nobody owns (no athlete)."""
    root = tmp_path_factory.mktemp("bulk") / "inbox"
    folder = root / "ana"
    for i in range(52):
        _run(folder / f"run-{i:02d}.fit", i)
    data = (folder / "run-03.fit").read_bytes()
    (folder / "run-03-copy.fit").write_bytes(data)  # same bytes, another name
    complete = (folder / "run-10.fit").read_bytes()
    (folder / "run-09z-cut.fit").write_bytes(complete[: len(complete) * 2 // 3])  # cut copy read first
    (folder / "run-11z-cut.fit").write_bytes(_half(folder / "run-11.fit"))  # after the complete
    (folder / "run-20-cut-twice-a.fit").write_bytes(_half(folder / "run-20.fit"))  # read before run-20.fit
    (folder / "run-20-cut-twice-b.fit").write_bytes(_half(folder / "run-20.fit"))
    (folder / "zz-notes.fit").write_text("training notes, not a FIT file\n")
    (folder / "zz-notes-again.fit").write_text("training notes, not a FIT file\n")
    write_settings_file(folder / "zz-settings.fit")
    _run(root / "nobody.fit", 99)  # directly under the root: no athlete folder
    return root


def _state(wh: Warehouse) -> dict:
    files = wh.query("SELECT file_hash, status, reason_code, activity_id, athlete_id FROM source_files ORDER BY 1")
    per_activity = wh.query(
        "SELECT a.activity_id, a.salvaged, a.file_hash,"
        " (SELECT count(*) FROM records r WHERE r.activity_id = a.activity_id) AS records,"
        " (SELECT count(*) FROM laps l WHERE l.activity_id = a.activity_id) AS laps,"
        " (SELECT count(*) FROM sessions s WHERE s.activity_id = a.activity_id) AS sessions"
        " FROM activities a ORDER BY 1")
    athletes = wh.query("SELECT athlete_id, body_mass_kg, height_m, body_mass_source FROM athletes ORDER BY 1")
    return {"counts": wh.table_counts(), "files": _rows(files), "activities": _rows(per_activity),
            "athletes": _rows(athletes), "rows": _contents(wh)}


STORED_TABLES = ("athletes", "source_files", "file_offers", "activities", "sessions", "laps", "records",
                 "strength_sets", "pending_evaluations")
WRITTEN_WHEN = {"created_at", "first_seen_at", "ingested_at", "ingest_id", "offered_at", "since"}  # differ per run


def _contents(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every stored row of every table the ingest writes, every column but when it was written; of
    pending_evaluations the athletes (a batch writes one row per athlete, file by file one per file)."""
    out = {}
    for table in STORED_TABLES:
        columns = [r[0] for r in wh.con.execute(f"DESCRIBE {table}").fetchall() if r[0] not in WRITTEN_WHEN]
        if table == "pending_evaluations":
            columns = ["DISTINCT athlete_id"]
        out[table] = wh.con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY ALL").fetchall()
    return out


def _assert_same_rows(got: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> None:
    for table in STORED_TABLES:  # table by table: a failure names the table and its first differing row
        assert len(got[table]) == len(expected[table]), table
        for row, want in zip(got[table], expected[table]):
            assert row == want, table


def _rows(frame) -> list[list]:
    return frame.astype(object).where(frame.notna(), None).values.tolist()


def _outcomes(report) -> list[tuple]:
    return [(Path(o.path).name, o.status, o.reason_code, o.reason, o.activity_id, o.athlete_id)
            for o in report.outcomes]


def _ingest(settings, db: Path, paths, *, workers: int, bulk: bool, monkeypatch, batch_files: int | None = None):
    with monkeypatch.context() as m:
        m.setattr(ingest_module, "BULK_MIN_FILES", 16 if bulk else 10**9)
        if batch_files:
            m.setattr(ingest_module, "BATCH_FILES", batch_files)
        s = settings.model_copy(update={"ingest_workers": workers, "db": db})
        with open_warehouse(db) as wh:
            report = ingest_paths(wh, s, paths)
            return report, _state(wh)


@pytest.fixture(scope="module")
def sequential(mixed_inbox, tmp_path_factory):
    """The reference: the same files through the file-by-file path."""
    mp = pytest.MonkeyPatch()
    try:
        from tendon_pipeline.config.settings import load_settings
        db = tmp_path_factory.mktemp("seq") / "w.duckdb"
        return _ingest(load_settings(db=db), db, [mixed_inbox], workers=1, bulk=False, monkeypatch=mp)
    finally:
        mp.undo()


def test_bulk_with_two_workers_equals_file_by_file(settings, tmp_path, mixed_inbox, sequential, monkeypatch):
    report, state = _ingest(settings, tmp_path / "w.duckdb", [mixed_inbox], workers=2, bulk=True,
                            monkeypatch=monkeypatch)
    seq_report, seq_state = sequential
    assert _outcomes(report) == _outcomes(seq_report)
    assert state == seq_state
    counts = report.counts()
    assert counts == {"ingested": 52, "salvaged": 2, "duplicate": 4, "skipped": 2, "quarantined": 1}
    by_name = {Path(o.path).name: o for o in report.outcomes}
    assert by_name["run-03.fit"].reason == "file already seen (ingested)"
    assert (by_name["zz-notes.fit"].status, by_name["zz-notes.fit"].reason_code) == ("duplicate", "already_seen")
    assert by_name["nobody.fit"].reason_code == "no_athlete"
    assert by_name["zz-settings.fit"].reason_code == "not_activity"
    superseded = [f for f in state["files"] if f[2] == "superseded"]
    assert len(superseded) == 2 and not any(a[1] for a in state["activities"])  # complete copies won


def test_small_batches_in_process_equal_file_by_file(settings, tmp_path, mixed_inbox, sequential, monkeypatch):
    """Duplicates and salvaged copies across batch boundaries, decoding in this process."""
    report, state = _ingest(settings, tmp_path / "w.duckdb", [mixed_inbox], workers=1, bulk=True,
                            monkeypatch=monkeypatch, batch_files=5)
    assert _outcomes(report) == _outcomes(sequential[0])
    assert state == sequential[1]


def test_a_failing_batch_write_falls_back_to_file_by_file(settings, tmp_path, mixed_inbox, sequential, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ValueError("an odd file the batch insert cannot take")

    monkeypatch.setattr(Warehouse, "store_batch", broken)
    report, state = _ingest(settings, tmp_path / "w.duckdb", [mixed_inbox], workers=1, bulk=True,
                            monkeypatch=monkeypatch, batch_files=7)
    assert _outcomes(report) == _outcomes(sequential[0])
    assert state == sequential[1]


def test_a_rerun_decodes_nothing_and_changes_nothing(settings, tmp_path, mixed_inbox, monkeypatch):
    db = tmp_path / "w.duckdb"
    _, first = _ingest(settings, db, [mixed_inbox], workers=1, bulk=True, monkeypatch=monkeypatch)

    def no_decoding(data):
        raise AssertionError("a seen file was decoded again")

    monkeypatch.setattr(decision_module, "decode_job", no_decoding)
    quarantined_twice = {"zz-notes.fit", "zz-notes-again.fit", "nobody.fit"}  # re-checked, as file by file
    paths = [p for p in mixed_inbox.rglob("*.fit") if p.name not in quarantined_twice]
    report, again = _ingest(settings, db, paths, workers=2, bulk=True,
                            monkeypatch=monkeypatch)
    assert set(report.counts().items()) >= {("duplicate", len(paths))}
    assert again == first


# -- the corpus and generated weeks: the same rows through the batched columns as file by file -----

YEAR_WEEKS = 8  # the shapes (heart rate, dynamics, power, calf-raise sets, a 4-week cycle), not the size


def _year(folder: Path, weeks: int = YEAR_WEEKS) -> None:
    """Weeks of one runner's smart-recorded files (heart rate, running dynamics, power, calf-raise sets):
    4 runs and 1 strength session a week, as the latency bench generates its year. The size is the bench's
    business (bench/latency.py); here every kind of row has to come out the same, so two cycles of the
    4-week volume pattern do."""
    from tendon_pipeline.examples.generate import AthleteProfile, _file_names, weekly_plan_history

    profile = AthleteProfile(athlete_id="runner", body_mass_kg=70.0, cadence_spm=170.0, serial_number=3_900_000_555,
                             easy_pace_s_per_km=330.0, running_dynamics=True, with_power=True, smart_recording=True)
    specs = weekly_plan_history(profile, [30.0 + 2.5 * (w % 4) for w in range(weeks)], datetime(2024, 6, 3).date(),
                                runs_per_week=4, strength_per_week=1, seed=7)
    for name, spec in zip(_file_names(specs), specs):
        write_activity(folder / name, spec)


@pytest.mark.corpus
def test_corpus_and_generated_weeks_store_the_same_rows_in_bulk_as_file_by_file(settings, tmp_path, corpus_dir,
                                                                        monkeypatch):
    """Every column of every row, the bulk writer (a batch's decoded columns concatenated, one INSERT per
    table) against store_activity (the activity's own pandas frames), over every real-device file (damaged
    ones included) and generated weeks with strength sets, in several batches."""
    inbox = tmp_path / "inbox"
    (inbox / "ana").mkdir(parents=True)
    for path in corpus_dir.glob("*.fit"):
        (inbox / "ana" / path.name).write_bytes(path.read_bytes())
    _year(inbox / "runner")
    bulk_report, bulk_state = _ingest(settings, tmp_path / "bulk.duckdb", [inbox], workers=2, bulk=True,
                                      monkeypatch=monkeypatch, batch_files=16)
    one_report, one_state = _ingest(settings, tmp_path / "one.duckdb", [inbox], workers=1, bulk=False,
                                    monkeypatch=monkeypatch)
    assert _outcomes(bulk_report) == _outcomes(one_report)
    rows = bulk_state["rows"]
    assert len(rows["activities"]) > 60 and len(rows["records"]) > 100_000 and len(rows["strength_sets"]) > 50
    assert any(r[4] == "salvaged" for r in rows["source_files"]) and any(r[4] == "quarantined"
                                                                          for r in rows["source_files"])
    _assert_same_rows(rows, one_state["rows"])


# -- SIGKILL during a bulk ingest, then restart ------------------------------------------------

FILES = 72
DURATION_S = 300
BULK_INGEST = """
import sys
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse
import tendon_pipeline.app.ingest as ingest
import tendon_pipeline.app.ingest.bulk as bulk
bulk.BATCH_FILES = 10
settings = load_settings(db=sys.argv[1]).model_copy(update={"ingest_workers": 2})
def progress(outcome, number, total):
    print("file", number, flush=True)
with open_warehouse(settings.db) as wh:
    report = ingest.ingest_paths(wh, settings, [sys.argv[2]], on_file=progress)
print("done", report.counts(), flush=True)
"""


def test_killed_bulk_ingest_resumes_without_duplicates_gaps_or_half_files(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    for i in range(FILES):
        _run(inbox / ("ana", "ben")[i % 2] / f"run-{i:03d}.fit", i, duration_s=DURATION_S)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENDON_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), TENDON_HOME=str(tmp_path / "home"))
    rng = random.Random(11)
    kills = 0
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", BULK_INGEST, str(db), str(inbox)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        kill_after = rng.randint(1, FILES // 2)  # files reported (the writer is mid-batch), whatever the speed
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("file") and int(line.split()[1]) >= kill_after:
                time.sleep(rng.uniform(0.0, 0.3))
                break
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the ingest and its decode workers, all at once
            kills += 1
        lines += proc.communicate()[0].splitlines()
        reported = max(int(line.split()[1]) for line in lines if line.startswith("file"))
        with open_warehouse(db) as wh:
            kept = wh.one("SELECT count(*) FROM source_files")[0]
        # a file is reported once its batch is committed; a batch is all or nothing: what the kill
        # lost (to be done again) is at most the batch being written, the reported files never
        assert reported <= kept <= reported + 10 or kept == FILES, (reported, kept)
    final = subprocess.run([sys.executable, "-c", BULK_INGEST, str(db), str(inbox)], env=env,
                           capture_output=True, text=True, timeout=300)
    assert final.returncode == 0 and "done" in final.stdout, final.stderr
    assert kills >= 1, "the ingest finished before any kill"
    with open_warehouse(db) as wh:
        files = wh.query("SELECT status, count(*) AS n FROM source_files GROUP BY 1").values.tolist()
        per_activity = wh.query(
            "SELECT (SELECT count(*) FROM records r WHERE r.activity_id = a.activity_id) AS n,"
            " (SELECT count(*) FROM sessions s WHERE s.activity_id = a.activity_id) AS s FROM activities a")
        orphans = wh.query("SELECT count(*) AS n FROM records WHERE activity_id NOT IN (SELECT activity_id FROM"
                           " activities)")
        hashes = set(wh.query("SELECT file_hash FROM source_files").file_hash)
    assert files == [["ingested", FILES]]
    assert len(per_activity) == FILES
    assert (per_activity["n"] == DURATION_S).all() and (per_activity["s"] == 1).all()
    assert orphans.iloc[0].n == 0
    assert hashes == {hashlib.sha256(p.read_bytes()).hexdigest() for p in inbox.rglob("*.fit")}


# -- a one-shot ingest forks its decode workers ------------------------------------------------

ONE_SHOT = """
import sys
import tendon_pipeline.app.ingest.bulk as bulk
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.runtime.batch import run_batch

def spawned(workers):
    raise SystemExit(f"{workers} decode workers were spawned (a fresh interpreter each), not forked")

bulk._start_pool = spawned
settings = load_settings(db=sys.argv[1]).model_copy(update={"ingest_workers": 2})
result = run_batch([sys.argv[2]], settings, flow_run=False)
print("done, ingested:", result.ingest.counts().get("ingested"), flush=True)
"""


def test_one_shot_ingest_forks_its_decode_workers(tmp_path):
    """The direct one-shot path (no Prefect API) starts the child reaper, a thread: it must start after
    the decode workers are forked, or every worker is spawned, importing pandas for about a second."""
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    for i in range(ingest_module.BULK_MIN_FILES):
        _run(inbox / "ana" / f"run-{i:02d}.fit", i)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENDON_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), TENDON_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", ONE_SHOT, str(db), str(inbox)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0 and "done" in done.stdout, done.stdout + done.stderr
    assert f"done, ingested: {ingest_module.BULK_MIN_FILES}\n" in done.stdout


# -- a one-shot ingest decodes its first files before the warehouse is open ------------------------

EARLY = """
import json, sys
import tendon_pipeline.app.ingest.bulk as bulk
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.runtime.batch import run_batch

decode_early = bulk.DecodeWorkers.decode_early

def counted(self, sources, max_file_mb):
    decode_early(self, sources, max_file_mb)
    print("early jobs:", len(self.early), flush=True)

bulk.DecodeWorkers.decode_early = counted
settings = load_settings(db=sys.argv[1]).model_copy(update={"ingest_workers": 2})
result = run_batch([sys.argv[2]], settings, flow_run=False)
print("@@" + json.dumps([[o.path, o.status, o.reason_code, o.reason, o.activity_id, o.athlete_id]
                         for o in result.ingest.outcomes]))
"""


def _one_shot_early(db: Path, inbox: Path, tmp_path: Path) -> tuple[int, list[tuple]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TENDON_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), TENDON_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, "-c", EARLY, str(db), str(inbox)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    early = int(done.stdout.split("early jobs:")[1].split()[0])
    outcomes = [(Path(path).name, *rest) for path, *rest in json.loads(done.stdout.split("@@")[1])]
    return early, outcomes


def test_decoding_before_the_warehouse_is_open_stores_what_file_by_file_stores(tmp_path, mixed_inbox, sequential):
    """The one-shot path starts decoding the first files (by content: same bytes twice, one job) before
    the warehouse says which it has seen; each file then gets the same decision as file by file. A rerun
    drops those jobs for the files it has seen: every file a duplicate, nothing changed."""
    db = tmp_path / "w.duckdb"
    early, outcomes = _one_shot_early(db, mixed_inbox, tmp_path)
    files = len(list(mixed_inbox.rglob("*.fit")))
    assert 0 < early < files  # same bytes twice: one job
    assert outcomes == _outcomes(sequential[0])
    with open_warehouse(db, read_only=True) as wh:
        first = _state(wh)
    # the same rows, but the evaluation queue: the one-shot path evaluated what it stored (emptied it)
    assert first["rows"].pop("pending_evaluations") == []
    expected = {**sequential[1], "rows": {t: r for t, r in sequential[1]["rows"].items() if t != "pending_evaluations"}}
    _assert_same_rows({**first["rows"], "pending_evaluations": []}, {**expected["rows"], "pending_evaluations": []})
    assert {k: v for k, v in first.items() if k not in ("rows", "counts")} == \
        {k: v for k, v in expected.items() if k not in ("rows", "counts")}

    early, again = _one_shot_early(db, mixed_inbox, tmp_path)
    assert early > 0
    quarantined_again = {"zz-notes.fit", "zz-notes-again.fit", "nobody.fit"}  # re-checked, as file by file
    assert {o[1] for o in again if o[0] not in quarantined_again} == {"duplicate"}
    with open_warehouse(db, read_only=True) as wh:
        again_state = _state(wh)
    again_state["rows"].pop("pending_evaluations")
    assert again_state == first
