"""Backfill flow: many FIT files fanned out by athlete over a Dask cluster (issue 8).

Deployed entrypoint: ``flows/backfill.py:backfill_flow``. Needs the ``dask`` extra
(``prefect-dask``, ``distributed``).

The task runner is chosen at run time from the parameters (``dask_address``, ``workers``):
a flow's ``task_runner`` is fixed when the flow object is built (decorator or
``with_options``), before any parameter is known, so the flow starts a ``DaskTaskRunner`` itself
and submits the athlete tasks to it. One flow run; every athlete is one task run in it.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger, task

from tendon_pipeline.app.backfill import (
    DEFAULT_CHUNK_FILES, AthleteBackfillResult, AthleteBatch, BackfillIncomplete, BackfillReport,
    backfill_athlete, plan_backfill, writers_for,
)
from tendon_pipeline.flows.ingest import retry_if_transient
from tendon_pipeline.flows.notify import deliver_task
from tendon_pipeline.orchestration.dask import dask_task_runner, prefect_api_for_workers
from tendon_pipeline.config.settings import load_settings


@task(name="backfill-athlete", task_run_name="backfill-{batch.label}", retries=4,
      retry_delay_seconds=[2, 5, 15, 30], retry_condition_fn=retry_if_transient)
def backfill_athlete_task(batch: AthleteBatch, db: str | None, config: str | None) -> AthleteBackfillResult:
    """I/O task: one athlete's chunks in order, then its evaluation. A retry skips the stored files."""
    return backfill_athlete(load_settings(config, db=db), batch)


@flow(name="backfill-fit-files")
def backfill_flow(paths: list[str], athlete: str | None = None, db: str | None = None,
                  config: str | None = None, dask_address: str | None = None, workers: int = 2,
                  notify: bool = True, chunk_files: int = DEFAULT_CHUNK_FILES,
                  console_to_stderr: bool = False) -> BackfillReport:
    """Ingest and evaluate a large set of FIT files, one Dask task per athlete, then notify.

    ``dask_address`` (e.g. ``tcp://scheduler:8786``) uses that cluster; without it a local
    cluster of ``workers`` single-threaded processes is started and closed with the run.
    ``console_to_stderr`` sends console notifications to stderr (a front end printing JSON).

    One writer per athlete, always: an athlete's files are ingested by one task, chunk after
    chunk (``chunk_files`` files per warehouse session). Single-writer rule of the embedded
    DuckDB file: a DuckDB file takes one writing process at a time, so when the warehouse is a
    local file (not a DuckLake) the athletes run ONE AT A TIME whatever ``workers`` says (a
    local cluster of one worker; on a given cluster, the next athlete is submitted only when
    the previous one finished). On a DuckLake warehouse up to ``workers`` athletes run at once.
    Files whose athlete only their device serial tells run last, alone.

    Dask workers report their task runs to this run's Prefect API (its URL is handed to
    them). Workers of a remote cluster must be able to reach it: set ``PREFECT_API_URL`` to a
    Prefect server, not the embedded one, and give them the same config and ``TENDON_*``
    environment (each task loads the settings where it runs).
    """
    settings = load_settings(config, db=db)
    batches = plan_backfill(settings, paths, athlete=athlete, chunk_files=chunk_files)
    writers = writers_for(settings.location, workers)
    start = time.perf_counter()
    with prefect_api_for_workers(dask_address), dask_task_runner(dask_address, writers) as runner:
        report = _report(_fan_out(runner, batches, writers, db, config), writers, time.perf_counter() - start)
    if notify and report.athletes:
        report.delivery = deliver_task(db, config, console_to_stderr).summary()
    if report.failed:
        raise BackfillIncomplete(f"backfill failed for {', '.join(sorted(report.failed))}: "
                                 + "; ".join(f"{k}: {v}" for k, v in sorted(report.failed.items())),
                                 hint="run the same backfill again: stored files are skipped")
    return report


def _fan_out(runner: Any, batches: list[AthleteBatch], writers: int, db: str | None,
             config: str | None) -> list[tuple[AthleteBatch, Any]]:
    """Submit one task per athlete, at most ``writers`` in flight; by-serial files last, alone."""
    from distributed import wait

    in_flight: list[tuple[AthleteBatch, Any]] = []
    finished: list[tuple[AthleteBatch, Any]] = []

    def drain(keep: int) -> None:
        while len(in_flight) > keep:
            with runner.client.as_current():  # distributed.wait looks for the current client
                wait([f.wrapped_future for _, f in in_flight], return_when="FIRST_COMPLETED")
            for item in [i for i in in_flight if i[1].wrapped_future.done()]:
                in_flight.remove(item)
                finished.append(item)

    for batch in batches:
        drain(0 if batch.athlete is None else writers - 1)
        in_flight.append((batch, runner.submit(backfill_athlete_task,
                                               {"batch": batch, "db": db, "config": config})))
    drain(0)
    order = {id(b): n for n, b in enumerate(batches)}
    return sorted(finished, key=lambda item: order[id(item[0])])


def _report(finished: list[tuple[AthleteBatch, Any]], writers: int, seconds: float) -> BackfillReport:
    report = BackfillReport(writers=writers, seconds=seconds)
    for batch, future in finished:
        try:
            outcome = future.result(raise_on_failure=False)
        except Exception as exc:  # noqa: BLE001 - the Dask side failed (a worker died): that athlete failed
            outcome = exc
        if isinstance(outcome, AthleteBackfillResult):
            report.athletes.append(outcome)
        else:
            report.failed[batch.label] = f"{type(outcome).__name__}: {outcome}"
            get_run_logger().error("backfill of %s failed: %s", batch.label, outcome)
    return report
