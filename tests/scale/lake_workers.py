"""Writer processes for the DuckLake tests: each is a separate Python process, as separate
Prefect workers or Dask workers would be, configured the way they are (environment)."""

from __future__ import annotations

import os
import time
from datetime import date


def ingest_and_evaluate(env: dict[str, str], paths: list[str], athlete: str | None, as_of: date,
                        start_at: float, results) -> None:
    """Ingest ``paths``, evaluate the athletes they changed; put the outcome counts on ``results``."""
    os.environ.update(env)
    from tendon_pipeline.app.evaluate import evaluate_athletes
    from tendon_pipeline.app.ingest import ingest_paths
    from tendon_pipeline.config.settings import load_settings
    from tendon_pipeline.warehouse.store import open_warehouse

    settings = load_settings(None, ingest_workers=1)
    time.sleep(max(0.0, start_at - time.time()))  # start together: the race is the point
    began = time.time()
    with open_warehouse(settings.location) as wh:
        report = ingest_paths(wh, settings, paths, athlete=athlete)
        changed = report.athletes_changed()
        evaluation = evaluate_athletes(wh, settings, changed, as_of=as_of) if changed else None
    results.put({"athlete": athlete, "counts": report.counts(), "seconds": time.time() - began,
                 "files": len(report.outcomes),
                 "new_alerts": len(evaluation.new_alerts()) if evaluation else 0})


def notify(env: dict[str, str], now_iso: str, start_at: float, results) -> None:
    os.environ.update(env)
    from datetime import datetime

    from tendon_pipeline.app.delivery import notify_command
    from tendon_pipeline.config.settings import load_settings

    settings = load_settings(None)
    time.sleep(max(0.0, start_at - time.time()))
    report = notify_command(settings, datetime.fromisoformat(now_iso))
    results.put({"sent": sum(1 for r in report.results if r.outcome == "delivered")})
