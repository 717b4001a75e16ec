"""docs/analysts.md: every SQL example runs against a warehouse built from generated data and
returns rows, and every stable view is presented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tendon_pipeline.warehouse.store import open_warehouse
from tendon_pipeline.warehouse.views import VIEWS

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysts.md"
BLOCKS = re.findall(r"^```sql\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)


def _title(sql: str) -> str:
    return " ".join(sql.split())[:60]


def test_the_doc_has_examples_for_every_view():
    assert len(BLOCKS) >= 8
    text = "\n".join(BLOCKS)
    missing = [v for v in VIEWS if not re.search(rf"\bFROM {v}\b", text)]
    assert not missing, f"views without an example query: {missing}"
    table = DOC.read_text(encoding="utf-8").split("## The views", 1)[1].split("##", 1)[0]
    assert all(f"`{v}`" in table for v in VIEWS)


@pytest.mark.parametrize("sql", BLOCKS, ids=[_title(b) for b in BLOCKS])
def test_example_query_runs_and_returns_rows(built, sql):
    with open_warehouse(built.db, read_only=True) as wh:
        rows = wh.query(sql)
    assert len(rows) > 0, "the example returns nothing on the generated data: is it still right?"
    assert not any(str(c).startswith("_") for c in rows.columns)


@pytest.mark.parametrize("toml", re.findall(r"^ *```toml\n(.*?)^ *```", DOC.read_text(encoding="utf-8"), re.S | re.M))
def test_the_privacy_example_is_a_valid_configuration(tmp_path, toml):
    from tendon_pipeline.config.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text(re.sub(r"^ +", "", toml, flags=re.M), encoding="utf-8")
    settings = load_settings(config, db=tmp_path / "w.duckdb")
    assert settings.privacy.gps != "keep" and settings.privacy.home_zones
