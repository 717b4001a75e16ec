"""Child processes die with the process that started them, however it ends.

Prefect's embedded API runs as a child process (``uvicorn``), and the bulk ingest starts
decode workers. Prefect stops its API at a normal exit (``atexit``), but a SIGKILL, the OOM
killer or an unhandled SIGTERM skip that, and the children were left running (issue 14).

:func:`reap_children_on_exit` starts one small guardian process that holds the read end of
a pipe from this process. A thread here tells it, every ``POLL_S``, which children this
process has (pid and start time, from ``/proc``). When this process ends, in any way (the
guardian watches the process itself: a forked child, such as a decode worker, may keep the
pipe open), the guardian sends SIGTERM to each child that is still the
same process (same start time), waits up to ``GRACE_S`` and sends SIGKILL. Linux only (it
reads ``/proc``); elsewhere it does nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

POLL_S = 0.2  # how often the children are reported to the guardian
GRACE_S = 5.0  # SIGTERM, then SIGKILL after this long

_GUARDIAN = r"""
import os, select, signal, sys, time
parent, parent_start = int(sys.argv[1]), sys.argv[2]
children = {}
def alive(pid, start):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19] == start
    except (OSError, IndexError):
        return False
buffer = b""
while alive(parent, parent_start):  # a forked child may hold the pipe open: watch the parent itself
    ready, _, _ = select.select([0], [], [], 0.2)
    if ready:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            pid, start = line.split()
            children[int(pid)] = start.decode()
for sig, wait in ((signal.SIGTERM, %(grace)r), (signal.SIGKILL, 0)):
    left = [pid for pid, start in children.items() if alive(pid, start)]
    for pid in left:
        try:
            os.kill(pid, sig)
        except OSError:
            pass
    deadline = time.monotonic() + wait
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [pid for pid in left if alive(pid, children[pid])]
"""

_lock = threading.Lock()
_started_in: int | None = None  # the pid that started the guardian (a forked child starts its own)


def reap_children_on_exit() -> None:
    """Make every child process of this process die when it does (idempotent)."""
    global _started_in
    if not Path("/proc/self/task").is_dir():
        return
    with _lock:
        if _started_in == os.getpid():
            return
        guardian = subprocess.Popen(
            [sys.executable, "-S", "-c", _GUARDIAN % {"grace": GRACE_S}, str(os.getpid()),
             start_time(os.getpid()) or ""], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        _started_in = os.getpid()
    thread = threading.Thread(target=_report_children, args=(guardian,), name="tendon-child-reaper", daemon=True)
    thread.start()


def children() -> dict[int, str]:
    """This process's children: pid -> start time (clock ticks since boot, from /proc)."""
    found: dict[int, str] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            start = start_time(int(pid))
            if start is not None:
                found[int(pid)] = start
    return found


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _report_children(guardian: subprocess.Popen) -> None:
    told: dict[int, str] = {guardian.pid: start_time(guardian.pid) or ""}
    stdin = guardian.stdin
    assert stdin is not None
    stop = threading.Event()
    while not stop.wait(POLL_S):
        new = {pid: start for pid, start in children().items() if told.get(pid) != start}
        if not new:
            continue
        try:
            stdin.write("".join(f"{pid} {start}\n" for pid, start in new.items()).encode())
            stdin.flush()
        except OSError:  # the guardian is gone: nothing more to report to
            return
        told.update(new)
