"""Fix an activity stored under the wrong athlete: reassign it, or delete it. Library code, no Prefect.

Either way both athletes' loads, alerts and plans are recomputed at once; an alert of the athlete
who lost the activity that the rules no longer raise (for that run, or its week) is withdrawn
(kept, marked, never routed); one that changed is updated (see ``alerts.revision``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tendon_pipeline.app.athletes import require_known_athlete
from tendon_pipeline.app.evaluate import AthleteEvaluation, evaluate_athlete
from tendon_pipeline.config.settings import Settings
from tendon_pipeline.domain.load import iso_week_label, week_monday
from tendon_pipeline.errors import UsageError
from tendon_pipeline.warehouse.history import withdraw_alerts
from tendon_pipeline.warehouse.store import Warehouse


@dataclass
class ActivityChange:
    activity_id: str
    action: str  # reassigned | deleted
    from_athlete: str
    to_athlete: str | None
    evaluations: list[AthleteEvaluation] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


def _owner(warehouse: Warehouse, activity_id: str):
    found = warehouse.activity_owner(activity_id)
    if found is None:
        raise UsageError(f"there is no activity '{activity_id}'",
                         hint="activity ids are in `tendon files` (last column) and `tendon files --json`")
    return found


def reassign(warehouse: Warehouse, settings: Settings, activity_id: str, to_athlete: str) -> ActivityChange:
    athlete, device_key, days = _owner(warehouse, activity_id)
    require_known_athlete(warehouse, settings, to_athlete)
    if to_athlete == athlete:
        raise UsageError(f"activity {activity_id} is already '{athlete}''s")
    try:
        warehouse.reassign_activity(activity_id, athlete, to_athlete, device_key)
    except ValueError as exc:
        raise UsageError(f"cannot reassign {activity_id}: {exc}",
                         hint="delete one of the two (tendon activity delete ID)") from None
    change = ActivityChange(activity_id, "reassigned", athlete, to_athlete)
    _recompute(warehouse, settings, change, days, f"activity {activity_id} was reassigned to '{to_athlete}'")
    return change


def delete(warehouse: Warehouse, settings: Settings, activity_id: str) -> ActivityChange:
    athlete, _, days = _owner(warehouse, activity_id)
    warehouse.delete_activity(activity_id, athlete)
    change = ActivityChange(activity_id, "deleted", athlete, None)
    _recompute(warehouse, settings, change, days, f"activity {activity_id} was deleted")
    return change


def _recompute(warehouse: Warehouse, settings: Settings, change: ActivityChange, days: list, reason: str) -> None:
    losing = evaluate_athlete(warehouse, settings, change.from_athlete)
    change.evaluations.append(losing)
    periods = [change.activity_id] + sorted({iso_week_label(week_monday(d)) for d in days})
    change.withdrawn = withdraw_alerts(warehouse, change.from_athlete, periods=periods, days=list(days),
                                       still_raised={a.key for a in losing.alerts}, reason=reason)
    if change.to_athlete is not None:
        change.evaluations.append(evaluate_athlete(warehouse, settings, change.to_athlete))
