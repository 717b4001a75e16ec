"""``watch`` and ``serve-api`` as commands: a real subprocess stopped by SIGTERM, and --once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tendon_pipeline.cli import cli
from tendon_pipeline.errors import TendonError, WarehouseError
from tendon_pipeline.warehouse.store import open_warehouse

pytestmark = pytest.mark.prefect


def _activities(db) -> int | None:
    """Read-only count, None while the watcher holds the file (DuckDB's lock) or before it exists."""
    try:
        with open_warehouse(db, read_only=True) as wh:
            return int(wh.query("SELECT count(*) FROM activities").iloc[0, 0])
    except (WarehouseError, TendonError):
        return None


def test_watch_command_catches_up_processes_drops_and_stops_on_sigterm(tmp_path, drop, wait):
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    drop(inbox / "ana" / "before.fit", 1)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"),  # PREFECT_HOME: the worker's (migrated)
           "TENDON_HOME": str(tmp_path / "home")}
    log = (tmp_path / "watch.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "tendon_pipeline.cli", "--db", str(db), "watch",
                             str(inbox), "--batch-window", "0.2"], stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait(lambda: _activities(db) == 1, timeout=180, interval=0.3)
        drop(inbox / "ana" / "after.fit", 2)
        wait(lambda: _activities(db) == 2, timeout=60, interval=0.3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    log.seek(0)
    output = log.read()
    assert "watching" in output and output.rstrip().endswith("stopped"), output
    assert "1 ingested" in output


def test_watch_once_processes_what_is_there_and_exits(tmp_path, drop, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))  # nothing from or to the user's own folders
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    for n in range(3):
        drop(inbox / "ben" / f"{n}.fit", 10 + n)
    drop(inbox / "ben" / ".partial.fit", 20)
    result = CliRunner().invoke(cli, ["--db", str(db), "watch", str(inbox), "--once"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "caught up: 3 files" in result.output, result.output
    assert _activities(db) == 3
    again = CliRunner().invoke(cli, ["--db", str(db), "watch", str(inbox), "--once"])
    assert again.exit_code == 0 and "3 duplicate" in again.output, again.output
    assert _activities(db) == 3


def test_serve_api_refuses_to_start_without_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "w.duckdb"), "serve-api", "--port", "0"])
    assert isinstance(result.exception, TendonError) and "no upload tokens" in str(result.exception)


def test_serve_and_serve_api_take_the_same_server_options():
    """One decorator (cli/sources.upload_server_options) for both: names, defaults and types alike."""
    def options(name):
        return {p.name: (tuple(p.opts), p.default, p.type.name) for p in cli.commands[name].params}

    assert options("serve") == options("serve-api")
    assert set(options("serve")) == {"host", "port", "watch_folder", "land_only", "verbose"}


@pytest.mark.parametrize("command", ["serve", "serve-api"])
def test_land_only_servers_leave_the_warehouse_to_the_watcher(command, tmp_path, monkeypatch):
    """With --land-only a separate `tendon watch` owns the warehouse: neither server catches up
    pending evaluations at start (`serve` did, and would contend for the watcher's lock)."""
    from tendon_pipeline.runtime.watch import Watcher

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("TENDON_HOME", str(tmp_path / "home"))
    config = tmp_path / "tendon.toml"
    config.write_text('[[upload.tokens]]\nathlete = "ana"\ntoken = "a-long-random-upload-token"\n')
    started: list[Watcher] = []
    monkeypatch.setattr(Watcher, "run_forever", lambda self: started.append(self))  # do not block
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "w.duckdb"), command,
                                      "--port", "0", "--land-only"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(started) == 1 and started[0].recover is None
    assert not (tmp_path / "w.duckdb").exists()
