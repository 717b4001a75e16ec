"""A real PostgreSQL server for the scale-out tests (DuckLake catalog, advisory locks).

``postgres``: one server per test session (per xdist worker), started from Debian's
``postgresql`` package by ``tests/pg_server.py``. ``pg_database``: a fresh, empty database
for each test; yields its libpq conninfo string.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pg_server import PostgresServer, find_pg_bin

if TYPE_CHECKING:
    from tendon_pipeline.warehouse.location import LakeLocation

_NUMBERS = itertools.count(1)
SKIP_REASON = ("PostgreSQL server binaries not found (Debian package postgresql); "
               "bin/test installs them when run as root with apt-get")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A started ``PostgresServer`` shared by the session (stopped and deleted at the end)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):  # CI must run them: bin/test installs the package as root
            pytest.fail(SKIP_REASON)
        pytest.skip(SKIP_REASON)
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture
def pg_database(postgres: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new database for this test; its conninfo (``dbname=... host=127.0.0.1 port=... user=postgres``)."""
    test = re.sub(r"[^a-z0-9_]", "_", request.node.name.lower())[:30]
    name = f"t{os.getpid()}_{next(_NUMBERS)}_{test}"  # unique, and <= 63 bytes
    conninfo = postgres.create_database(name)
    yield conninfo
    postgres.drop_database(name)


@pytest.fixture
def lake(pg_database: str, tmp_path) -> LakeLocation:
    """A new, empty DuckLake: this test's PostgreSQL database as catalog, Parquet under tmp_path."""
    from tendon_pipeline.warehouse.location import LakeLocation

    return LakeLocation(conninfo=pg_database, data_path=f"{tmp_path / 'lake-data'}/", lock_timeout_s=120)


def lake_settings_env(location) -> dict[str, str]:
    """The environment that points a tendon process at ``location`` (how a worker is configured)."""
    return {"TENDON_WAREHOUSE__URL": f"ducklake:postgres:{location.conninfo}",
            "TENDON_WAREHOUSE__DATA_PATH": location.data_path}
