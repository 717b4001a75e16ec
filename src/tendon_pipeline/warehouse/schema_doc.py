"""The analyst's schema reference, generated from the warehouse itself.

``docs/warehouse.md`` is this function's output; a test regenerates it and fails
if the committed file has drifted from the schema.
"""

from __future__ import annotations

from tendon_pipeline.warehouse.store import Warehouse

HEADER = """# The warehouse

Generated from the schema by `tendon schema-doc` (do not edit by hand; a test checks it).
Times ending in `_utc` are UTC; `_local` is the athlete's wall clock. Units are in the names.

"""


def schema_markdown(warehouse: Warehouse) -> str:
    """Markdown for every table and view, with the comments stored in the schema."""
    objects = warehouse.con.execute(
        "SELECT table_name AS name, 'table' AS kind, comment FROM duckdb_tables()"
        " WHERE schema_name = 'main' AND NOT internal"
        " UNION ALL SELECT view_name, 'view', comment FROM duckdb_views()"
        " WHERE schema_name = 'main' AND NOT internal ORDER BY kind, name"
    ).fetchall()
    parts = [HEADER, f"Schema version {warehouse.schema_version()}.\n"]
    for name, kind, comment in objects:
        parts.append(_object_section(warehouse, name, kind, comment))
    return "\n".join(parts).rstrip() + "\n"


def _object_section(warehouse: Warehouse, name: str, kind: str, comment: str | None) -> str:
    columns = warehouse.con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns()"
        " WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index", [name]).fetchall()
    lines = [f"## {name} ({kind})", ""]
    if comment:
        lines += [comment, ""]
    lines += ["| column | type | meaning |", "| --- | --- | --- |"]
    for column, data_type, col_comment in columns:
        meaning = (col_comment or "").replace("|", "\\|")
        lines.append(f"| {column} | {data_type} | {meaning} |")
    return "\n".join(lines) + "\n"
