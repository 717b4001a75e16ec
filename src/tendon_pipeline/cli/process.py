"""How the ``tendon`` command sets up its process and ends it.

The command is a short process on a small machine (a one-shot ingest of a year of files is about
a second and a half on 2 cores), so what the interpreter and NumPy do by default for long-lived
programs shows: :func:`prepare_process` before anything is imported, :func:`exit_promptly` at the
end. The library itself (imported by a notebook, a flow, a test) changes none of this.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import NoReturn

# Young objects between two collections of the youngest generation (Python's default: 700). A bulk
# ingest creates objects by the hundred thousand (decoded columns, rows, pandas): at 700 the
# collector ran ~250 times and twice over every object in the process, ~0.1 s of a year's ingest;
# at 10,000, ~20 times and ~0.05 s. Python 3.13 itself raised its default to 2,000.
GC_YOUNG_THRESHOLD = 10_000


def prepare_process() -> None:
    """Before the command imports NumPy: its bundled OpenBLAS starts a thread per core that
    busy-waits for work after start-up (~0.1 s of a core, measured, in every command that imports
    NumPy), and the command does no linear algebra; so one BLAS thread unless the user set
    ``OPENBLAS_NUM_THREADS`` (or ``OMP_NUM_THREADS``) themselves. And the collector's young
    threshold (``GC_YOUNG_THRESHOLD``)."""
    if "OPENBLAS_NUM_THREADS" not in os.environ and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def exit_promptly(code: int) -> NoReturn:
    """End the process with ``code`` after what a normal exit does for the user, in the same
    order: the work registered for the interpreter's thread shutdown (``threading._shutdown``:
    Prefect drains its queue of events and logs to its API there), other (non-daemon) threads
    waited for, the ``atexit`` handlers (logging flushed, Prefect's local API stopped,
    ``weakref.finalize`` clean-ups such as temporary directories), stdout and stderr flushed.

    What it skips is the interpreter tearing down every module's objects one by one (pandas,
    DuckDB, Arrow: about 0.1 s of every command on a 2-core machine), which writes nothing the
    user can see: by then each command has closed its warehouse and files (context managers).
    The exit is the normal one under a profiler or a tracer (``python -m cProfile``, a
    debugger), which writes its results after the program returns, and on a Python without
    ``threading._shutdown``.
    """
    thread_shutdown = getattr(threading, "_shutdown", None)
    if thread_shutdown is None or sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)
    thread_shutdown()  # as the interpreter does first at exit: threading atexit work, then other threads
    atexit._run_exitfuncs()  # runs each handler once and unregisters it
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe (`tendon alerts | head`): let Python report it as usual
        sys.exit(code)
    os._exit(code)
