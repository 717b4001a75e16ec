"""The ``tendon`` console script ends its process promptly (cli/process.py) without losing what a
normal exit gives the user: the exit code, every line of output through a pipe, atexit handlers run
once (logging, Prefect's local API, temporary directories), other threads finished first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tendon_pipeline.cli import cli
from tendon_pipeline.cli.process import GC_YOUNG_THRESHOLD

SCRIPT = """
import atexit, sys, tempfile, threading, time
atexit.register(lambda: print("atexit handler ran", flush=True))
scratch = tempfile.TemporaryDirectory()  # removed by its weakref.finalize at exit
open(sys.argv[1], "w").write(scratch.name)
if "--with-thread" in sys.argv:
    threading.Thread(target=lambda: (time.sleep(0.5), print("thread finished", flush=True))).start()
sys.argv = ["tendon", *sys.argv[sys.argv.index("--") + 1:]]
from tendon_pipeline.cli.main import run
run()
print("never printed: run() does not return")
"""


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("TENDON_", "PREFECT_API"))}
    return full | {"TENDON_HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}


def _tendon(tmp_path: Path, env: dict[str, str], *args: str, thread: bool = False) -> subprocess.CompletedProcess:
    extra = ["--with-thread"] if thread else []
    return subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "scratch"), *extra, "--", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_output_through_a_pipe_is_complete_and_atexit_handlers_run_once(tmp_path, env):
    done = _tendon(tmp_path, env, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("atexit handler ran") == 1
    assert "never printed" not in done.stdout
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ") and line.strip()]
    assert listed[-len(cli.commands):] == sorted(cli.commands)  # every command, to the last line, through the pipe
    assert not Path((tmp_path / "scratch").read_text()).exists()  # the temporary directory was removed


def test_the_exit_code_and_error_message_of_a_failed_command_are_kept(tmp_path, env):
    done = _tendon(tmp_path, env, "alerts", "--athlete", "ana")  # no warehouse yet
    assert done.returncode not in (0, None)
    assert done.stderr.startswith("error: ") and "warehouse" in done.stderr
    assert done.stdout.count("atexit handler ran") == 1


def test_a_thread_still_running_is_waited_for(tmp_path, env):
    done = _tendon(tmp_path, env, "--version", thread=True)
    assert done.returncode == 0, done.stderr
    assert "thread finished" in done.stdout and done.stdout.count("atexit handler ran") == 1
    assert done.stdout.index("thread finished") < done.stdout.index("atexit handler ran")


def test_under_a_profiler_the_exit_is_the_normal_one(tmp_path, env):
    """cProfile writes its results after the program returns: a prompt exit would lose them."""
    out = tmp_path / "profile.out"
    done = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "tendon_pipeline.cli",
                           "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "tendon" in done.stdout and out.stat().st_size > 0


BLAS = """
import atexit, os, sys
import gc
atexit.register(lambda: print("OPENBLAS_NUM_THREADS=" + os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
                              "gc young threshold", gc.get_threshold()[0], flush=True))
sys.argv = ["tendon", "--version"]
from tendon_pipeline.cli.main import run
run()
"""


@pytest.mark.parametrize(("given", "expected"), [({}, "1"), ({"OPENBLAS_NUM_THREADS": "4"}, "4"),
                                                 ({"OMP_NUM_THREADS": "2"}, "unset")])
def test_one_blas_thread_unless_the_user_chose(env, given, expected):
    """NumPy's OpenBLAS busy-waits a thread per core after start-up; the command does no linear algebra."""
    full = {k: v for k, v in env.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")} | given
    done = subprocess.run([sys.executable, "-c", BLAS], capture_output=True, text=True, env=full, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"OPENBLAS_NUM_THREADS={expected} gc young threshold {GC_YOUNG_THRESHOLD}" in done.stdout


THREAD_SHUTDOWN = """
import sys, threading
threading._register_atexit(lambda: print("drained at thread shutdown", flush=True))
sys.argv = ["tendon", "--version"]
from tendon_pipeline.cli.main import run
run()
"""


def test_work_registered_for_the_thread_shutdown_is_done(tmp_path, env):
    """Prefect drains its events and logs to its API at the interpreter's thread shutdown
    (threading._register_atexit, before the atexit handlers): a command that used it must not skip that."""
    done = subprocess.run([sys.executable, "-c", THREAD_SHUTDOWN], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "drained at thread shutdown" in done.stdout
