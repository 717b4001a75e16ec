"""Where the warehouse lives: a local DuckDB file (the embedded default) or a DuckLake.

``[warehouse] url`` chooses. Unset, the warehouse is the DuckDB file ``db``. Set to
``ducklake:postgres:<libpq conninfo>``, the warehouse is a DuckLake whose catalog is that
PostgreSQL database and whose Parquet files live under ``[warehouse] data_path`` (a shared
folder, or object storage DuckDB can write). The rest of the code sees the same tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LAKE_PREFIX = "ducklake:postgres:"
OBJECT_STORE_PREFIX = "s3://"
BUSY_WAIT_S = 30.0  # the default of warehouse.busy_wait_s (read commands use it without the settings model)


# DuckDB draws a progress bar on stdout for a query over 2 s unless told not to: it broke
# `--json` output (tendon backfill on a lake). Every connection of ours runs this first (it is a
# session setting: DuckDB refuses it as a connect-time option).
QUIET_SESSION = "SET enable_progress_bar = false"


@dataclass(frozen=True)
class ObjectStore:
    """Credentials and endpoint for an ``s3://`` data path. ``repr`` never shows the secret."""

    region: str = "us-east-1"
    endpoint: str | None = None
    url_style: str = "vhost"
    use_ssl: bool = True
    key_id: str | None = None
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake warehouse: PostgreSQL catalog + data path. ``str()`` never shows the password."""

    conninfo: str  # libpq key=value string of the catalog database
    data_path: str
    password: str | None = field(default=None, repr=False)
    lock_timeout_s: float = 600.0
    object_store: ObjectStore | None = None  # set when data_path is s3://

    @property
    def secrets(self) -> list[str]:
        """Every secret value this location holds (to scrub from error messages)."""
        found = [self.password, self.object_store.secret if self.object_store else None]
        return [s for s in found if s]

    @property
    def catalog_conninfo(self) -> str:
        """The conninfo with the password (for connecting; never print this)."""
        return f"{self.conninfo} password={self.password}" if self.password else self.conninfo

    def __str__(self) -> str:
        return f"{LAKE_PREFIX}{self.conninfo} (data {self.data_path})"


WarehouseLocation = Path | str | LakeLocation
