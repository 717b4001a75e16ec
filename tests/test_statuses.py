"""Statuses, outcomes and severities are declared once (domain/models.py) with their stored values."""

from __future__ import annotations

import re
from pathlib import Path

import tendon_pipeline.warehouse as warehouse_package
from tendon_pipeline.cli import cli
from tendon_pipeline.domain.models import SEVERITY_RANK, DeliveryOutcome, FileStatus, Severity

MIGRATIONS = Path(warehouse_package.__file__).parent / "migrations"


def test_the_stored_values_are_the_ones_the_warehouse_already_holds():
    assert [s.value for s in FileStatus] == ["ingested", "salvaged", "duplicate", "skipped", "quarantined"]
    assert [s.value for s in Severity] == ["info", "caution", "warning", "high"]
    assert SEVERITY_RANK == {"info": 0, "caution": 1, "warning": 2, "high": 3}


def test_every_outcome_the_attempts_table_accepts_is_a_delivery_outcome():
    sql = (MIGRATIONS / "0003_deliveries.sql").read_text()
    accepted = re.search(r"outcome\s+VARCHAR NOT NULL CHECK \(outcome IN \(([^)]*)\)\)", sql)
    assert accepted, "the delivery_attempts.outcome check constraint moved"
    stored = {v.strip().strip("'") for v in accepted.group(1).split(",")}
    assert stored <= {o.value for o in DeliveryOutcome}
    assert len(DeliveryOutcome) == 7


def test_the_cli_status_choices_come_from_the_enum():
    status = next(p for p in cli.commands["files"].params if p.name == "status")
    assert list(status.type.choices) == [s.value for s in FileStatus]
