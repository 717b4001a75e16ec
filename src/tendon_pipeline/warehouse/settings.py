"""``[warehouse]`` settings (a pydantic model) and the location they point at (:func:`location_of`).

Kept apart from ``location.py`` so that opening a warehouse imports no pydantic (issue 17: the
read commands start fast); ``config/settings.py`` holds this model under ``warehouse``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from tendon_pipeline.warehouse.location import (
    BUSY_WAIT_S,
    LAKE_PREFIX,
    OBJECT_STORE_PREFIX,
    LakeLocation,
    ObjectStore,
    WarehouseLocation,
)

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
    busy_wait_s: float = Field(
        default=BUSY_WAIT_S, ge=0,
        description="DuckDB file: how long a command (and each step of a watcher's batch) waits while another"
                    " process holds the file (a watcher batch, an analyst's connection, even read-only) before"
                    " giving up with exit code 3; a watcher then retries the batch with back-off while it runs")
    s3_endpoint: str | None = Field(
        default=None, description="host:port of an S3-compatible store (MinIO, Ceph, R2) for an s3:// data_path;"
                                  " unset = AWS")
    s3_region: str = Field(default="us-east-1", description="S3 region of the data_path bucket")
    s3_url_style: Literal["vhost", "path"] = Field(default="vhost", description="path for most S3-compatible stores")
    s3_use_ssl: bool = Field(default=True, description="https to the object store")
    s3_key_id: str | None = Field(default=None, description="S3 access key id (else AWS_ACCESS_KEY_ID)")
    s3_secret: SecretStr | None = Field(
        default=None, description="S3 secret key (better: TENDON_WAREHOUSE__S3_SECRET or AWS_SECRET_ACCESS_KEY);"
                                  " never logged")
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
    def _data_path_with_url(self) -> WarehouseSettings:
        if self.require_lake and not self.url:
            raise ValueError("warehouse.url is not set but warehouse.require_lake is: set TENDON_WAREHOUSE__URL"
                             " (this process would otherwise write to a local DuckDB file)")
        if self.url and not self.data_path:
            raise ValueError("warehouse.data_path is required with warehouse.url"
                             " (the folder or bucket the lake's Parquet files go to)")
        return self


def location_of(warehouse: WarehouseSettings, db: Path) -> WarehouseLocation:
    """The warehouse the settings point at: the lake when ``url`` is set, else the file ``db``."""
    if not warehouse.url:
        return db
    data_path = warehouse.data_path or ""
    return LakeLocation(
        conninfo=warehouse.url[len(LAKE_PREFIX):].strip(),
        data_path=data_path,
        password=warehouse.password.get_secret_value() if warehouse.password else None,
        lock_timeout_s=warehouse.lock_timeout_s,
        object_store=_object_store(warehouse) if data_path.startswith(OBJECT_STORE_PREFIX) else None,
    )


def _object_store(warehouse: WarehouseSettings) -> ObjectStore:
    secret = warehouse.s3_secret.get_secret_value() if warehouse.s3_secret else os.environ.get("AWS_SECRET_ACCESS_KEY")
    return ObjectStore(region=warehouse.s3_region, endpoint=warehouse.s3_endpoint, url_style=warehouse.s3_url_style,
                       use_ssl=warehouse.s3_use_ssl, key_id=warehouse.s3_key_id or os.environ.get("AWS_ACCESS_KEY_ID"),
                       secret=secret)
