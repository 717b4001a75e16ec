"""Running Prefect flows on the embedded default: in-process, quiet, no server to start.

Prefect reads its logging settings at import time, so the quiet defaults are put
in the environment before Prefect is imported (explicit settings win).
"""

from __future__ import annotations

import os
from typing import Any, Callable

QUIET_PREFECT_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    # the in-process API takes 7-20 s to start on a 2-core machine, more when it is busy
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def quiet_prefect_env() -> None:
    for key, value in QUIET_PREFECT_ENV.items():
        os.environ.setdefault(key, value)


def run_flow_embedded(flow: Callable[..., Any], **parameters: Any) -> Any:
    """Call a flow in this process with the flow heartbeat off (it costs ~1 s per run).

    With no ``PREFECT_API_URL`` Prefect serves its API in-process (ephemeral mode);
    with one set, the run is reported to that server as usual.
    """
    quiet_prefect_env()
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow(**parameters)
