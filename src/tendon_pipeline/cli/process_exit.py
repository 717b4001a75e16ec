"""How the ``tendon`` command ends its process: promptly, once everything a user relies on is done."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn


def exit_promptly(code: int) -> NoReturn:
    """End the process with ``code`` after what a normal exit does for the user: other
    (non-daemon) threads finished (while one runs: the normal exit, which waits for it), the
    ``atexit`` handlers run (logging flushed, Prefect's local API stopped, ``weakref.finalize``
    clean-ups such as temporary directories), stdout and stderr flushed.

    What it skips is the interpreter tearing down every module's objects one by one (pandas,
    DuckDB, Arrow: about 0.1 s of every command on a 2-core machine), which writes nothing the
    user can see: by then each command has closed its warehouse and files (context managers).
    Under a profiler or a tracer (``python -m cProfile``, a debugger), which writes its results
    after the program returns, the exit is the normal one.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if any(t.is_alive() for t in others) or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    atexit._run_exitfuncs()  # runs each handler once and unregisters it
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`tendon alerts | head`): let Python report it as usual
        sys.exit(code)
    os._exit(code)
