"""Where the warehouse lives: a local DuckDB file (the embedded default) or a DuckLake.

``[warehouse] url`` chooses. Unset, the warehouse is the DuckDB file ``db``. Set to
``ducklake:postgres:<libpq conninfo>``, the warehouse is a DuckLake whose catalog is that
PostgreSQL database and whose Parquet files live under ``[warehouse] data_path`` (a shared
folder, or object storage DuckDB can write). The rest of the code sees the same tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

LAKE_PREFIX = "ducklake:postgres:"
_PASSWORD = re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE)


class WarehouseSettings(BaseModel):
    """Which warehouse: unset ``url`` keeps the local DuckDB file (``db``)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None,
        description="DuckLake with a PostgreSQL catalog: 'ducklake:postgres:dbname=tendon host=db user=tendon'"
                    " (libpq key=value form); unset = the local DuckDB file `db`")
    data_path: str | None = Field(
        default=None, description="where DuckLake writes its Parquet files (shared folder or object storage);"
                                  " required with url")
    password: SecretStr | None = Field(
        default=None, description="catalog database password (better: TENDON_WAREHOUSE__PASSWORD or PGPASSWORD);"
                                  " never logged")
    lock_timeout_s: float = Field(
        default=600.0, gt=0, description="how long a writer waits for another writer of the same athlete")
    require_lake: bool = Field(
        default=False, description="refuse to start without `url` (set it where a local file would be lost,"
                                   " e.g. in a Kubernetes pod)")

    @field_validator("url")
    @classmethod
    def _lake_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(LAKE_PREFIX) or not value[len(LAKE_PREFIX):].strip():
            raise ValueError(
                f"must start with '{LAKE_PREFIX}' followed by a libpq connection string,"
                " e.g. 'ducklake:postgres:dbname=tendon host=db.internal user=tendon'")
        if _PASSWORD.search(value):
            raise ValueError("holds a password: put it in TENDON_WAREHOUSE__PASSWORD (or PGPASSWORD) instead,"
                             " so it is never written in a config file or a log")
        return value.strip()

    @model_validator(mode="after")
    def _data_path_with_url(self) -> "WarehouseSettings":
        if self.require_lake and not self.url:
            raise ValueError("warehouse.url is not set but warehouse.require_lake is: set TENDON_WAREHOUSE__URL"
                             " (this process would otherwise write to a local DuckDB file)")
        if self.url and not self.data_path:
            raise ValueError("warehouse.data_path is required with warehouse.url"
                             " (the folder or bucket the lake's Parquet files go to)")
        return self


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake warehouse: PostgreSQL catalog + data path. ``str()`` never shows the password."""

    conninfo: str  # libpq key=value string of the catalog database
    data_path: str
    password: str | None = field(default=None, repr=False)
    lock_timeout_s: float = 600.0

    @property
    def catalog_conninfo(self) -> str:
        """The conninfo with the password (for connecting; never print this)."""
        return f"{self.conninfo} password={self.password}" if self.password else self.conninfo

    def __str__(self) -> str:
        return f"{LAKE_PREFIX}{self.conninfo} (data {self.data_path})"


WarehouseLocation = Path | str | LakeLocation


def location_of(warehouse: WarehouseSettings, db: Path) -> WarehouseLocation:
    """The warehouse the settings point at: the lake when ``url`` is set, else the file ``db``."""
    if not warehouse.url:
        return db
    return LakeLocation(
        conninfo=warehouse.url[len(LAKE_PREFIX):].strip(),
        data_path=warehouse.data_path or "",
        password=warehouse.password.get_secret_value() if warehouse.password else None,
        lock_timeout_s=warehouse.lock_timeout_s,
    )
