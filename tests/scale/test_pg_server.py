"""The test PostgreSQL server itself: it works, databases are isolated, stop() cleans up."""

from __future__ import annotations

import psycopg
import pytest
from pg_server import PostgresServer, find_pg_bin


def test_server_stores_and_returns_rows(pg_database):
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE runs (athlete text PRIMARY KEY, km numeric NOT NULL)")
        conn.execute("INSERT INTO runs VALUES (%s, %s), (%s, %s)", ("ana", 10.5, "ben", 21))
        conn.commit()
    with psycopg.connect(pg_database) as conn:
        rows = conn.execute("SELECT athlete, km FROM runs ORDER BY athlete").fetchall()
        encoding = conn.execute("SHOW server_encoding").fetchone()[0]
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
    assert [(a, float(km)) for a, km in rows] == [("ana", 10.5), ("ben", 21.0)]
    assert encoding == "UTF8"
    assert max_connections >= 50
    assert "host=127.0.0.1" in pg_database and "user=postgres" in pg_database


def test_databases_are_isolated(postgres, pg_database):
    other = postgres.create_database("isolation_other")
    try:
        with psycopg.connect(pg_database) as conn:
            conn.execute("CREATE TABLE only_here (x int)")
            conn.commit()
        with psycopg.connect(other) as conn:
            found = conn.execute("SELECT to_regclass('only_here')").fetchone()[0]
        assert found is None
        assert "dbname=isolation_other" in other
    finally:
        postgres.drop_database("isolation_other")


def test_stop_removes_the_data_dir():
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not found (Debian package postgresql)")
    server = PostgresServer().start()
    base, data = server.base_dir, server.data_dir
    try:
        assert (data / "PG_VERSION").is_file()
        with psycopg.connect(server.conninfo, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        conninfo = server.conninfo
    finally:
        server.stop()
    assert not base.exists()
    assert not server.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(conninfo, connect_timeout=2).close()
    server.stop()  # a second stop is harmless
