"""Issue 14 item 2: `tendon activity reassign|delete ID` moves or removes an activity stored under the
wrong athlete, with both athletes' loads and alerts recomputed (alerts no longer raised withdrawn)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from reliab_helpers import run_file

from tendon_pipeline.app.evaluate import evaluate_athletes
from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """Five weeks of ana's 5 x 5 km; in week five a 21 km run that is really ben's sits in her folder.
    Built once for the module; each test changes its own copy (``db``)."""
    root = tmp_path_factory.mktemp("activity-fix")
    inbox, path = root / "inbox", root / "w.duckdb"
    for week in range(5):
        for day in (0, 1, 3, 4, 5):
            run_file(inbox / "ana" / f"w{week}d{day}.fit", 7 * week + day, distance_m=5000.0)
    run_file(inbox / "ana" / "long.fit", 7 * 4 + 6, distance_m=21000.0, duration_s=7200, serial_number=3_900_000_222)
    run_file(inbox / "ben" / "easy.fit", 3, distance_m=8000.0, serial_number=3_900_000_222)
    with pytest.MonkeyPatch.context() as mp:  # no user config or data leaks in (as the env fixture)
        mp.setenv("XDG_CONFIG_HOME", str(root / "xdg-config"))
        mp.setenv("TENDON_HOME", str(root / "home"))
        settings = load_settings(None, db=path, inbox=inbox)
        with open_warehouse(path) as wh:
            ingest_paths(wh, settings, [inbox])
            evaluate_athletes(wh, settings)
            long_id = wh.con.execute("SELECT activity_id FROM source_files WHERE path LIKE '%long.fit'").fetchone()[0]
    return {"path": path, "long": long_id}


@pytest.fixture
def db(env, built):
    """This test's copy of the built warehouse (closed, so the file is complete)."""
    path = env / "w.duckdb"
    shutil.copyfile(built["path"], path)
    return {"path": path, "long": built["long"]}


def _q(path, sql, params=None):
    with open_warehouse(path, read_only=True) as wh:
        return wh.con.execute(sql, params or []).fetchall()


def test_reassign_moves_the_run_and_recomputes_both_athletes(cli, db):
    week5 = "2026-W14"
    before = _q(db["path"], "SELECT rule, severity FROM alerts WHERE athlete_id = 'ana' AND period IN (?, ?)",
                [week5, db["long"]])
    assert ("weekly_volume_increase", "warning") in before  # 46 km after 25 km: raised by ben's run

    code, out, err = cli("--db", str(db["path"]), "activity", "reassign", db["long"], "--to", "ben")
    assert code == 0, err
    assert _q(db["path"], "SELECT athlete_id FROM activities WHERE activity_id = ?", [db["long"]]) == [("ben",)]
    loads = dict(_q(db["path"], "SELECT athlete_id, round(sum(distance_m) / 1000) FROM run_loads GROUP BY 1"))
    assert loads == {"ana": 125.0, "ben": 29.0}
    current = _q(db["path"], "SELECT rule FROM alerts WHERE athlete_id = 'ana' AND withdrawn_at IS NULL"
                             " AND period IN (?, ?)", [week5, db["long"]])
    assert current == []
    withdrawn = _q(db["path"], "SELECT withdrawn_reason FROM alerts WHERE athlete_id = 'ana' AND period IN (?, ?)",
                   [week5, db["long"]])
    assert withdrawn and all("reassigned to 'ben'" in r for (r,) in withdrawn)
    assert "withdrawn" in out
    code, out, _ = cli("--db", str(db["path"]), "alerts", "--athlete", "ana")
    assert "W14" not in out and date(2026, 3, 30).isoformat() not in out
    [(athlete, code_)] = _q(db["path"], "SELECT athlete_id, reason_code FROM source_files WHERE activity_id = ?",
                            [db["long"]])
    assert (athlete, code_) == ("ben", "reassigned")


def test_delete_removes_the_run_its_loads_and_the_alerts_it_raised(cli, db):
    code, out, err = cli("--db", str(db["path"]), "activity", "delete", db["long"])
    assert code == 0, err
    assert _q(db["path"], "SELECT count(*) FROM activities WHERE activity_id = ?", [db["long"]]) == [(0,)]
    assert _q(db["path"], "SELECT count(*) FROM run_loads WHERE activity_id = ?", [db["long"]]) == [(0,)]
    assert _q(db["path"], "SELECT status, reason_code FROM source_files WHERE activity_id = ?",
              [db["long"]]) == [("skipped", "deleted")]
    assert _q(db["path"], "SELECT count(*) FROM alerts WHERE athlete_id = 'ana' AND withdrawn_at IS NULL"
                          " AND period = '2026-W14'") == [(0,)]


def test_unknown_activities_and_athletes_are_refused(cli, db):
    code, _, err = cli("--db", str(db["path"]), "activity", "delete", "nope")
    assert code == 2 and "no activity 'nope'" in err
    code, _, err = cli("--db", str(db["path"]), "activity", "reassign", db["long"], "--to", "bne")
    assert code == 2 and "unknown athlete 'bne'" in err
    assert _q(db["path"], "SELECT athlete_id FROM activities WHERE activity_id = ?", [db["long"]]) == [("ana",)]
