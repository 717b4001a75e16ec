"""One batch of arrived files through the whole pipeline, in process (the embedded default).

Front ends (the CLI, the folder watcher, the upload server) call :func:`run_batch`;
it runs the ``process-fit-files`` Prefect flow in this process with the heartbeat off,
or, for a one-shot command with no Prefect API configured, the same steps directly
(``orchestration.embedded.one_shot_flow_run``).
"""

from __future__ import annotations

from pathlib import Path

from tendon_pipeline.app.batch import BatchResult, process_files
from tendon_pipeline.app.ingest.discover import path_text
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.orchestration.embedded import one_shot_flow_run, run_flow_embedded
from tendon_pipeline.orchestration.reaper import reap_children_on_exit


def run_batch(paths: list[str | Path], settings: Settings, *, athlete: str | None = None,
              config: str | Path | None = None, console_to_stderr: bool = False,
              flow_run: bool | None = None, emit_events: bool = False) -> BatchResult:
    """Ingest ``paths``, evaluate the athletes they touched and notify: one flow run, or with
    ``flow_run`` False the same steps called directly (None: :func:`one_shot_flow_run` decides).
    ``emit_events``: the flow run emits ``athlete.data.changed`` and ``alert.raised`` as each step
    commits (``BatchResult.events_emitted``; the direct path leaves them to the caller)."""
    if flow_run is None:
        flow_run = one_shot_flow_run(settings)
    if not flow_run:
        # the decode workers must not outlive this process, even after a SIGKILL: the reaper (a thread)
        # starts once they are forked (a process running another thread spawns them, at a second each)
        return process_files(paths, settings, athlete=athlete, console_to_stderr=console_to_stderr,
                             workers_started=reap_children_on_exit)
    # imported here, not at the top: importing a flow imports Prefect (~1 s), which a direct run never needs
    from tendon_pipeline.flows.pipeline import process_files_flow

    # flow parameters are JSON: a file name that is not UTF-8 travels escaped (discover reads it back)
    return run_flow_embedded(process_files_flow, paths=[path_text(p) for p in paths], athlete=athlete,
                             db=str(settings.db), config=str(config) if config else None,
                             console_to_stderr=console_to_stderr, emit_events=emit_events)


def catch_up_pending(settings: Settings, *, config: str | Path | None = None) -> BatchResult:
    """Evaluate every athlete an earlier run stored data for but did not evaluate (it crashed,
    or was stopped), and send what is due: a batch of no files. Watchers run it at start."""
    return run_batch([], settings, config=config)
