"""The backfill's Dask side: a DaskTaskRunner chosen at run time, and the Prefect API its workers report to.

Used by ``flows/backfill.py`` (a flow's ``task_runner`` is fixed when the flow object is built,
before any parameter is known, so the flow starts the runner itself). Needs the ``dask`` extra.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from tendon_pipeline.errors import ConfigError


@contextlib.contextmanager
def dask_task_runner(dask_address: str | None, workers: int) -> Iterator[Any]:
    """A started DaskTaskRunner: the given scheduler, else a local cluster of ``workers`` processes
    (closed on exit). The scheduler and nannies of a local cluster live in this process: their
    INFO chatter is held back (``distributed`` logger at WARNING) while the runner is open."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError("the backfill runs on Dask, which is not installed",
                          hint="pip install 'tendon-pipeline[dask]'") from None
    if dask_address:
        runner = DaskTaskRunner(address=dask_address)
    else:
        runner = DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": workers, "threads_per_worker": 1, "processes": True,
            "dashboard_address": "127.0.0.1:0",  # no fixed port 8787 to collide on; loopback only
            "silence_logs": logging.ERROR,
        })
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with runner:
            yield runner
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def prefect_api_for_workers(dask_address: str | None) -> Iterator[None]:
    """Point Dask workers at this run's Prefect API while tasks are submitted.

    Each submitted task carries the current Prefect settings to its worker. With no
    ``PREFECT_API_URL`` (the embedded default) a worker process would start an API of its own
    (seconds per worker, on the same database file) and report the task runs there; so the URL
    of the API this flow run talks to is put in those settings. A cluster elsewhere cannot reach
    an API on this machine's loopback: that is refused before anything runs."""
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, temporary_settings

    context = FlowRunContext.get()
    url = str(context.client.api_url) if context and context.client else ""
    if dask_address and _loopback(url) and not _loopback(dask_address):
        raise ConfigError(f"the Dask cluster at {dask_address} cannot report to the Prefect API at {url}"
                          " (reachable from this machine only)",
                          hint="set PREFECT_API_URL to a Prefect server that the flow and the Dask workers both reach")
    if PREFECT_API_URL.value() or not _loopback(url):
        yield
        return
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


def _loopback(address: str) -> bool:
    return urlsplit(address).hostname in ("127.0.0.1", "localhost", "::1")
