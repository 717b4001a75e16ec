"""The DuckDB warehouse: the one place that talks to the database.

Open it with :func:`open_warehouse` (a context manager) so the file is held only
while work is being done: DuckDB lets one process hold a file read-write and
locks every other process out, so long-running processes must not keep it open.

The same tables can live in a DuckLake (PostgreSQL catalog, Parquet data) for several
writers at once: pass a :class:`LakeLocation` (``[warehouse] url``). The SQL here is
written to run on both; what differs is in :mod:`tendon_pipeline.warehouse.lake`. Every
check-then-write runs under :meth:`Warehouse.lock` (per athlete, per file hash, or the
outbox), which is free on a file (one writer anyway) and a PostgreSQL advisory lock on a
lake, where there are no UNIQUE constraints to fall back on.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from tendon_pipeline.domain.statuses import STORED_STATUSES, FileStatus
from tendon_pipeline.errors import (
    WarehouseConflictError,
    WarehouseError,
    WarehouseLockedError,
    WarehouseSchemaError,
)
from tendon_pipeline.warehouse.identity import (
    StoredMatch,
    activity_fingerprint,
    athlete_activity_key,
    identity_verdict,
    session_fingerprint,
)
from tendon_pipeline.warehouse.location import QUIET_SESSION, LakeLocation, WarehouseLocation

if TYPE_CHECKING:  # pandas, pyarrow and the decoder load only when a write needs them (fast reads)
    import pandas as pd
    import pyarrow as pa

    from tendon_pipeline.fit.decode import DecodedActivity

T = TypeVar("T")

MEMORY = ":memory:"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class StoredActivity:
    """What happened to an activity offered to the warehouse."""

    status: FileStatus  # ingested, salvaged or duplicate
    activity_id: str
    reason_code: str | None = None  # athlete_conflict | replaced (see warehouse/identity.py) | truncated
    reason: str | None = None


@dataclass(frozen=True)
class FileRow:
    """A ``source_files`` row to write in a batch (see :meth:`Warehouse.store_batch`)."""

    file_hash: str
    path: str
    size_bytes: int
    status: str
    athlete_id: str | None
    reason_code: str | None = None
    reason: str | None = None
    activity_id: str | None = None


@dataclass(frozen=True)
class PendingEvaluation:
    """A ``pending_evaluations`` row: an athlete whose stored data has not been evaluated yet."""

    athlete_id: str
    reason: str
    since: datetime
    ingest_id: str | None


@dataclass(frozen=True)
class PendingActivity:
    """A decoded activity waiting for :meth:`Warehouse.store_batch`."""

    decoded: DecodedActivity
    athlete_id: str
    path: str


_FILE_ROW_TYPES = {  # Arrow type names (pyarrow.type_for_alias)
    "file_hash": "string", "path": "string", "athlete_id": "string", "size_bytes": "int64",
    "status": "string", "reason_code": "string", "reason": "string", "activity_id": "string",
    "ingest_id": "string", "first_seen_at": "timestamp[us]",
}
_ACTIVITY_ROW_TYPES = {
    "activity_id": "string", "activity_key": "string", "device_key": "string", "athlete_id": "string",
    "file_hash": "string", "manufacturer": "string", "product": "string",
    "serial_number": "int64", "time_created_utc": "timestamp[us]", "start_utc": "timestamp[us]",
    "local_offset_s": "int32", "body_mass_kg": "float64", "height_m": "float64",
    "salvaged": "bool", "salvage_reason": "string", "ingested_at": "timestamp[us]",
}
_SUPERSEDED_REASON = "a complete copy of this activity replaced the salvaged data"
_REPLACED_REASON = "a re-export of this activity with different content replaced it"

def _write_error(exc: BaseException) -> WarehouseError:
    if "conflict" in str(exc).lower():
        return WarehouseConflictError(
            f"another writer changed the same rows first: {_first_line(exc)}",
            hint="nothing of this step was written; run it again (flows retry it by themselves)")
    return WarehouseError(
        f"cannot write to the warehouse: {_first_line(exc)}",
        hint="free disk space or fix the file's permissions, then run the same command again:"
             " everything stored before the failure is kept and nothing is half-written",
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and path != MEMORY and not Path(path).expanduser().exists():
        raise WarehouseError(f"there is no warehouse at {path} yet",
                             hint="ingest some files first (tendon ingest PATH), or point --db / TENDON_DB at it")
    if path != MEMORY:
        parent = Path(path).expanduser().resolve().parent
        if not read_only:
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(
                    f"cannot create the warehouse folder {parent}: {exc.strerror or exc}",
                    hint="choose another location with --db or TENDON_DB",
                ) from exc
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise WarehouseLockedError(
                f"the warehouse {path} is in use by another process",
                hint="wait for it to finish (a watcher releases the file between batches) and retry",
            ) from exc
        raise WarehouseError(
            f"cannot open the warehouse {path}: {text}",
            hint="check the path is a writable file, or choose another with --db or TENDON_DB",
        ) from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}",
                             hint="is this a DuckDB file? choose another with --db") from exc
    con.execute(QUIET_SESSION)
    return con


def require_existing(location: WarehouseLocation) -> None:
    """Refuse a warehouse file that does not exist yet: commands that only read or update one
    (status, evaluate, log, notify, maintain, export) must not create an empty warehouse from a
    mistyped ``--db``; ``ingest`` creates it. A DuckLake is created by its first writer."""
    if isinstance(location, LakeLocation) or str(location) == MEMORY:
        return
    if not Path(str(location)).expanduser().exists():
        raise WarehouseError(f"there is no warehouse at {location}",
                             hint="check --db / TENDON_DB (a typo?); `tendon ingest PATH` creates the warehouse")


@contextmanager
def open_warehouse(location: WarehouseLocation = MEMORY, *, read_only: bool = False,
                   create: bool = True, wait_s: float = 0.0) -> Iterator[Warehouse]:
    """Open (creating, unless ``create`` is false, and migrating when writable) and close the
    warehouse: a DuckDB file (or ``:memory:``), or a DuckLake given as a :class:`LakeLocation`.

    ``wait_s``: while another process holds the DuckDB file (a watcher's batch, an analyst's
    session, even read-only), try again with back-off for up to this long before raising
    :class:`WarehouseLockedError` (``warehouse.busy_wait_s`` for commands)."""
    if not create:
        require_existing(location)
    if isinstance(location, LakeLocation):
        with _open_lake(location, read_only) as warehouse:
            yield warehouse
        return
    con = _connect_waiting(str(location), read_only, wait_s)
    try:
        warehouse = Warehouse(con)
        if read_only:
            warehouse.require_current_schema(str(location))
        else:
            warehouse.migrate()
        yield warehouse
    finally:
        con.close()


def _connect_waiting(path: str, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return _connect(path, read_only)
        except WarehouseLockedError as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                if wait_s > 0:
                    raise WarehouseLockedError(
                        f"the warehouse {path} was in use by another process for {wait_s:g} s",
                        hint="a watcher batch or an analyst's session holds it: retry when it is done, raise"
                             " warehouse.busy_wait_s, or let readers use the published copy (docs/analysts.md)",
                    ) from exc
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


@contextmanager
def _open_lake(location: LakeLocation, read_only: bool) -> Iterator[Warehouse]:
    from tendon_pipeline.warehouse.lake import AdvisoryLocks, connect_lake

    if read_only:
        con = connect_lake(location, read_only=True)
        try:
            warehouse = Warehouse(con, lake=True)
            warehouse.require_current_schema(str(location))
            yield warehouse
        finally:
            con.close()
        return
    locks = AdvisoryLocks(location)
    try:
        with locks.hold([SCHEMA_LOCK]):  # one writer creates the catalog and migrates
            con = connect_lake(location, read_only=False)
            warehouse = Warehouse(con, locks=locks, lake=True)
            try:
                warehouse.migrate()
            except BaseException:
                con.close()
                raise
        try:
            yield warehouse
        finally:
            con.close()
    finally:
        locks.close()


SCHEMA_LOCK = "schema"
OUTBOX_LOCK = "outbox"
# DuckLake checks conflicts per table: a transaction that deletes rows (run_loads, plans
# are recomputed) conflicts with any concurrent insert into that table, so evaluations
# (light) take turns while ingests (heavy) of different athletes run side by side
EVALUATION_LOCK = "evaluation"


def athlete_lock(athlete_id: str) -> str:
    return f"athlete:{athlete_id}"


def file_lock(file_hash: str) -> str:
    return f"file:{file_hash}"


def recording_lock(device_key: str) -> str:
    """One FIT recording (file_id) across athletes: a cross-athlete collision is seen by both writers."""
    return f"recording:{device_key}"


def retry_on_conflict(fn: Callable[..., T]) -> Callable[..., T]:
    """Run a write again when another writer won a race on the same rows.

    Two runs in one process (event-driven flows) can touch the same rows of a DuckDB file
    ("Conflict on update", or a duplicate key where a twin was not committed yet), and two
    DuckLake writers can commit conflicting changes. The loser's transaction is rolled
    back, and every write here is idempotent, so it simply runs again.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        for attempt in range(8):
            try:
                return fn(*args, **kwargs)
            except (duckdb.TransactionException, duckdb.ConstraintException, WarehouseConflictError):
                if attempt == 7:
                    raise
                time.sleep(0.01 * 2 ** attempt)
        raise AssertionError("unreachable")

    return wrapper


def _not_applied(versions: list[int]) -> str:
    """'migration 12 is not applied', 'migrations 9, 10, 12 are not applied'."""
    if len(versions) == 1:
        return f"migration {versions[0]} is not applied"
    return f"migrations {', '.join(map(str, versions))} are not applied"


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every bundled migration, in order."""
    folder = resources.files("tendon_pipeline.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _superseded_row(row: FileRow, activity_id: str, replaced: bool = False) -> FileRow:
    """A file row of ``activity_id`` marked superseded, as ``_delete_activity`` does: a salvaged
    one (a complete copy came), or any stored one when a re-export ``replaced`` it."""
    if row.activity_id != activity_id or row.status not in (STORED_STATUSES if replaced else {FileStatus.SALVAGED}):
        return row
    return FileRow(row.file_hash, row.path, row.size_bytes, FileStatus.DUPLICATE, row.athlete_id,
                   "superseded", _REPLACED_REASON if replaced else _SUPERSEDED_REASON, row.activity_id)


def _file_reason(decoded: DecodedActivity, code: str | None, reason: str | None) -> tuple[str | None, str | None]:
    """The stored file's reason: a salvage (cut short) first, then what identity said."""
    if decoded.salvaged:
        return "truncated", "; ".join(r for r in (decoded.salvage_reason, reason) if r) or None
    return code, reason


class Warehouse:
    """Typed operations over one open DuckDB connection (a file, or a DuckLake attached)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, locks: Any = None, lake: bool = False) -> None:
        self.con = con
        self.is_lake = lake
        self._in_transaction = False
        self._locks = locks  # lake.AdvisoryLocks on a writable lake; None: one writer per file anyway
        self.migrations_applied: list[int] = []  # by the last migrate(), e.g. on opening for writing

    def lock(self, *keys: str) -> Any:
        """Hold these write locks (see :func:`athlete_lock`, :func:`file_lock`) for a block:
        a no-op on a DuckDB file, PostgreSQL advisory locks on a DuckLake."""
        return self._locks.hold(keys) if self._locks is not None else nullcontext()

    @contextmanager
    def threads(self, count: int) -> Iterator[None]:
        """DuckDB's worker threads held at ``count`` for a block (then as before): a bulk ingest's
        writer leaves the cores to its decode processes instead of competing with them."""
        before = self.one("SELECT current_setting('threads')")[0]
        self.con.execute(f"SET threads = {int(count)}")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {int(before)}")

    def one(self, sql: str, params: list | None = None) -> tuple[Any, ...]:
        """The row of a query that always returns one (an aggregate: count, max, ...)."""
        row = self.con.execute(sql, params or []).fetchone()
        if row is None:
            raise WarehouseError(f"the warehouse returned no row for: {sql}")
        return row

    # -- schema -------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply migrations not yet applied, each in its own transaction."""
        if not self._has_migrations_table():  # opening an up-to-date warehouse writes nothing
            self.con.execute(self._dialect(
                "CREATE TABLE schema_migrations ("
                " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            ))
            self.con.execute("COMMENT ON TABLE schema_migrations IS 'Applied schema migrations (version = file"
                             " number).'")
        done = self._applied_versions()
        applied = []
        for version, name, sql in migrations():
            if version in done:
                continue
            with self.transaction():
                self.con.execute(self._dialect(sql))
                self.con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, _now()])
            applied.append(version)
        if applied and not self.is_lake:
            # Put the new schema in the main file now: DuckDB 1.5 cannot replay a WAL holding
            # CREATE TABLE ... DEFAULT current_timestamp after a crash (duckdb/duckdb#19712),
            # which would leave the warehouse unopenable after a kill during the first ingest.
            self._checkpoint()
        self.migrations_applied = applied
        return applied

    def _checkpoint(self) -> None:
        """Write the WAL into the DuckDB file; a failed write becomes a WarehouseError."""
        try:
            self.con.execute("CHECKPOINT")
        except (duckdb.IOException, duckdb.TransactionException) as exc:
            raise _write_error(exc) from exc

    def _dialect(self, sql: str) -> str:
        if not self.is_lake:
            return sql
        from tendon_pipeline.warehouse.lake import lake_sql

        return lake_sql(sql)

    def schema_version(self) -> int:
        return int(self.one("SELECT max(version) FROM schema_migrations")[0] or 0)

    def _has_migrations_table(self) -> bool:
        return bool(self.one(
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = 'schema_migrations'"
        )[0])

    def _applied_versions(self) -> set[int]:
        if not self._has_migrations_table():
            return set()
        return {row[0] for row in self.con.execute("SELECT version FROM schema_migrations").fetchall()}

    def require_current_schema(self, where: str) -> None:
        """Refuse to read a warehouse an older version made (a read-only open cannot migrate it):
        the queries of this version would fail on missing tables and columns with an SQL error."""
        applied = self._applied_versions()
        missing = sorted(version for version, _, _ in migrations() if version not in applied)
        if missing:
            raise WarehouseSchemaError(
                f"the warehouse {where} is at schema {max(applied, default=0)}, this version of tendon-pipeline"
                f" needs {migrations()[-1][0]} ({_not_applied(missing)})",
                hint="run `tendon migrate` (or any command that writes, such as `tendon evaluate`) once to"
                     " bring it up to date, then this command again; the migrations keep every stored row")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing; a failed write (disk full, read-only file) becomes a WarehouseError."""
        self.con.execute("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            yield
            self.con.execute("COMMIT")
        except (duckdb.IOException, duckdb.TransactionException) as exc:
            self._rollback_quietly()
            raise _write_error(exc) from exc
        except BaseException:
            self._rollback_quietly()
            raise
        finally:
            self._in_transaction = False

    def _rollback_quietly(self) -> None:
        with contextlib.suppress(duckdb.Error):  # the transaction is already gone (failed commit)
            self.con.execute("ROLLBACK")

    # -- source files ---------------------------------------------------------
    def file_status(self, file_hash: str) -> tuple[str, str | None, str | None] | None:
        """(status, reason, athlete) of a file already seen, by content hash."""
        row = self.con.execute(
            "SELECT status, reason, athlete_id FROM source_files WHERE file_hash = ?", [file_hash]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    @retry_on_conflict
    def note_offered_for(self, file_hash: str, athlete_id: str, path: str, ingest_id: str | None) -> None:
        """The exact bytes of a file stored for one athlete were offered for another: say so on the
        file's row (reason_code ``athlete_conflict``, both athletes named), once per athlete."""
        note = (f"the same bytes were also offered for '{athlete_id}' ({path}, ingest {ingest_id}): if the file is"
                f" theirs, `tendon activity reassign ID --to {athlete_id}`")
        with self.lock(file_lock(file_hash)), self.transaction():
            self.con.execute(
                "UPDATE source_files SET reason_code = coalesce(reason_code, 'athlete_conflict'),"
                " reason = CASE WHEN reason IS NULL THEN ? ELSE reason || '; ' || ? END"
                " WHERE file_hash = ? AND NOT contains(coalesce(reason, ''), ?)",
                [note, note, file_hash, f"offered for '{athlete_id}'"])

    def record_file(
        self, *, file_hash: str, path: str, size_bytes: int, status: str, athlete_id: str | None,
        reason_code: str | None = None, reason: str | None = None, activity_id: str | None = None,
        ingest_id: str | None = None,
    ) -> None:
        """Remember a file (skipped, quarantined, duplicate). First sighting wins."""
        with self.lock(file_lock(file_hash)):
            self.con.execute(
                "INSERT INTO source_files (file_hash, path, athlete_id, size_bytes, status, reason_code,"
                " reason, activity_id, ingest_id, first_seen_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                " WHERE NOT EXISTS (SELECT 1 FROM source_files WHERE file_hash = ?)",
                [file_hash, path, athlete_id, size_bytes, status, reason_code, reason, activity_id, ingest_id,
                 _now(), file_hash],
            )

    def forget_file(self, file_hash: str) -> None:
        """Drop a quarantined file's row so that a decoder that now reads it can store it."""
        with self.lock(file_lock(file_hash)):
            self.con.execute("DELETE FROM source_files WHERE file_hash = ? AND status = 'quarantined'",
                             [file_hash])

    # -- athletes -------------------------------------------------------------
    def ensure_athlete(
        self, athlete_id: str, *, body_mass_kg: float | None = None, height_m: float | None = None,
        source: str = "config", display_name: str | None = None,
    ) -> None:
        """Create the athlete if new; configuration overrides, a file only fills gaps.

        Inside :meth:`transaction` it is part of that transaction; outside, it commits on its
        own and runs again if it lost a race with another writer (a lake)."""
        if self._in_transaction:
            self._ensure_athlete(athlete_id, body_mass_kg, height_m, source, display_name)
            return

        @retry_on_conflict
        def committed() -> None:
            with self.transaction():
                self._ensure_athlete(athlete_id, body_mass_kg, height_m, source, display_name)

        committed()

    def _ensure_athlete(self, athlete_id: str, body_mass_kg: float | None, height_m: float | None,
                        source: str, display_name: str | None) -> None:
        with self.lock(athlete_lock(athlete_id)):
            self.con.execute(  # a new athlete is written once, complete (no update after the insert)
                "INSERT INTO athletes (athlete_id, display_name, body_mass_kg, height_m, body_mass_source)"
                " SELECT $athlete, $name, $mass, $height, CASE WHEN $mass IS NULL THEN NULL ELSE $source END"
                " WHERE NOT EXISTS (SELECT 1 FROM athletes WHERE athlete_id = $athlete)",
                {"athlete": athlete_id, "name": display_name, "mass": body_mass_kg, "height": height_m,
                 "source": source},
            )
            self._update_athlete(athlete_id, body_mass_kg, height_m, source, display_name)

    def _update_athlete(self, athlete_id: str, body_mass_kg: float | None, height_m: float | None,
                        source: str, display_name: str | None) -> None:
        """Configuration overrides; a file only fills gaps. Rows already right are not touched
        (on a DuckLake an UPDATE rewrites the row and conflicts with other writers' inserts)."""
        if source == "config":
            new = {"display_name": "coalesce($name, display_name)", "body_mass_kg": "coalesce($mass, body_mass_kg)",
                   "height_m": "coalesce($height, height_m)",
                   "body_mass_source": "CASE WHEN $mass IS NULL THEN body_mass_source ELSE 'config' END"}
        else:
            new = {"body_mass_kg": "coalesce(body_mass_kg, $mass)", "height_m": "coalesce(height_m, $height)",
                   "body_mass_source": "coalesce(body_mass_source, CASE WHEN $mass IS NULL THEN NULL ELSE $source END)"}
        sql = (f"UPDATE athletes SET {', '.join(f'{c} = {e}' for c, e in new.items())} WHERE athlete_id = $athlete"
               f" AND ({' OR '.join(f'{c} IS DISTINCT FROM {e}' for c, e in new.items())})")
        values = {"name": display_name, "mass": body_mass_kg, "height": height_m, "source": source,
                  "athlete": athlete_id}
        self.con.execute(sql, {k: v for k, v in values.items() if f"${k}" in sql})

    # -- activities -----------------------------------------------------------
    @retry_on_conflict
    def store_activity(
        self, decoded: DecodedActivity, *, athlete_id: str, path: str, ingest_id: str | None = None,
    ) -> StoredActivity:
        """Store one decoded activity and its file row in a single transaction.

        The same activity under another file name is recorded as a duplicate file
        pointing at the stored activity, except that a complete copy replaces a
        salvaged (cut short) one, so the fuller data wins whatever the arrival order.
        """
        keys = (athlete_lock(athlete_id), file_lock(decoded.content_hash), recording_lock(decoded.activity_key))
        with self.lock(*keys), self.transaction():
            verdict = identity_verdict(decoded, athlete_id,
                                       self._stored_matches([decoded.activity_key]).get(decoded.activity_key, []))
            if verdict.action == "duplicate":
                self.record_file(
                    file_hash=decoded.content_hash, path=path, size_bytes=decoded.size_bytes,
                    status=FileStatus.DUPLICATE, athlete_id=athlete_id, reason_code="duplicate_activity",
                    reason=f"same activity as {verdict.existing_id} already stored", activity_id=verdict.existing_id,
                    ingest_id=ingest_id,
                )
                return StoredActivity(FileStatus.DUPLICATE, verdict.existing_id or "")
            if verdict.action == "replace" and verdict.existing_id:
                self._delete_activity(verdict.existing_id, replaced=verdict.reason_code == "replaced")
            activity_key = athlete_activity_key(athlete_id, decoded.activity_key)
            activity_id = activity_key[:16]
            self.ensure_athlete(
                athlete_id, body_mass_kg=decoded.body_mass_kg, height_m=decoded.height_m,
                source="fit_user_profile",
            )
            self._insert_activity_row(decoded, activity_id, activity_key, athlete_id)
            for table, frame in (
                ("sessions", decoded.sessions), ("laps", decoded.laps),
                ("records", decoded.records), ("strength_sets", decoded.sets),
            ):
                self._insert_frame(table, frame, activity_id)
            status = FileStatus.SALVAGED if decoded.salvaged else FileStatus.INGESTED
            code, reason = _file_reason(decoded, verdict.reason_code, verdict.reason)
            self.record_file(
                file_hash=decoded.content_hash, path=path, size_bytes=decoded.size_bytes,
                status=status, athlete_id=athlete_id, reason_code=code,
                reason=reason, activity_id=activity_id, ingest_id=ingest_id,
            )
            self.needs_evaluation(athlete_id, "replaced_activity" if verdict.action == "replace" else "new_activity",
                                  ingest_id)
        return StoredActivity(status, activity_id, code, reason)

    def _stored_matches(self, device_keys: Iterable[str]) -> dict[str, list[StoredMatch]]:
        """Stored activities by file_id identity (``device_key``), every athlete's, with their sessions."""
        wanted = sorted(set(device_keys))
        if not wanted:
            return {}
        rows = self.con.execute(
            "SELECT coalesce(device_key, activity_key) AS device, activity_id, athlete_id, salvaged FROM activities"
            " WHERE coalesce(device_key, activity_key) IN (SELECT unnest(?::VARCHAR[]))"
            " ORDER BY ingested_at, activity_id", [wanted],
        ).fetchall()
        if not rows:
            return {}
        sessions = self.con.execute(
            "SELECT activity_id, session_index, sport, distance_m, timer_s FROM sessions"
            " WHERE activity_id IN (SELECT unnest(?::VARCHAR[]))", [[r[1] for r in rows]]).df()
        found: dict[str, list[StoredMatch]] = {}
        for device_key, activity_id, athlete, salvaged in rows:
            fingerprint = session_fingerprint(sessions[sessions["activity_id"] == activity_id])
            found.setdefault(device_key, []).append(StoredMatch(activity_id, athlete, bool(salvaged), fingerprint))
        return found

    def _delete_activity(self, activity_id: str, *, replaced: bool = False) -> None:
        """Remove a stored activity's rows that a fuller copy (or, ``replaced``, a re-export) supersedes;
        its source_files rows stay as history, marked superseded."""
        for table in ("records", "laps", "sessions", "strength_sets", "activities"):
            self.con.execute(f"DELETE FROM {table} WHERE activity_id = ?", [activity_id])
        statuses = ["salvaged", "ingested"] if replaced else ["salvaged"]
        self.con.execute(
            "UPDATE source_files SET status = 'duplicate', reason_code = 'superseded', reason = ?"
            " WHERE activity_id = ? AND list_contains(?, status)",
            [_REPLACED_REASON if replaced else _SUPERSEDED_REASON, activity_id, statuses])

    def _insert_activity_row(self, d: DecodedActivity, activity_id: str, activity_key: str, athlete_id: str) -> None:
        self.con.execute(
            "INSERT INTO activities (activity_id, activity_key, device_key, athlete_id, file_hash, manufacturer,"
            " product, serial_number, time_created_utc, start_utc, local_offset_s, body_mass_kg,"
            " height_m, salvaged, salvage_reason, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [activity_id, activity_key, d.activity_key, athlete_id, d.content_hash, d.manufacturer, d.product,
             d.serial_number, d.time_created_utc, d.start_utc, d.local_offset_s, d.body_mass_kg,
             d.height_m, d.salvaged, d.salvage_reason, _now()],
        )

    def _insert_frame(self, table: str, frame: pd.DataFrame, activity_id: str) -> None:
        if frame.empty:
            return
        view = f"_incoming_{table}"
        self.con.register(view, frame)
        try:
            self.con.execute(
                f"INSERT INTO {table} BY NAME SELECT ?::VARCHAR AS activity_id, * FROM {view}",
                [activity_id],
            )
        finally:
            self.con.unregister(view)

    # -- fixing an activity stored under the wrong athlete ---------------------------
    def activity_owner(self, activity_id: str) -> tuple[str, str | None, list] | None:
        """(athlete, device_key, local dates of its legs) of a stored activity; None if there is none."""
        row = self.con.execute("SELECT athlete_id, coalesce(device_key, activity_key), CAST(start_utc AS DATE)"
                               " FROM activities"
                               " WHERE activity_id = ?", [activity_id]).fetchone()
        if row is None:
            return None
        days = [r[0] for r in self.con.execute(
            "SELECT DISTINCT local_date FROM run_loads WHERE activity_id = ? ORDER BY 1", [activity_id]).fetchall()]
        return row[0], row[1], days or ([row[2]] if row[2] else [])

    @retry_on_conflict
    def reassign_activity(self, activity_id: str, from_athlete: str, to_athlete: str, device_key: str | None) -> None:
        """Move an activity (and its file rows) to another athlete in one transaction; the caller
        re-evaluates both. Refused (ValueError) when that athlete already holds the same recording."""
        keys = [athlete_lock(from_athlete), athlete_lock(to_athlete)]
        keys += [recording_lock(device_key)] if device_key else []
        with self.lock(*keys), self.transaction():
            twin = self.con.execute("SELECT activity_id FROM activities WHERE athlete_id = ?"
                                    " AND coalesce(device_key, activity_key) = ?",
                                    [to_athlete, device_key]).fetchone()
            if twin is not None:
                raise ValueError(f"'{to_athlete}' already has this recording as activity {twin[0]}")
            self.ensure_athlete(to_athlete)
            new_key = athlete_activity_key(to_athlete, device_key) if device_key else None
            self.con.execute("UPDATE activities SET athlete_id = ?, device_key = coalesce(device_key, activity_key),"
                             " activity_key = coalesce(?, activity_key) WHERE activity_id = ?",
                             [to_athlete, new_key, activity_id])
            self.con.execute("DELETE FROM run_loads WHERE activity_id = ?", [activity_id])
            self.con.execute(
                "UPDATE source_files SET athlete_id = ?, reason_code = 'reassigned', reason = ?"
                " WHERE activity_id = ? AND athlete_id = ?",
                [to_athlete, f"reassigned from '{from_athlete}' to '{to_athlete}' at {_now():%Y-%m-%d %H:%M} UTC"
                             " (tendon activity reassign)", activity_id, from_athlete])

    @retry_on_conflict
    def delete_activity(self, activity_id: str, athlete_id: str) -> None:
        """Remove an activity and its loads; its file rows stay, marked deleted (the same bytes
        offered again are then already seen, not stored again)."""
        with self.lock(athlete_lock(athlete_id)), self.transaction():
            for table in ("records", "laps", "sessions", "strength_sets", "run_loads", "activities"):
                self.con.execute(f"DELETE FROM {table} WHERE activity_id = ?", [activity_id])
            self.con.execute(
                "UPDATE source_files SET status = 'skipped', reason_code = 'deleted', reason = ?"
                " WHERE activity_id = ?",
                [f"activity deleted at {_now():%Y-%m-%d %H:%M} UTC (tendon activity delete)", activity_id])

    # -- batches (bulk ingest) -------------------------------------------------
    def file_statuses(self, hashes: Iterable[str]) -> dict[str, tuple[str, str | None, str | None]]:
        """:meth:`file_status` for many hashes in one query: only the hashes already seen."""
        wanted = sorted(set(hashes))
        if not wanted:
            return {}
        rows = self.con.execute(
            "SELECT file_hash, status, reason, athlete_id FROM source_files"
            " WHERE file_hash IN (SELECT unnest(?::VARCHAR[]))", [wanted],
        ).fetchall()
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    @retry_on_conflict
    def store_batch(
        self, activities: Sequence[PendingActivity], *, files: Sequence[FileRow] = (),
        forget: Sequence[str] = (), ingest_id: str | None = None,
    ) -> list[StoredActivity]:
        """Store many activities and file rows in ONE transaction, a few statements in all.

        The result is what :meth:`forget_file` for each of ``forget``, :meth:`record_file`
        for each of ``files`` and :meth:`store_activity` for each of ``activities`` (in
        order) would leave, one StoredActivity per activity: an activity seen before (in
        the warehouse or earlier in the batch) is a duplicate, except that a complete copy
        replaces a salvaged one. The caller gives each file hash at most once. All or
        nothing: a failed write leaves none of the batch (a disk-full or read-only file
        becomes a WarehouseError, like :meth:`transaction`).
        """
        keys = {athlete_lock(a.athlete_id) for a in activities}
        keys |= {file_lock(a.decoded.content_hash) for a in activities} | {file_lock(r.file_hash) for r in files}
        keys |= {file_lock(h) for h in forget} | {recording_lock(a.decoded.activity_key) for a in activities}
        with self.lock(*keys):
            return self._store_batch(activities, files, forget, ingest_id)

    def _store_batch(self, activities: Sequence[PendingActivity], files: Sequence[FileRow],
                     forget: Sequence[str], ingest_id: str | None) -> list[StoredActivity]:
        matches = self._stored_matches(a.decoded.activity_key for a in activities)  # grows with the batch
        rows: list[FileRow] = list(files)
        stored: dict[str, int] = {}  # activity_id -> index into activities, to insert
        superseded: list[tuple[str, bool]] = []  # (activity id stored before this batch, replaced), to delete
        profiles: dict[str, list[float | None]] = {}  # athlete -> first [body mass, height] seen
        results: list[StoredActivity] = []
        for index, item in enumerate(activities):
            d = item.decoded
            found = matches.setdefault(d.activity_key, [])
            verdict = identity_verdict(d, item.athlete_id, found)
            if verdict.action == "duplicate":
                rows.append(FileRow(d.content_hash, item.path, d.size_bytes, FileStatus.DUPLICATE, item.athlete_id,
                                    "duplicate_activity", f"same activity as {verdict.existing_id} already stored",
                                    verdict.existing_id))
                results.append(StoredActivity(FileStatus.DUPLICATE, verdict.existing_id or ""))
                continue
            if verdict.action == "replace" and verdict.existing_id:
                old, replaced = verdict.existing_id, verdict.reason_code == "replaced"
                if stored.pop(old, None) is None:
                    superseded.append((old, replaced))
                rows = [_superseded_row(r, old, replaced) for r in rows]
                found[:] = [m for m in found if m.activity_id != old]
            activity_id = athlete_activity_key(item.athlete_id, d.activity_key)[:16]
            found.append(StoredMatch(activity_id, item.athlete_id, d.salvaged, activity_fingerprint(d)))
            profile = profiles.setdefault(item.athlete_id, [None, None])
            profile[0] = profile[0] if profile[0] is not None else d.body_mass_kg
            profile[1] = profile[1] if profile[1] is not None else d.height_m
            stored[activity_id] = index
            status = FileStatus.SALVAGED if d.salvaged else FileStatus.INGESTED
            code, reason = _file_reason(d, verdict.reason_code, verdict.reason)
            rows.append(FileRow(d.content_hash, item.path, d.size_bytes, status, item.athlete_id, code, reason,
                                activity_id))
            results.append(StoredActivity(status, activity_id, code, reason))
        to_insert = [activities[i] for i in sorted(stored.values())]
        with self.transaction():
            if forget:
                self.con.execute("DELETE FROM source_files WHERE status = 'quarantined'"
                                 " AND file_hash IN (SELECT unnest(?::VARCHAR[]))", [sorted(set(forget))])
            for activity_id, replaced in superseded:
                self._delete_activity(activity_id, replaced=replaced)
            for athlete_id, (body_mass_kg, height_m) in profiles.items():
                self.ensure_athlete(athlete_id, body_mass_kg=body_mass_kg, height_m=height_m,
                                    source="fit_user_profile")
            self._insert_activity_rows(to_insert)
            self._insert_tables(to_insert)
            self._insert_file_rows(rows, ingest_id)
            for athlete_id in sorted({a.athlete_id for a in to_insert}):
                self.needs_evaluation(athlete_id, "new_activity", ingest_id)
        return results

    def _insert_arrow(self, table: str, data: pa.Table, sql: str) -> None:
        view = f"_incoming_batch_{table}"
        self.con.register(view, data)
        try:
            self.con.execute(sql.format(view=view))
        finally:
            self.con.unregister(view)

    def _insert_activity_rows(self, items: Sequence[PendingActivity]) -> None:
        if not items:
            return
        now = _now()
        columns: dict[str, list[Any]] = {name: [] for name in _ACTIVITY_ROW_TYPES}
        for item in items:
            d = item.decoded
            activity_key = athlete_activity_key(item.athlete_id, d.activity_key)
            for name, value in (
                ("activity_id", activity_key[:16]), ("activity_key", activity_key), ("device_key", d.activity_key),
                ("athlete_id", item.athlete_id), ("file_hash", d.content_hash),
                ("manufacturer", d.manufacturer), ("product", d.product), ("serial_number", d.serial_number),
                ("time_created_utc", d.time_created_utc), ("start_utc", d.start_utc),
                ("local_offset_s", d.local_offset_s), ("body_mass_kg", d.body_mass_kg),
                ("height_m", d.height_m), ("salvaged", d.salvaged), ("salvage_reason", d.salvage_reason),
                ("ingested_at", now),
            ):
                columns[name].append(value)
        import pyarrow as pa

        data = pa.table({name: pa.array(values, type=pa.type_for_alias(_ACTIVITY_ROW_TYPES[name]))
                         for name, values in columns.items()})
        self._insert_arrow("activities", data, "INSERT INTO activities BY NAME SELECT * FROM {view}")

    def _insert_tables(self, items: Sequence[PendingActivity]) -> None:
        """Every activity's sessions, laps, records and sets: one INSERT per table for the batch, from
        the decoded columns concatenated once (no frame per activity)."""
        from tendon_pipeline.fit import columns as C

        ids = [athlete_activity_key(a.athlete_id, a.decoded.activity_key)[:16] for a in items]
        for table, attr in (("sessions", "session_table"), ("laps", "lap_table"), ("strength_sets", "set_table")):
            parts = [(activity_id, getattr(a.decoded, attr)) for activity_id, a in zip(ids, items)]
            parts = [(activity_id, rows) for activity_id, rows in parts if len(rows)]
            if parts:  # the lists straight to Arrow, or (odd time values) one frame for the batch
                tables = [rows for _, rows in parts]
                self._insert_columns(table, C.concat_columns(tables) or C.concat_frame(tables), parts)
        parts = [(activity_id, a.decoded.record_table) for activity_id, a in zip(ids, items)]
        parts = [(activity_id, records) for activity_id, records in parts if len(records)]
        if parts:
            self._insert_columns("records", C.concat_records([records for _, records in parts]), parts)

    def _insert_columns(self, table: str, data: pd.DataFrame | dict[str, Any],
                        parts: Sequence[tuple[str, Any]]) -> None:
        """One INSERT of a batch's rows (a frame, or NumPy and Arrow columns: NaN and NaT become NULL,
        as from a frame), an activity_id column added."""
        import numpy as np
        import pyarrow as pa

        if isinstance(data, dict):
            arrow = pa.table({name: values if isinstance(values, pa.Array) else pa.array(values, from_pandas=True)
                              for name, values in data.items()})
        else:
            arrow = pa.Table.from_pandas(data, preserve_index=False)
        # each part's id repeated for its rows, by index in Arrow (a NumPy array of 200,000 Python
        # strings converted to Arrow took 25 ms of a year's ingest; this takes 1)
        index = np.repeat(np.arange(len(parts), dtype=np.int32), [len(rows) for _, rows in parts])
        activity_ids = pa.array([a for a, _ in parts], type=pa.string()).take(pa.array(index))
        arrow = arrow.append_column("activity_id", activity_ids)
        self._insert_arrow(table, arrow, f"INSERT INTO {table} BY NAME SELECT * FROM {{view}}")

    def _insert_file_rows(self, rows: Sequence[FileRow], ingest_id: str | None) -> None:
        if not rows:
            return
        now = _now()
        import pyarrow as pa

        names = [n for n in _FILE_ROW_TYPES if n not in ("ingest_id", "first_seen_at")]
        data = pa.table({
            **{n: pa.array([getattr(r, n) for r in rows], type=pa.type_for_alias(_FILE_ROW_TYPES[n])) for n in names},
            "ingest_id": pa.array([ingest_id] * len(rows), type=pa.string()),
            "first_seen_at": pa.array([now] * len(rows), type=pa.timestamp("us")),
        })
        cols = ", ".join(_FILE_ROW_TYPES)
        self._insert_arrow("source_files", data,
                           f"INSERT INTO source_files ({cols}) SELECT {cols} FROM {{view}} v WHERE NOT EXISTS"
                           " (SELECT 1 FROM source_files s WHERE s.file_hash = v.file_hash)")

    @retry_on_conflict
    def record_offers(self, rows: Sequence[FileRow], ingest_id: str | None) -> None:
        """Paths whose bytes were already seen (``file_offers``), each path once: one statement."""
        if not rows:
            return
        import pyarrow as pa

        data = pa.table({
            "path": pa.array([r.path for r in rows], type=pa.string()),
            "file_hash": pa.array([r.file_hash for r in rows], type=pa.string()),
            "athlete_id": pa.array([r.athlete_id for r in rows], type=pa.string()),
            "status": pa.array([r.status for r in rows], type=pa.string()),
            "reason_code": pa.array([r.reason_code for r in rows], type=pa.string()),
            "reason": pa.array([r.reason for r in rows], type=pa.string()),
            "ingest_id": pa.array([ingest_id] * len(rows), type=pa.string()),
            "offered_at": pa.array([_now()] * len(rows), type=pa.timestamp("us")),
        })
        with self.transaction():
            self._insert_arrow(
                "file_offers", data,
                "INSERT INTO file_offers (path, file_hash, athlete_id, status, reason_code, reason, ingest_id,"
                " offered_at) SELECT v.* FROM (SELECT DISTINCT ON (path) * FROM {view}) v"
                " WHERE NOT EXISTS (SELECT 1 FROM source_files s WHERE s.path = v.path)"
                " AND NOT EXISTS (SELECT 1 FROM file_offers f WHERE f.path = v.path)")

    # -- pending evaluations (migration 0008) -----------------------------------
    def needs_evaluation(self, athlete_id: str, reason: str, ingest_id: str | None = None) -> None:
        """Record that ``athlete_id`` must be evaluated: call it inside the transaction that
        stores the data that makes it so, so that a crash right after the commit cannot lose it."""
        if not self._in_transaction:
            raise AssertionError("needs_evaluation belongs in the transaction that stores the data")
        self.con.execute("INSERT INTO pending_evaluations (athlete_id, reason, since, ingest_id) VALUES (?, ?, ?, ?)",
                         [athlete_id, reason, _now(), ingest_id])

    def pending_evaluations(self, athlete_id: str | None = None) -> list[PendingEvaluation]:
        """What is waiting for an evaluation (every athlete, or one), oldest first."""
        rows = self.con.execute(
            "SELECT athlete_id, reason, since, ingest_id FROM pending_evaluations"
            " WHERE ? IS NULL OR athlete_id = ? ORDER BY since, athlete_id", [athlete_id, athlete_id]).fetchall()
        return [PendingEvaluation(*row) for row in rows]

    def clear_pending(self, athlete_id: str, consumed: Sequence[PendingEvaluation]) -> None:
        """Delete the pending rows an evaluation read (call inside that evaluation's transaction);
        a row written since, by a concurrent ingest, stays for the next evaluation."""
        if not self._in_transaction:
            raise AssertionError("clear_pending belongs in the evaluation's transaction")
        if not consumed:
            return
        self.con.execute(
            "DELETE FROM pending_evaluations WHERE athlete_id = ? AND since <= ?"
            " AND since IN (SELECT unnest(?::TIMESTAMP[]))",
            [athlete_id, max(p.since for p in consumed), sorted({p.since for p in consumed})])

    # -- ingest runs ----------------------------------------------------------
    @retry_on_conflict
    def start_ingest_run(self, ingest_id: str, files_seen: int) -> None:
        self.con.execute(
            "INSERT INTO ingest_runs (ingest_id, started_at, files_seen) SELECT ?, ?, ?"
            " WHERE NOT EXISTS (SELECT 1 FROM ingest_runs WHERE ingest_id = ?)",
            [ingest_id, _now(), files_seen, ingest_id],
        )

    @retry_on_conflict
    def finish_ingest_run(self, ingest_id: str, summary_json: str) -> None:
        with self.transaction():  # a lost race on a lake is then a WarehouseConflictError, retried
            self.con.execute(
                "UPDATE ingest_runs SET finished_at = ?, summary = ? WHERE ingest_id = ?",
                [_now(), summary_json, ingest_id],
            )

    # -- housekeeping ---------------------------------------------------------
    @retry_on_conflict
    def maintain(self, *, keep_days: float = 7.0) -> dict[str, Any]:
        """Housekeeping: on a lake, merge the small Parquet files that many small commits leave,
        expire snapshots older than ``keep_days`` and delete unreferenced files; on a file,
        a checkpoint. Returns data files per table before and after (lake) for the report."""
        if not self.is_lake:
            self._checkpoint()
            return {"warehouse": "file", "checkpoint": True}
        from tendon_pipeline.warehouse.lake import compact, data_file_counts

        # the writers that delete rows (evaluations, the outbox) wait; ingests, which only
        # add files, go on (a conflict with one is retried)
        with self.lock(EVALUATION_LOCK, OUTBOX_LOCK):
            before = data_file_counts(self.con)
            try:
                compact(self.con, keep_days)
            except duckdb.TransactionException as exc:
                raise _write_error(exc) from exc
            after = data_file_counts(self.con)
        return {"warehouse": "ducklake", "files_before": sum(before.values()), "files_after": sum(after.values()),
                "by_table": {t: [before.get(t, 0), after.get(t, 0)] for t in sorted(after)}}

    # -- reading --------------------------------------------------------------
    def table_counts(self) -> dict[str, int]:
        tables = ["athletes", "source_files", "activities", "sessions", "laps", "records", "strength_sets"]
        return {t: int(self.one(f"SELECT count(*) FROM {t}")[0]) for t in tables}

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()
