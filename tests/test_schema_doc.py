"""docs/warehouse.md is generated from the schema and must not drift from it."""

from pathlib import Path

from tendon_pipeline.warehouse.schema_doc import schema_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "warehouse.md"


def test_committed_schema_doc_matches_the_warehouse(warehouse):
    generated = schema_markdown(warehouse)
    assert DOC.read_text(encoding="utf-8") == generated, (
        "docs/warehouse.md is stale: run `tendon schema-doc --out docs/warehouse.md`")


def test_every_table_is_documented_with_a_comment(warehouse):
    tables = warehouse.query("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'main'")
    undocumented = tables[tables["comment"].isna() & (tables["table_name"] != "schema_migrations")]
    assert undocumented.empty, f"tables without COMMENT: {undocumented.table_name.tolist()}"


def test_committed_configuration_doc_matches_the_settings():
    from tendon_pipeline.config.doc import settings_markdown

    committed = (DOC.parent / "configuration.md").read_text(encoding="utf-8")
    assert committed == settings_markdown(), (
        "docs/configuration.md is stale: run `tendon config-doc --out docs/configuration.md`")


def test_the_configuration_docs_environment_example_is_accepted(monkeypatch, tmp_path):
    import re

    from tendon_pipeline.config.doc import settings_markdown
    from tendon_pipeline.config.settings import load_settings

    examples = re.findall(r"`(TENDON_[A-Z_]+__[A-Z_]+)=([^`]+)`", settings_markdown())
    assert examples, "the configuration doc shows no TENDON_..__.. example"
    for name, value in examples:
        monkeypatch.setenv(name, value)
    settings = load_settings(db=tmp_path / "w.duckdb")
    assert settings.rules.monotony_warning == 2.5
