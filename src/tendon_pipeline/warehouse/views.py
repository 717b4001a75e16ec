"""Reading the analyst views (migration 0004) and exporting the warehouse as Parquet.

The views are the stable, documented surface for analysts (docs/analysts.md); the coach
board reads them too, so what a coach sees is what an analyst can query.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tendon_pipeline.errors import ConfigError, WarehouseError
from tendon_pipeline.warehouse.store import Warehouse

if TYPE_CHECKING:  # the models (pydantic) are imported by the readers that build them: `tendon summary`
    from tendon_pipeline.domain.models import WeekPlan  # reads counts and starts fast (issue 17)

# The stable analyst views, in the order docs/analysts.md presents them.
VIEWS: tuple[str, ...] = (
    "weekly_load", "run_summary", "strength_work", "pain_daily", "alert_history", "weekly_plans", "athlete_sync",
    "alert_precision",
)

# Per-athlete tables that stay one file: the athletes table itself (one row per athlete).
_UNPARTITIONED = frozenset({"athletes"})

# Column names that hold a position: dropped by an export with drop_gps.
_GPS_COLUMN = re.compile(r"(^|_)(lat|lon|latitude|longitude)(_|$)")


# --------------------------------------------------------------------------- plans


def read_plans(warehouse: Warehouse, athlete_id: str) -> list[WeekPlan]:
    """Every stored weekly plan of the athlete, oldest first."""
    from tendon_pipeline.domain.models import WeekPlan

    rows = warehouse.con.execute(
        "SELECT plan FROM plans WHERE athlete_id = ? ORDER BY week_start", [athlete_id]).fetchall()
    return [WeekPlan.model_validate_json(r[0]) for r in rows]


@dataclass(frozen=True)
class Freshness:
    """How current an athlete's stored alerts, loads and plan are."""

    evaluated_at: datetime | None  # when the last evaluation stored the athlete's plan (UTC); None: never
    newer_activities: int  # activities stored after it
    newer_logs: int  # pain, VISA-A and strength entries logged after it

    @property
    def stale(self) -> bool:
        return self.evaluated_at is None or self.newer_activities > 0 or self.newer_logs > 0


_LOG_TABLES = ("pain_log", "visa_a_log", "strength_log", "race_log")  # entries that change an evaluation


def evaluation_freshness(warehouse: Warehouse, athlete_id: str) -> Freshness:
    """Every evaluation stores a plan, so the newest plan row dates the last one."""
    evaluated_at = warehouse.one("SELECT max(created_at) FROM plans WHERE athlete_id = ?", [athlete_id])[0]
    since = evaluated_at or datetime(1, 1, 1)
    activities = warehouse.one("SELECT count(*) FROM activities WHERE athlete_id = ? AND ingested_at > ?",
                               [athlete_id, since])[0]
    logs = sum(warehouse.one(f"SELECT count(*) FROM {table} WHERE athlete_id = ? AND logged_at > ?",
                             [athlete_id, since])[0] for table in _LOG_TABLES)
    return Freshness(evaluated_at, activities, logs)


@dataclass(frozen=True)
class Holdings:
    """What the warehouse holds: rows per table and, per athlete, activities, runs and km run."""

    counts: dict[str, int]
    per_athlete: list[dict]


def read_holdings(warehouse: Warehouse) -> Holdings:
    return Holdings(warehouse.table_counts(), holdings(warehouse))


def holdings(warehouse: Warehouse) -> list[dict]:
    """Per athlete: activities, runs and km run (``tendon summary``)."""
    return _rows(warehouse,
                 "SELECT a.athlete_id, count(DISTINCT a.activity_id) AS activities,"
                 " count(DISTINCT a.activity_id) FILTER (WHERE s.sport = 'running') AS runs,"
                 " round(coalesce(sum(s.distance_m) FILTER (WHERE s.sport = 'running'), 0) / 1000, 1) AS run_km"
                 " FROM activities a LEFT JOIN sessions s USING (activity_id)"
                 " GROUP BY 1 ORDER BY 1")


def source_files(warehouse: Warehouse, status: str | None = None, reason_code: str | None = None) -> list[dict]:
    """Files offered to ingest and what became of them, oldest first (``tendon files``): a row per
    content (source_files) and per path whose bytes were already seen (file_offers)."""
    return _rows(warehouse,
                 "SELECT path, athlete_id, status, reason_code, reason, activity_id FROM ("
                 " SELECT path, athlete_id, status, reason_code, reason, activity_id, first_seen_at FROM source_files"
                 " UNION ALL SELECT path, athlete_id, status, reason_code, reason, NULL, offered_at FROM file_offers)"
                 " WHERE (? IS NULL OR status = ?) AND (? IS NULL OR reason_code = ?) ORDER BY first_seen_at, path",
                 [status, status, reason_code, reason_code])


def known_athletes(warehouse: Warehouse) -> set[str]:
    return {r[0] for r in warehouse.con.execute("SELECT athlete_id FROM athletes").fetchall()}


def athlete_sync_row(warehouse: Warehouse, athlete_id: str) -> dict | None:
    """The athlete's athlete_sync row (name, last sync, activity span), None when unknown."""
    rows = _rows(warehouse, "SELECT * FROM athlete_sync WHERE athlete_id = ?", [athlete_id])
    return rows[0] if rows else None


# --------------------------------------------------------------------------- coach board


@dataclass
class CoachFacts:
    """What the coach board shows for one athlete, read from the analyst views."""

    athlete_id: str
    known: bool
    display_name: str | None = None
    alerts: list[dict] = field(default_factory=list)  # alert_history rows since the cut-off, worst first
    week_km: float = 0.0
    week_runs: int = 0
    week_load_bw: float = 0.0
    previous_week_load_bw: float | None = None
    plan: dict | None = None  # weekly_plans row for the week of as_of
    pain: list[dict] = field(default_factory=list)  # pain_daily rows of the last 14 days, oldest first
    last_sync_at: datetime | None = None
    last_activity_utc: datetime | None = None


def week_so_far(warehouse: Warehouse, athlete_id: str, as_of: date) -> dict:
    """Running in the ISO week of ``as_of`` up to that day (run_summary): km, runs, longest, load."""
    monday = as_of - timedelta(days=as_of.weekday())
    km, runs, longest, load = warehouse.one(
        "SELECT coalesce(sum(distance_km), 0), count(*), coalesce(max(distance_km), 0),"
        " coalesce(sum(tendon_load_bw), 0)"
        " FROM run_summary WHERE athlete_id = ? AND is_running AND local_date BETWEEN ? AND ?",
        [athlete_id, monday, as_of])
    return {"monday": monday, "km": float(km), "runs": int(runs), "longest_km": float(longest),
            "load_bw": float(load)}


def coach_facts(warehouse: Warehouse, athlete_ids: list[str], as_of: date, *,
                alert_days: int = 14) -> list[CoachFacts]:
    """Facts for each athlete (in the given order): open alerts (dated in the last
    ``alert_days`` days), this week's running so far against this week's plan, pain
    reports of the last 14 days, and when their data last arrived."""
    monday = as_of - timedelta(days=as_of.weekday())
    known = known_athletes(warehouse)
    out = []
    for athlete in athlete_ids:
        facts = CoachFacts(athlete_id=athlete, known=athlete in known)
        if not facts.known:
            out.append(facts)
            continue
        sync = warehouse.one(
            "SELECT display_name, last_sync_at, last_activity_utc FROM athlete_sync WHERE athlete_id = ?",
            [athlete])
        facts.display_name, facts.last_sync_at, facts.last_activity_utc = sync
        facts.alerts = _rows(
            warehouse, "SELECT alert_date, rule, severity, severity_rank, period, message FROM alert_history"
            " WHERE athlete_id = ? AND alert_date BETWEEN ? AND ?"
            " ORDER BY severity_rank DESC, alert_date DESC, rule",
            [athlete, as_of - timedelta(days=alert_days), as_of])
        week = week_so_far(warehouse, athlete, as_of)
        facts.week_km, facts.week_runs, facts.week_load_bw = week["km"], week["runs"], week["load_bw"]
        previous = warehouse.con.execute(
            "SELECT tendon_load_bw FROM weekly_load WHERE athlete_id = ? AND week_start = ?",
            [athlete, monday - timedelta(days=7)]).fetchone()
        facts.previous_week_load_bw = float(previous[0]) if previous else None
        plans = _rows(
            warehouse, "SELECT week_start, status, target_km_low, target_km_high, long_run_cap_km FROM weekly_plans"
            " WHERE athlete_id = ? AND week_start = ?", [athlete, monday])
        facts.plan = plans[0] if plans else None
        facts.pain = _rows(
            warehouse, "SELECT local_date, during, next_morning, pain_level FROM pain_daily"
            " WHERE athlete_id = ? AND pain_level IS NOT NULL AND local_date BETWEEN ? AND ? ORDER BY local_date",
            [athlete, as_of - timedelta(days=13), as_of])
        out.append(facts)
    return out


def _rows(warehouse: Warehouse, sql: str, params: list | None = None) -> list[dict]:
    """Rows as dicts of plain Python values (DATE -> date, TIMESTAMP -> datetime, NULL -> None)."""
    cursor = warehouse.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --------------------------------------------------------------------------- Parquet export


@dataclass
class ExportedObject:
    name: str
    kind: str  # "table" | "view"
    path: str  # relative to the export folder
    rows: int
    partitioned_by: str | None
    columns: list[str]
    dropped_columns: list[str]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path, "rows": self.rows, "partitioned_by": self.partitioned_by,
                "columns": self.columns, "dropped_columns": self.dropped_columns}


@dataclass
class ExportSummary:
    out: Path
    objects: list[ExportedObject]
    gps: str  # "included" | "dropped"
    schema_version: int
    bytes: int = 0

    def rows(self, name: str) -> int:
        return next(o.rows for o in self.objects if o.name == name)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(warehouse: Warehouse) -> list[str]:
    return [r[0] for r in warehouse.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT internal ORDER BY 1").fetchall()]


def _columns(warehouse: Warehouse, name: str) -> list[tuple[str, bool]]:
    """(column, nullable) of a table or view."""
    return [(r[0], bool(r[1])) for r in warehouse.con.execute(
        "SELECT column_name, is_nullable FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = ?"
        " ORDER BY column_index", [name]).fetchall()]


def _export_query(warehouse: Warehouse, name: str, drop_gps: bool) -> tuple[str, str | None, list[str], list[str]]:
    """(select, partition column, exported columns, dropped columns) for one table.

    Per-athlete tables (an athlete_id or activity_id that is never NULL) are partitioned by
    athlete_id; per-activity tables without athlete_id get it from activities.
    """
    columns = _columns(warehouse, name)
    dropped = [c for c, _ in columns if drop_gps and _GPS_COLUMN.search(c)]
    kept = [c for c, _ in columns if c not in dropped]
    not_null = {c for c, nullable in columns if not nullable}
    select_list = ", ".join(f"t.{_quote(c)}" for c in kept)
    if name in _UNPARTITIONED:
        return f"SELECT {select_list} FROM {_quote(name)} t", None, kept, dropped
    if "athlete_id" in not_null:
        return f"SELECT {select_list} FROM {_quote(name)} t", "athlete_id", kept, dropped
    if "activity_id" in not_null and "athlete_id" not in kept:
        return (f"SELECT a.athlete_id, {select_list} FROM {_quote(name)} t JOIN activities a USING (activity_id)",
                "athlete_id", ["athlete_id", *kept], dropped)
    return f"SELECT {select_list} FROM {_quote(name)} t", None, kept, dropped


def export_parquet(warehouse: Warehouse, out: str | Path, *, drop_gps: bool = False,
                   replace: bool = False, include_views: bool = True) -> ExportSummary:
    """Write every table (and the analyst views) as Parquet under ``out``.

    Per-athlete tables go to ``out/<table>/athlete_id=<id>/*.parquet`` (hive partitions),
    other tables to ``out/<table>.parquet``, views to ``out/views/<view>.parquet``, and
    ``out/manifest.json`` lists them with row counts. Everything is written to a hidden
    folder next to ``out`` and renamed into place at the end, so a failed export leaves no
    half-written folder (and ``replace`` swaps an old export only once the new one is complete).
    """
    out = Path(out).expanduser().absolute()
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder", hint="choose another --out")
    if out.exists() and any(out.iterdir()) and not replace:
        raise ConfigError(f"{out} already exists and is not empty",
                          hint="choose a new folder, or pass --replace to swap it for the new export")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create {out.parent}: {exc.strerror or exc}") from exc
    work = out.parent / f".{out.name}.export-{uuid.uuid4().hex[:8]}"
    try:
        work.mkdir()
        objects = _write_objects(warehouse, work, drop_gps, include_views)
        summary = ExportSummary(out=out, objects=objects, gps="dropped" if drop_gps else "included",
                                schema_version=warehouse.schema_version())
        manifest = {
            "format": "parquet", "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_version": summary.schema_version, "gps": summary.gps,
            "read_partitioned": "read_parquet('<table>/*/*.parquet', hive_partitioning = true)",
            "objects": {o.name: o.as_dict() for o in objects},
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
        summary.bytes = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
        _swap_into_place(work, out)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, OSError):
            raise WarehouseError(f"export to {out} failed: {exc.strerror or exc}; nothing was written") from exc
        raise
    return summary


def _write_objects(warehouse: Warehouse, work: Path, drop_gps: bool, include_views: bool) -> list[ExportedObject]:
    objects = []
    for table in _tables(warehouse):
        objects.append(_copy(warehouse, work, table, "table", drop_gps))
    if include_views:
        (work / "views").mkdir()
        present = {r[0] for r in warehouse.con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal").fetchall()}
        for view in (v for v in VIEWS if v in present):
            objects.append(_copy(warehouse, work, view, "view", drop_gps))
    return objects


def _copy(warehouse: Warehouse, work: Path, name: str, kind: str, drop_gps: bool) -> ExportedObject:
    if kind == "view":
        columns = [c for c, _ in _columns(warehouse, name)]
        dropped = [c for c in columns if drop_gps and _GPS_COLUMN.search(c)]
        kept = [c for c in columns if c not in dropped]
        query, partition = f"SELECT {', '.join(_quote(c) for c in kept)} FROM {_quote(name)}", None
        relative = f"views/{name}.parquet"
    else:
        query, partition, kept, dropped = _export_query(warehouse, name, drop_gps)
        relative = f"{name}/" if partition else f"{name}.parquet"
    rows = int(warehouse.one(f"SELECT count(*) FROM ({query})")[0])
    target = work / relative
    if partition:
        if rows:  # an empty partitioned copy writes no file at all: leave the folder out
            warehouse.con.execute(
                f"COPY ({query}) TO {_sql_path(target)} (FORMAT parquet, PARTITION_BY ({partition}))")
    else:
        warehouse.con.execute(f"COPY ({query}) TO {_sql_path(target)} (FORMAT parquet)")
    return ExportedObject(name, kind, relative, rows, partition, kept, dropped)


def _swap_into_place(work: Path, out: Path) -> None:
    if not out.exists():
        work.rename(out)
        return
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    out.rename(old)
    try:
        work.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
