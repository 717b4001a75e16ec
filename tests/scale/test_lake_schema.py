"""The DuckLake warehouse has the embedded warehouse's schema, and opening it is safe."""

from __future__ import annotations

import re

import pytest

from tendon_pipeline.errors import ConfigError, WarehouseError, WarehouseUnavailableError
from tendon_pipeline.config.settings import load_settings
from tendon_pipeline.warehouse.lake import lake_sql
from tendon_pipeline.warehouse.location import LakeLocation
from tendon_pipeline.warehouse.store import migrations, open_warehouse

# defaults are not compared: a DuckLake reports "no default" as 'NULL', and seq has no sequence
_COLUMNS = ("SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = 'main' ORDER BY table_name, column_index")


def _schema(wh) -> dict:
    columns = wh.con.execute(_COLUMNS).fetchall()
    tables = wh.con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE database_name ="
                            " current_database() AND schema_name = 'main' ORDER BY 1").fetchall()
    views = wh.con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database()"
                           " AND schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()
    return {"columns": columns, "tables": tables, "views": views}


def test_lake_sql_drops_only_what_ducklake_lacks():
    for version, name, sql in migrations():
        out = lake_sql(sql)
        assert not re.search(r"PRIMARY\s+KEY|\bUNIQUE\b|\bCHECK\s*\(|SEQUENCE|nextval", out, re.I), name
        # every table and column of the original is still created
        for table in re.findall(r"CREATE TABLE (\w+)", sql):
            assert f"CREATE TABLE {table}" in out
        assert out.count("COMMENT ON TABLE") == sql.count("COMMENT ON TABLE")


def test_lake_sql_keeps_strings_with_keywords_and_semicolons():
    sql = ("CREATE TABLE t (a VARCHAR PRIMARY KEY, b INT CHECK (b > (0)), c VARCHAR DEFAULT 'x;y',"
           " PRIMARY KEY (a), UNIQUE (b, c));\nCOMMENT ON COLUMN t.a IS 'a UNIQUE key; CHECK (it)';")
    out = lake_sql(sql)
    assert "CREATE TABLE t (a VARCHAR NOT NULL, b INT, c VARCHAR DEFAULT 'x;y' );" in " ".join(out.split())
    assert "'a UNIQUE key; CHECK (it)'" in out


def test_lake_has_the_file_warehouse_schema(lake, tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as wh:
        embedded = _schema(wh)
    with open_warehouse(lake) as wh:
        assert wh.is_lake and wh.schema_version() == max(v for v, _, _ in migrations())
        lake_schema = _schema(wh)
    assert lake_schema["columns"] == embedded["columns"]
    assert lake_schema["tables"] == embedded["tables"]  # with their comments (the docs come from these)
    assert lake_schema["views"] == embedded["views"] and len(embedded["views"]) >= 7


def test_opening_again_and_read_only_write_nothing(lake):
    with open_warehouse(lake) as wh:
        first = wh.con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
    with open_warehouse(lake) as wh:
        assert wh.migrate() == []
    with open_warehouse(lake, read_only=True) as wh:
        assert wh.con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0] == first
        with pytest.raises(Exception, match="read.only|read-only"):
            wh.con.execute("INSERT INTO athletes (athlete_id) VALUES ('x')")


def test_a_catalog_that_is_down_is_a_transient_error_without_the_password(tmp_path):
    down = LakeLocation(conninfo="dbname=lake host=127.0.0.1 port=9 user=tendon connect_timeout=2",
                        data_path=f"{tmp_path}/", password="s3cret-do-not-log")
    for read_only in (False, True):
        with pytest.raises(WarehouseUnavailableError) as caught:
            with open_warehouse(down, read_only=read_only):
                pass
        assert caught.value.transient
        assert "s3cret-do-not-log" not in str(caught.value) and "PostgreSQL" in str(caught.value)


def test_the_warehouse_url_is_checked_at_start(tmp_path):
    with pytest.raises(ConfigError, match="warehouse.url"):
        load_settings(None, warehouse={"url": "postgresql://db/tendon", "data_path": str(tmp_path)})
    with pytest.raises(ConfigError, match="data_path is required"):
        load_settings(None, warehouse={"url": "ducklake:postgres:dbname=tendon"})
    with pytest.raises(ConfigError, match="TENDON_WAREHOUSE__PASSWORD"):
        load_settings(None, warehouse={"url": "ducklake:postgres:dbname=t password=x", "data_path": "/d"})
    with pytest.raises(ConfigError, match="require_lake"):
        load_settings(None, warehouse={"require_lake": True})
    settings = load_settings(None, warehouse={"url": "ducklake:postgres:dbname=t host=db", "data_path": "/d/",
                                              "password": "pw-secret"})
    assert isinstance(settings.location, LakeLocation)
    assert "pw-secret" not in str(settings.location) + repr(settings.location) + repr(settings)
    assert load_settings(None, db=str(tmp_path / "w.duckdb")).location == tmp_path / "w.duckdb"


def test_a_missing_extension_wheel_says_which_extra_to_install(monkeypatch):
    from tendon_pipeline.warehouse import lake

    monkeypatch.setitem(__import__("sys").modules, "duckdb_extension_ducklake", None)  # import fails
    with pytest.raises(WarehouseError, match=r"tendon-pipeline\[lake\]"):
        lake.extension_file("ducklake")


def test_the_catalog_going_away_mid_run_is_a_transient_error(postgres, lake):
    import psycopg

    with open_warehouse(lake) as wh:
        with wh.lock("athlete:ana"):
            pass
        pid = wh._locks._con.info.backend_pid  # the lock connection's server process
        with psycopg.connect(postgres.conninfo, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        with pytest.raises(WarehouseUnavailableError, match="lost the connection") as caught:
            with wh.lock("athlete:ana"):
                pass
        assert caught.value.transient
