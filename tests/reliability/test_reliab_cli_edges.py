"""Issue 14 item 6: ghost athletes, typos, dates out of range and mistyped warehouses are refused
at the command-line edge (2: usage, 3: warehouse), and nothing is written for them."""

from __future__ import annotations

import shutil

import pytest
from reliab_helpers import run_file

from tendon_pipeline.app.ingest import ingest_paths
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.store import open_warehouse

BAD_IDS = ["", "../../etc", "a" * 300]


CONFIG = '[[athletes]]\nid = "ana"\n\n[[athletes]]\nid = "cleo"\n'


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A warehouse file holding two weeks of ana's runs (built once, copied for each test)."""
    root = tmp_path_factory.mktemp("edges")
    path, inbox = root / "w.duckdb", root / "inbox"
    for day in (0, 2, 4, 7, 9):
        run_file(inbox / "ana" / f"d{day}.fit", day, distance_m=5000.0 + 200 * day)
    settings = load_settings(None, db=path, inbox=inbox)
    with open_warehouse(path) as wh:
        ingest_paths(wh, settings, [inbox])
    return path


@pytest.fixture
def db(env, template):
    """A copy of the template warehouse, and a config that lists ana and cleo (cleo has no data yet)."""
    path = env / "w.duckdb"
    shutil.copy(template, path)
    config = env / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return {"path": path, "config": config}


def _rows(path, sql: str) -> list:
    with open_warehouse(path, read_only=True) as wh:
        return wh.con.execute(sql).fetchall()


def _base(db) -> list[str]:
    return ["--config", str(db["config"]), "--db", str(db["path"])]


@pytest.mark.parametrize("command", [["status"], ["plan"], ["evaluate"], ["log", "pain", "--during", "3"],
                                     ["alerts"]])
@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_athlete_ids_are_refused_before_anything_is_written(cli, db, command, bad):
    code, out, err = cli(*_base(db), *command, "--athlete", bad)
    assert code == 2, (out, err)
    assert "not a valid athlete id" in err and "Traceback" not in err
    assert _rows(db["path"], "SELECT athlete_id FROM athletes ORDER BY 1") == [("ana",)]
    assert _rows(db["path"], "SELECT count(*) FROM plans")[0][0] == 0


@pytest.mark.parametrize("command", [["status"], ["plan"], ["evaluate"], ["log", "pain", "--during", "3"]])
def test_an_unknown_athlete_is_refused_with_what_to_do(cli, db, command):
    code, out, err = cli(*_base(db), *command, "--athlete", "anna")
    assert code == 2, (out, err)
    assert "'anna'" in err and "unknown" in err and "tendon summary" in err
    assert "'ana'" not in err and " ana" not in err  # names no other athlete (as the plan export's errors)
    assert _rows(db["path"], "SELECT count(*) FROM athletes WHERE athlete_id = 'anna'")[0][0] == 0
    assert _rows(db["path"], "SELECT count(*) FROM plans WHERE athlete_id = 'anna'")[0][0] == 0


def test_an_athlete_known_only_from_the_configuration_is_accepted(cli, db):
    code, out, err = cli(*_base(db), "log", "pain", "--athlete", "cleo", "--during", "2", "--date", "2026-03-05")
    assert code == 0, err
    assert _rows(db["path"], "SELECT athlete_id, during FROM pain_log") == [("cleo", 2)]


@pytest.mark.parametrize("command", [["status", "--athlete", "ana"], ["evaluate", "--athlete", "ana"], ["evaluate"]])
def test_as_of_in_the_future_or_before_the_data_is_refused(cli, db, command):
    code, _, err = cli(*_base(db), *command, "--as-of", "2099-12-31")
    assert code == 2 and "in the future" in err
    code, _, err = cli(*_base(db), *command, "--as-of", "2020-01-01")
    assert code == 2 and "before 'ana''s first data (2026-03-02)" in err
    assert _rows(db["path"], "SELECT count(*) FROM plans")[0][0] == 0
    code, _, err = cli(*_base(db), *command, "--as-of", "2026-03-15")
    assert code == 0, err
    if command[0] == "evaluate":  # (status only reads)
        assert _rows(db["path"], "SELECT DISTINCT week_start FROM plans")[0][0].isoformat() == "2026-03-16"


def test_a_log_dated_in_the_future_is_refused(cli, db):
    code, _, err = cli(*_base(db), "log", "pain", "--athlete", "ana", "--during", "3", "--date", "2099-01-01")
    assert code == 2 and "in the future" in err
    assert _rows(db["path"], "SELECT count(*) FROM pain_log")[0][0] == 0


@pytest.mark.parametrize("command", [["status", "--athlete", "ana"], ["evaluate"], ["notify"],
                                     ["export", "--out", "EXPORT"],
                                     ["log", "pain", "--athlete", "ana", "--during", "1"],
                                     ["maintain"], ["plan", "--athlete", "ana"]])
def test_a_mistyped_warehouse_is_refused_and_never_created(cli, db, env, command):
    typo = env / "w.duckbd"
    command = [str(env / "export") if part == "EXPORT" else part for part in command]
    code, out, err = cli("--config", str(db["config"]), "--db", str(typo), *command)
    assert code == 3, (out, err)
    assert "no warehouse at" in err and "tendon ingest" in err
    assert not typo.exists()
