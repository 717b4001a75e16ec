"""Fault points: where the crash tests kill a real process at an exact step.

``TENDON_FAULT_POINT=after_store`` makes the process SIGKILL itself when it reaches
``fault_point("after_store")`` (between storing a batch and evaluating it), as a power cut
or the OOM killer would; ``after_evaluate`` kills it between the evaluation's commit and
sending. Unset (always, outside tests), a fault point does nothing.
"""

from __future__ import annotations

import os
import signal

ENV = "TENDON_FAULT_POINT"
POINTS = ("after_store", "after_evaluate")


def fault_point(name: str) -> None:
    """SIGKILL this process here when ``TENDON_FAULT_POINT`` names this point."""
    if name not in POINTS:
        raise ValueError(f"unknown fault point {name!r}")
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
