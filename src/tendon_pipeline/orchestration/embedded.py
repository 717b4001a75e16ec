"""Running Prefect flows on the embedded default: in-process, quiet, no server to start.

Prefect reads its logging settings at import time, so the quiet defaults are put
in the environment before Prefect is imported (explicit settings win).

Whether a one-shot command is a flow run (:func:`one_shot_flow_run`): with a Prefect API
configured, always (the run is recorded there). Without one, Prefect would start its
ephemeral local API for the run (7-20 s on a 2-core machine, for ~0.1 s of work, and
nobody can look at that run afterwards), so the command calls the same library steps
directly unless ``flow_runs = "always"``. Long-running commands start the local API once
and run every batch as a flow run.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from tendon_pipeline.config.settings import Settings

from tendon_pipeline.orchestration.reaper import reap_children_on_exit

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
    reap_children_on_exit()  # the embedded API (a child process) must not outlive this process
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow(**parameters)


def configured_api_url() -> str | None:
    """The Prefect API this process would report to: ``PREFECT_API_URL``, else the active
    Prefect profile's (``PREFECT_PROFILE`` or the profiles file's ``active``), read as TOML so
    that deciding costs no Prefect import. None: Prefect would start its ephemeral API."""
    url = os.environ.get("PREFECT_API_URL", "").strip()
    if url:
        return url
    home = Path(os.environ.get("PREFECT_HOME") or "~/.prefect").expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        profiles = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # no profiles file (Prefect's defaults: no API URL); a broken one: Prefect reports it
    name = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    value = profiles.get("profiles", {}).get(name, {}).get("PREFECT_API_URL")
    return str(value).strip() or None if value else None


def one_shot_flow_run(settings: Settings) -> bool:
    """Run a one-shot command as a Prefect flow run? Yes with an API configured or
    ``flow_runs = "always"``; otherwise its steps are called directly."""
    return settings.flow_runs == "always" or configured_api_url() is not None
