"""The coach board: all of a coach's athletes on one screen, worst first.

For each athlete: open alerts (dated in the last 14 days), this week's running so far
against this week's plan, the pain trend and days since their watch last synced. Read from
the analyst views (what the last evaluation stored), never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from tendon_pipeline.domain.models import SEVERITY_RANK
from tendon_pipeline.errors import ConfigError
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.warehouse.store import Warehouse
from tendon_pipeline.warehouse.views import CoachFacts, coach_facts

ALERT_DAYS = 14
SEVERITIES = ("high", "warning", "caution", "info")


@dataclass
class CoachRow:
    athlete_id: str
    name: str | None
    known: bool
    as_of: date
    alerts: list[dict] = field(default_factory=list)  # worst first
    week_km: float = 0.0
    week_runs: int = 0
    week_load_bw: float = 0.0
    previous_week_load_bw: float | None = None
    plan: dict | None = None
    pain_trend: str = "no reports"  # rising | falling | steady | one week only | no reports
    pain_latest: int | None = None
    pain_recent_mean: float | None = None
    pain_previous_mean: float | None = None
    days_since_sync: int | None = None

    @property
    def worst(self) -> str | None:
        return self.alerts[0]["severity"] if self.alerts else None

    def alert_counts(self) -> dict[str, int]:
        counts = {s: 0 for s in SEVERITIES}
        for a in self.alerts:
            counts[a["severity"]] += 1
        return {s: n for s, n in counts.items() if n}

    def week_vs_plan(self) -> str:
        if self.plan is None:
            return "no plan for this week"
        low, high = self.plan["target_km_low"], self.plan["target_km_high"]
        if self.week_km > high:
            where = "above plan"
        elif self.week_km >= low:
            where = "within plan"
        else:
            where = f"{low - self.week_km:.1f} km to go"
        return f"{where} ({self.plan['status']})"

    def sort_key(self) -> tuple:
        """Worst first: severity, then how many alerts at warning or worse, all alerts,
        rising pain, the latest pain, the longest silence; the id breaks ties."""
        rank = SEVERITY_RANK[self.worst] if self.worst else -1
        serious = sum(1 for a in self.alerts if SEVERITY_RANK[a["severity"]] >= SEVERITY_RANK["warning"])
        silence = self.days_since_sync if self.days_since_sync is not None else 10**6
        return (-rank, -serious, -len(self.alerts), self.pain_trend != "rising", -(self.pain_latest or 0),
                -silence, self.athlete_id)

    def as_json(self) -> dict:
        return {
            "athlete": self.athlete_id, "name": self.name, "known": self.known, "as_of": self.as_of.isoformat(),
            "worst_severity": self.worst, "alert_counts": self.alert_counts(),
            "alerts": [{**a, "alert_date": _day(a["alert_date"]).isoformat()} for a in self.alerts],
            "week": {"km": round(self.week_km, 2), "runs": self.week_runs, "load_bw": round(self.week_load_bw),
                     "previous_week_load_bw": None if self.previous_week_load_bw is None
                     else round(self.previous_week_load_bw)},
            "plan": None if self.plan is None else {
                "week_start": _day(self.plan["week_start"]).isoformat(),
                "status": self.plan["status"], "target_km_low": self.plan["target_km_low"],
                "target_km_high": self.plan["target_km_high"], "long_run_cap_km": self.plan["long_run_cap_km"]},
            "week_vs_plan": self.week_vs_plan(),
            "pain": {"trend": self.pain_trend, "latest": self.pain_latest,
                     "last_7_days_mean": self.pain_recent_mean, "previous_7_days_mean": self.pain_previous_mean},
            "days_since_sync": self.days_since_sync,
        }


def find_coach(settings: Settings, coach_name: str):
    """The [[coaches]] entry named ``coach_name``; a ConfigError listing the names otherwise."""
    coach = next((c for c in settings.coaches if c.name == coach_name), None)
    if coach is None:
        known = ", ".join(sorted(c.name for c in settings.coaches)) or "none configured"
        raise ConfigError(f"no coach named '{coach_name}' (coaches: {known})",
                          hint="coaches and their athletes are [[coaches]] entries in the config file")
    return coach


def coach_board(warehouse: Warehouse, settings: Settings, coach_name: str, *,
                as_of: date | None = None, now: datetime | None = None) -> list[CoachRow]:
    """The coach's athletes, worst first. ``as_of`` defaults to each athlete's today."""
    from tendon_pipeline.app.evaluate import today_for

    coach = find_coach(settings, coach_name)
    now = now or datetime.now(timezone.utc)
    rows = []
    for athlete in dict.fromkeys(coach.athletes):  # keep order, drop repeats
        day = as_of or today_for(settings, athlete)
        facts = coach_facts(warehouse, [athlete], day, alert_days=ALERT_DAYS)[0]
        config = settings.athlete(athlete)
        rows.append(_row(facts, day, now, config.name if config and config.name else facts.display_name,
                         settings.rules.pain_rise_min_points))
    return sorted(rows, key=CoachRow.sort_key)


def _row(facts: CoachFacts, as_of: date, now: datetime, name: str | None, rise_points: float) -> CoachRow:
    row = CoachRow(athlete_id=facts.athlete_id, name=name, known=facts.known, as_of=as_of, alerts=facts.alerts,
                   week_km=facts.week_km, week_runs=facts.week_runs, week_load_bw=facts.week_load_bw,
                   previous_week_load_bw=facts.previous_week_load_bw, plan=facts.plan)
    if facts.last_sync_at is not None:
        synced = facts.last_sync_at.replace(tzinfo=timezone.utc)
        row.days_since_sync = max(0, (now - synced).days)
    recent = [p["pain_level"] for p in facts.pain if (as_of - _day(p["local_date"])).days < 7]
    previous = [p["pain_level"] for p in facts.pain if (as_of - _day(p["local_date"])).days >= 7]
    if facts.pain:
        row.pain_latest = facts.pain[-1]["pain_level"]
    row.pain_recent_mean = round(sum(recent) / len(recent), 1) if recent else None
    row.pain_previous_mean = round(sum(previous) / len(previous), 1) if previous else None
    if recent and previous:
        change = row.pain_recent_mean - row.pain_previous_mean
        row.pain_trend = "rising" if change >= rise_points else "falling" if change <= -rise_points else "steady"
    elif facts.pain:
        row.pain_trend = "one week only"
    return row


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


# --------------------------------------------------------------------------- text


def board_text(coach_name: str, rows: list[CoachRow]) -> str:
    """A terminal screen: one line per athlete (worst first), then their open alerts."""
    as_of = {r.as_of for r in rows}
    day = as_of.pop().isoformat() if len(as_of) == 1 else "each athlete's today"
    lines = [f"Coach {coach_name}: {len(rows)} athlete(s), worst first, as of {day}"
             f" (alerts of the last {ALERT_DAYS} days)", ""]
    header = f"{'#':>2}  {'athlete':<16} {'alerts':<30} {'this week':<15} {'vs plan':<28} {'pain (14 d)':<24} {'synced'}"
    lines += [header, "-" * len(header)]
    for i, r in enumerate(rows, 1):
        label = r.athlete_id if not r.name or r.name == r.athlete_id else f"{r.athlete_id} ({r.name})"
        if not r.known:
            lines.append(f"{i:>2}  {label[:16]:<16} no data yet: never synced")
            continue
        counts = ", ".join(f"{n} {s}" for s, n in r.alert_counts().items()) or "none"
        week = f"{r.week_km:.1f} km, {r.week_runs} run{'s' if r.week_runs != 1 else ''}"
        if r.plan:
            plan = f"{r.plan['target_km_low']:.0f}-{r.plan['target_km_high']:.0f} km: {r.week_vs_plan()}"
        else:
            plan = "no plan for this week"
        pain = r.pain_trend
        if r.pain_latest is not None:
            pain += f", latest {r.pain_latest}/10"
        synced = "never" if r.days_since_sync is None else "today" if r.days_since_sync == 0 \
            else f"{r.days_since_sync} d ago"
        lines.append(f"{i:>2}  {label[:16]:<16} {counts[:30]:<30} {week:<15} {plan[:28]:<28} {pain[:24]:<24} {synced}")
    details = [r for r in rows if r.alerts]
    if details:
        lines += ["", "Open alerts:"]
        for r in details:
            lines.append(f"  {r.athlete_id}:")
            for a in r.alerts[:5]:
                lines.append(f"    {a['severity']:<8} {_day(a['alert_date'])} {a['rule']}: {a['message']}")
            if len(r.alerts) > 5:
                lines.append(f"    ... and {len(r.alerts) - 5} more (tendon alerts --athlete {r.athlete_id})")
    return "\n".join(lines)
