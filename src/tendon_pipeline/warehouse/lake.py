"""The DuckLake backend: DuckDB tables whose catalog is PostgreSQL and whose data is Parquet.

Three things differ from the embedded DuckDB file, and all of them live here:

* **Extensions.** ``ducklake`` and ``postgres_scanner`` are loaded from the
  ``duckdb-extension-*`` wheels (the ``lake`` extra), built for one DuckDB version; DuckDB
  cannot download them on machines without network.
* **Schema.** DuckLake has no PRIMARY KEY, UNIQUE, CHECK or sequences, and no comments on
  view columns. :func:`lake_sql` turns a migration into the same tables without them, so
  the columns, types, views and table comments are the same as in the file.
* **Uniqueness.** Without constraints, two writers could both insert the "new" row a check
  found absent (DuckLake's optimistic concurrency lets two appends to one table commit).
  :class:`AdvisoryLocks` takes PostgreSQL advisory locks on the catalog database: one per
  athlete (and per file hash) around each check-then-write, one for the outbox, one for
  migrations. Writers of different athletes never wait for each other.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from tendon_pipeline.errors import WarehouseError, WarehouseLockedError, WarehouseUnavailableError
from tendon_pipeline.warehouse.location import QUIET_SESSION, LakeLocation, ObjectStore

LAKE_ALIAS = "lake"
_EXTENSIONS = ("postgres_scanner", "ducklake")
_INSTALL_HINT = ("install the lake extra: pip install 'tendon-pipeline[lake]' (its extension wheels are built"
                 f" for DuckDB {duckdb.__version__} exactly)")


# --------------------------------------------------------------------------- connecting


def extension_file(name: str) -> Path:
    """The extension binary shipped by the ``duckdb-extension-<name>`` wheel for this DuckDB."""
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise WarehouseError(f"the DuckDB extension '{name}' is not installed", hint=_INSTALL_HINT) from None
    path = Path(module.__file__ or ".").parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise WarehouseError(f"the installed '{name}' extension wheel has no build for DuckDB {duckdb.__version__}",
                             hint=_INSTALL_HINT)
    return path


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _scrub(text: str, location: LakeLocation) -> str:
    """An error text with the password removed, whatever the driver put in it."""
    for secret in location.secrets:
        text = text.replace(secret, "***")
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", text, flags=re.IGNORECASE)


def connect_lake(location: LakeLocation, read_only: bool) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session with the lake attached as ``lake`` and in use."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(QUIET_SESSION)
        for name in _EXTENSIONS + (("httpfs",) if location.object_store else ()):
            con.execute(f"LOAD {_quote(str(extension_file(name)))}")
        if location.object_store:
            con.execute(_s3_secret_sql(location.object_store))
        options = f"DATA_PATH {_quote(location.data_path)}" + (", READ_ONLY" if read_only else "")
        con.execute(f"ATTACH {_quote('ducklake:postgres:' + location.catalog_conninfo)} AS {LAKE_ALIAS} ({options})")
        con.execute(f"USE {LAKE_ALIAS}")
    except duckdb.Error as exc:
        con.close()
        raise WarehouseUnavailableError(
            f"cannot attach the DuckLake warehouse {location}: {_scrub(_first_line(exc), location)}",
            hint="check that the catalog PostgreSQL server is up and the connection settings"
                 " ([warehouse] url, TENDON_WAREHOUSE__PASSWORD or PGPASSWORD) and data_path are right",
        ) from None
    except BaseException:
        con.close()
        raise
    return con


def _s3_secret_sql(store: ObjectStore) -> str:
    """A temporary (this session only) DuckDB secret for the ``s3://`` data path."""
    parts = [f"REGION {_quote(store.region)}", f"URL_STYLE {_quote(store.url_style)}",
             f"USE_SSL {'true' if store.use_ssl else 'false'}"]
    if store.endpoint:
        parts.append(f"ENDPOINT {_quote(store.endpoint)}")
    if store.key_id:
        parts.append(f"KEY_ID {_quote(store.key_id)}")
    if store.secret:
        parts.append(f"SECRET {_quote(store.secret)}")
    return f"CREATE TEMPORARY SECRET tendon_lake_data (TYPE s3, {', '.join(parts)})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- locks


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a key such as ``athlete:ana``."""
    return int.from_bytes(hashlib.blake2b(f"tendon-pipeline:{key}".encode(), digest_size=8).digest(),
                          "big", signed=True)


class AdvisoryLocks:
    """Session-level PostgreSQL advisory locks on the catalog database, one connection.

    Locks are taken in id order (no deadlock between writers taking several) and are
    re-entrant: a key held by an outer block is simply counted again.
    """

    def __init__(self, location: LakeLocation) -> None:
        import psycopg  # the lake extra

        self._location = location
        try:
            self._con = psycopg.connect(location.catalog_conninfo, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            raise WarehouseUnavailableError(
                f"cannot reach the warehouse catalog {location}: {_scrub(_first_line(exc), location)}",
                hint="check that PostgreSQL is up and [warehouse] url / TENDON_WAREHOUSE__PASSWORD are right",
            ) from None
        self._con.execute(f"SET lock_timeout = '{int(location.lock_timeout_s * 1000)}ms'")

    @contextmanager
    def hold(self, keys: Iterable[str]) -> Iterator[None]:
        import psycopg

        ids = sorted({lock_id(k) for k in keys})
        taken: list[int] = []
        try:
            for ident in ids:
                try:
                    self._con.execute("SELECT pg_advisory_lock(%s)", [ident])
                except psycopg.errors.LockNotAvailable:
                    raise WarehouseLockedError(
                        f"another writer held the warehouse lock for {self._location.lock_timeout_s:g} s",
                        hint="a writer of the same athlete is still busy; retry later or raise"
                             " warehouse.lock_timeout_s") from None
                except psycopg.OperationalError as exc:
                    raise self._lost(exc) from None
                taken.append(ident)
            yield
        finally:
            if not self._con.closed:  # a lost connection has released its locks already
                for ident in reversed(taken):
                    self._con.execute("SELECT pg_advisory_unlock(%s)", [ident])

    def _lost(self, exc: BaseException) -> WarehouseUnavailableError:
        return WarehouseUnavailableError(
            f"lost the connection to the warehouse catalog {self._location}:"
            f" {_scrub(_first_line(exc), self._location)}",
            hint="nothing of the interrupted step was committed; run it again when PostgreSQL is back"
                 " (flows retry it by themselves)")

    def close(self) -> None:
        self._con.close()


# --------------------------------------------------------------------------- schema


def lake_sql(sql: str) -> str:
    """A migration rewritten for DuckLake: the same tables, views and comments, minus what
    DuckLake lacks (PRIMARY KEY, UNIQUE, CHECK, sequences, comments on view columns, also on
    views an earlier migration created)."""
    statements = _split_statements(_strip_comments(sql))
    views = _views_created(statements) | _bundled_views()
    out = []
    for statement in statements:
        if re.match(r"CREATE\s+SEQUENCE\b", statement, re.IGNORECASE):
            continue
        target = re.match(r"COMMENT\s+ON\s+COLUMN\s+(\w+)\.", statement, re.IGNORECASE)
        if target and target.group(1).lower() in views:
            continue
        if re.match(r"CREATE\s+TABLE\b", statement, re.IGNORECASE):
            statement = _lake_table(statement)
        out.append(statement)
    return ";\n".join(out) + (";\n" if out else "")


def _views_created(statements: Iterable[str]) -> set[str]:
    return {m.group(1).lower() for s in statements
            if (m := re.match(r"CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(\w+)", s, re.IGNORECASE))}


@functools.cache
def _bundled_views() -> frozenset[str]:
    """Views created by any bundled migration (a later one may comment on their columns)."""
    folder = resources.files("tendon_pipeline.warehouse") / "migrations"
    sqls = [f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".sql")]
    return frozenset(v for sql in sqls for v in _views_created(_split_statements(_strip_comments(sql))))


def _strip_comments(sql: str) -> str:
    """Remove ``--`` comments outside string literals."""
    out, i, quoted = [], 0, False
    while i < len(sql):
        ch = sql[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside quotes and parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            depth += ch == "("
            depth -= ch == ")"
            if ch == separator and depth == 0:
                parts.append("".join(current))
                current = []
                continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _split_statements(sql: str) -> list[str]:
    return [s.strip() for s in _split_top_level(sql, ";") if s.strip()]


_CONSTRAINT_ITEM = re.compile(r"^\s*(PRIMARY\s+KEY|UNIQUE|CHECK|CONSTRAINT|FOREIGN\s+KEY)\b", re.IGNORECASE)


def _lake_table(statement: str) -> str:
    """Constraints dropped; a primary key's columns stay NOT NULL, as they are in the file."""
    start = statement.index("(")
    end = statement.rindex(")")
    items = _split_top_level(statement[start + 1:end], ",")
    key_columns: set[str] = set()
    for item in items:
        if match := re.match(r"\s*PRIMARY\s+KEY\s*\(([^)]*)\)", item, re.IGNORECASE):
            key_columns |= {c.strip().lower() for c in match.group(1).split(",")}
    columns = [_lake_column(item, key_columns) for item in items if not _CONSTRAINT_ITEM.match(item)]
    return statement[:start + 1] + ",".join(columns).rstrip() + "\n" + statement[end:]


def _lake_column(item: str, key_columns: set[str]) -> str:
    name = item.split()[0].lower() if item.split() else ""
    item = _remove_call(item, "CHECK")
    item = re.sub(r"\s+DEFAULT\s+nextval\s*\(\s*'[^']*'\s*\)", "", item, flags=re.IGNORECASE)
    if re.search(r"\sPRIMARY\s+KEY\b", item, re.IGNORECASE):
        key_columns = key_columns | {name}
    item = re.sub(r"\s+(PRIMARY\s+KEY|UNIQUE)\b", "", item, flags=re.IGNORECASE)
    if name in key_columns and not re.search(r"\bNOT\s+NULL\b", item, re.IGNORECASE):
        item = item.rstrip() + " NOT NULL"
    return item


def _remove_call(text: str, keyword: str) -> str:
    """Remove every ``KEYWORD (...)`` (balanced parentheses) from a column definition."""
    pattern = re.compile(rf"\s+{keyword}\s*\(", re.IGNORECASE)
    while (match := pattern.search(text)) is not None:
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        text = text[:match.start()] + text[i:]
    return text


# --------------------------------------------------------------------------- maintenance


def data_file_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Parquet data files per table of the lake."""
    rows = con.execute(f"SELECT table_name, file_count FROM ducklake_table_info('{LAKE_ALIAS}')").fetchall()
    return {name: int(count) for name, count in rows}


def compact(con: duckdb.DuckDBPyConnection, keep_days: float) -> None:
    """Merge small data files, expire snapshots older than ``keep_days`` (time travel and
    readers of older snapshots need them), and delete the files nothing refers to any more."""
    con.execute(f"CALL ducklake_merge_adjacent_files('{LAKE_ALIAS}')")
    older = f"now() - INTERVAL {float(keep_days) * 86400:.0f} SECOND"
    con.execute(f"CALL ducklake_expire_snapshots('{LAKE_ALIAS}', older_than => {older})")
    con.execute(f"CALL ducklake_cleanup_old_files('{LAKE_ALIAS}', older_than => {older})")
