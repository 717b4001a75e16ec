"""Issue 17: what a one-shot command loads and starts. Behaviour, not timings (those are in
bench/latency.py): read commands and --help import no Prefect, pandas or plotly (--help, --version,
summary and files not even pydantic: no settings to validate, config/reading.py); a one-shot
ingest with no Prefect API configured runs the flow's steps directly (no Prefect import,
alerts printed and delivered), and with one configured it is a flow run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tendon_pipeline.config.reading import read_target
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.examples.generate import _file_names, example_histories, write_activity
from tendon_pipeline.orchestration.embedded import configured_api_url, one_shot_flow_run

HEAVY = ("prefect", "pandas", "plotly", "pyarrow", "fitparse", "jinja2", "pydantic")
# Run the CLI in a fresh interpreter, then print which heavy top-level packages it imported.
PROBE = ("import json, sys\n"
         "from tendon_pipeline.cli import main\n"
         "code = main(sys.argv[1:])\n"
         f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
         "print('\\n@@' + json.dumps({'code': code, 'heavy': heavy}))\n")


def probe(*args: str, env: dict[str, str]) -> tuple[dict, str, str]:
    full = {k: v for k, v in {**os.environ, **env}.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=full, timeout=240)
    out, _, tail = done.stdout.rpartition("\n@@")
    assert tail, done.stderr
    return json.loads(tail), out, done.stderr


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A fresh home, and no Prefect API: neither in the environment nor in a profile."""
    return {"TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "PREFECT_HOME": str(tmp_path / "prefect")}


@pytest.fixture(scope="module")
def spike_week(tmp_path_factory) -> tuple[list[Path], list[Path]]:
    """ben's example history (spikes at the end): (all but the newest week's runs, those runs).
    Written once for the module: the tests only read them."""
    end = date(2025, 6, 2)
    specs = example_histories(weeks=6, end=end)["ben"]
    folder = tmp_path_factory.mktemp("spike") / "files"
    paths = [write_activity(folder / name, spec) for name, spec in zip(_file_names(specs), specs)]
    newest = [p for p, s in zip(paths, specs) if s.sport == "running" and (end - s.local_start.date()).days <= 7]
    return [p for p in paths if p not in newest], newest


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["ingest", "--help"], ["watch", "--help"]])
def test_help_and_version_import_nothing_heavy(env, args):
    result, out, err = probe(*args, env=env)
    assert result == {"code": 0, "heavy": []}, err
    assert out.strip()


def test_one_shot_ingest_without_a_prefect_api_runs_the_steps_directly(env, spike_week, tmp_path):
    history, newest = spike_week
    first, out, err = probe("ingest", "--athlete", "ben", *map(str, history), env=env)
    assert first["code"] == 0, err
    # a history from 2025: its alerts are stored, but older than notify.max_age_days, so not sent: said so
    counts = re.search(r"(\d+) new alert\(s\), (\d+) of them dated before \S+ \(notify.max_age_days = 14\): "
                       r"stored, not sent", out)
    assert counts and int(counts[1]) == int(counts[2]) > 0, out
    result, out, err = probe("ingest", "--athlete", "ben", *map(str, newest), env=env)
    assert result["code"] == 0, err
    assert "prefect" not in result["heavy"]  # no ephemeral API started, not even imported
    assert f"{len(newest)} ingested" in out
    assert "new alert(s)" in out and not out.count("0 new alert(s)")
    assert "delivered" in out  # the console notifier and the outbox file, in the same command
    outbox = Path(env["TENDON_HOME"]) / "notifications.jsonl"
    assert outbox.exists() and outbox.read_text().strip()

    for command in (["alerts", "--athlete", "ben"], ["plan", "--athlete", "ben"], ["summary"], ["files"]):
        read, text, err = probe(*command, env=env)
        assert read["code"] == 0, err
        assert text.strip()
        assert not {"prefect", "plotly", "fitparse", "jinja2"} & set(read["heavy"]), (command, read["heavy"])
        if command[0] in ("summary", "files"):  # no config file, no setting in the environment: nothing to
            assert read["heavy"] == [], (command, read["heavy"])  # validate, so no pydantic either


@pytest.mark.prefect
def test_flow_runs_always_makes_the_one_shot_ingest_a_flow_run(env, spike_week):
    _, newest = spike_week
    # the xdist worker's Prefect home (conftest: no API configured), not a fresh one: the local API's
    # database is then created once per worker, not once more for this test
    shared = {k: v for k, v in env.items() if k != "PREFECT_HOME"} | {"TENDON_FLOW_RUNS": "always"}
    result, out, err = probe("ingest", "--athlete", "ben", *map(str, newest), env=shared)
    assert result["code"] == 0, err
    assert "prefect" in result["heavy"]
    assert f"{len(newest)} ingested" in out


def test_configured_api_url_reads_the_environment_then_the_active_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    assert configured_api_url() is None  # no profiles file: Prefect would start its ephemeral API
    (tmp_path / "profiles.toml").write_text(
        'active = "server"\n[profiles.ephemeral]\n'
        '[profiles.server]\nPREFECT_API_URL = "http://127.0.0.1:4200/api"\n')
    assert configured_api_url() == "http://127.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_PROFILE", "ephemeral")
    assert configured_api_url() is None
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert configured_api_url() == "http://prefect.example:4200/api"


def test_one_shot_flow_run_follows_the_api_and_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    settings = load_settings(db=tmp_path / "w.duckdb")
    assert settings.flow_runs == "auto" and not one_shot_flow_run(settings)
    assert one_shot_flow_run(settings.model_copy(update={"flow_runs": "always"}))
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert one_shot_flow_run(settings)


# -- config/reading.py: the warehouse a read command opens, as the settings give it ---------------------------
@pytest.fixture
def no_settings(tmp_path, monkeypatch):
    """No config file and no TENDON_* variable but TENDON_HOME (the defaults, in a fresh home)."""
    for key in [k for k in os.environ if k.upper().startswith("TENDON_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    return tmp_path


@pytest.mark.parametrize("env, db", [({}, None), ({}, "~/w.duckdb"), ({"TENDON_DB": "~/env.duckdb"}, None),
                                     ({"tendon_db": "/data/lower.duckdb"}, None),
                                     ({"TENDON_DB": "/data/env.duckdb"}, "/data/option.duckdb")])
def test_read_target_without_settings_to_validate_is_what_the_settings_give(no_settings, monkeypatch, env, db):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    target = read_target(None, db=db)
    assert target == load_settings(None, db=db).read_target
    assert target.busy_wait_s == 30.0 and str(target.location).endswith(".duckdb")


def _settings_given(home, monkeypatch, config: str | None, env: dict[str, str]):
    """A config file holding ``config`` (None: no file) and ``env`` in the environment; the file's path."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if config is None:
        return None
    path = home / "config.toml"
    path.write_text(config)
    return path


@pytest.mark.parametrize("config, env, location", [
    ('db = "~/from-file.duckdb"\n[warehouse]\nbusy_wait_s = 4\n', {}, "user/from-file.duckdb"),
    ('db = "/data/file.duckdb"\n', {"TENDON_DB": "/data/env-wins.duckdb", "TENDON_WAREHOUSE__BUSY_WAIT_S": "7"},
     "/data/env-wins.duckdb"),
    (None, {"TENDON_WAREHOUSE__BUSY_WAIT_S": "2.5"}, "home/warehouse.duckdb"),
])
def test_read_target_with_a_config_file_or_a_setting_in_the_environment_is_the_settings(
        no_settings, monkeypatch, config, env, location):
    path = _settings_given(no_settings, monkeypatch, config, env)
    target = read_target(path)
    assert target == load_settings(path).read_target
    assert str(target.location).endswith(location)
    assert target.busy_wait_s == float(env.get("TENDON_WAREHOUSE__BUSY_WAIT_S", 4 if config and "busy" in config
                                               else 30))


@pytest.mark.parametrize("config, env", [('max_file_mb = "lots"\n', {}), (None, {"TENDON_MAX_FILE_MB": "lots"}),
                                         (None, {"tendon_warehouse__url": "postgres:dbname=x"})])
def test_read_target_refuses_a_wrong_setting_as_every_command_does(no_settings, monkeypatch, config, env):
    path = _settings_given(no_settings, monkeypatch, config, env)
    with pytest.raises(ConfigError, match="max_file_mb|warehouse.url"):
        read_target(path)


# -- a bulk one-shot ingest: workers forked from a small process, decoding while it imports ------

FORK_POINT = """
import sys
import tendon_pipeline.cli.main, tendon_pipeline.config.settings, tendon_pipeline.runtime.batch
before_fork = 'pandas' in sys.modules
from tendon_pipeline.app.ingest.decision import decode_job
decoded = decode_job(open(sys.argv[1], 'rb').read())
print(before_fork, 'pandas' in sys.modules, type(decoded).__name__)
"""


def test_the_decode_workers_are_forked_before_pandas_and_decode_without_it(spike_week):
    """What a one-shot ingest has imported when it forks its decode workers (after the settings and
    runtime.batch), and what decoding a file imports: no pandas (0.25 s), so the workers start
    decoding while this process imports it (its first warehouse query does: DuckDB's parameters)."""
    history, _ = spike_week
    done = subprocess.run([sys.executable, "-c", FORK_POINT, str(history[0])], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["False", "False", "Decoded"], done.stdout + done.stderr


def test_ingest_progress_times_the_run_not_the_first_batch_reported(env, spike_week):
    """The bulk path reports a batch's files at once, after writing them: the rate printed is files
    over the time since the run started (it was files over the microseconds between two reports)."""
    history, _ = spike_week
    assert len(history) >= 16  # the bulk path
    full = {k: v for k, v in {**os.environ, **env}.items() if k not in ("PREFECT_API_URL", "PREFECT_PROFILE")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tendon_pipeline.cli", "ingest", "--athlete", "ben",
                           *map(str, history)], capture_output=True, text=True, env=full, timeout=240)
    wall = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    last = re.search(rf"{len(history)}/{len(history)} files in ([\d.]+) s \(([\d.]+) files/s\)", done.stderr)
    assert last, done.stderr
    seconds, rate = float(last[1]), float(last[2])
    assert 0 < seconds <= wall
    assert rate == pytest.approx(len(history) / seconds, rel=0.1) and rate >= len(history) / wall
