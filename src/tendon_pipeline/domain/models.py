"""Input and output models of the domain core (pure data, no I/O)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .exercises import Variant

# the statuses are plain enums in their own module (importing them costs no pydantic); imported
# here too, where they have always been importable from
from .statuses import SEVERITY_RANK as SEVERITY_RANK
from .statuses import STORED_STATUSES as STORED_STATUSES
from .statuses import DeliveryOutcome as DeliveryOutcome
from .statuses import FileStatus as FileStatus
from .statuses import Severity as Severity

RUNNING_SPORTS: frozenset[str] = frozenset({"running", "trail_running", "treadmill"})

EvidenceValue = float | int | str | None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- inputs


class RunSummary(_Model):
    """One activity, aggregated by the warehouse from its per-second records.

    ``is_running`` defaults from ``sport`` (running, trail_running and treadmill are running;
    anything else is cross-training).
    """

    athlete_id: str
    activity_id: str
    local_date: date
    start_utc: datetime
    sport: str
    distance_m: float = Field(ge=0)
    duration_s: float = Field(ge=0)
    avg_speed_mps: float = Field(ge=0)
    steps: float | None = Field(default=None, ge=0)
    steps_method: Literal["cadence", "step_length", "estimated"] = "estimated"
    tendon_load_bw: float = Field(
        ge=0, description="Sum over steps of the per-step Achilles multiple (body-weight units)"
    )
    tendon_load_n: float | None = Field(default=None, ge=0, description="Same in newtons, with body mass")
    load_method: Literal["measured_dynamics", "cadence_only", "estimated"] = "estimated"
    peak_vgrf_bw: float | None = None
    k_vert_kn_per_m: float | None = None
    k_leg_kn_per_m: float | None = None
    is_running: bool

    @model_validator(mode="before")
    @classmethod
    def _running_from_sport(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("is_running") is None:
            data = {**data, "is_running": str(data.get("sport", "")).lower() in RUNNING_SPORTS}
        return data

    @property
    def distance_km(self) -> float:
        return self.distance_m / 1000.0


ExerciseName = str  # normalised: isometric_calf_raise_hold, eccentric_heel_drop, pogo_hops, ...


class StrengthEntry(_Model):
    """One exercise (all its sets) on one day, from the watch or logged by hand."""

    athlete_id: str
    local_date: date
    exercise: ExerciseName
    kind: Literal["strength", "isometric", "plyometric"]
    sets: int = Field(ge=0)
    reps: int | None = Field(default=None, ge=0)
    seconds: float | None = Field(default=None, ge=0)
    load_kg: float | None = Field(default=None, ge=0, description="External load; bodyweight is implied")
    source: Literal["fit", "manual"] = "manual"
    activity_id: str | None = Field(
        default=None, description="The recorded activity that holds these sets (watch-recorded); None: logged by hand"
    )
    variant: Variant | None = Field(
        default=None,
        description="single_leg, two_leg, seated or seated_single_leg (FIT category_subtype, "
        "`tendon log strength --variant` or a correction); None: the exercise's default",
    )
    reps_in_reserve: int | None = Field(
        default=None, ge=0, le=20, description="Reps the runner could still have done (RIR)"
    )


class MaxTest(_Model):
    """A tested maximum: the heaviest load lifted for ``reps`` (1 = a true 1RM)."""

    athlete_id: str
    local_date: date
    exercise: ExerciseName
    variant: Variant
    load_kg: float = Field(ge=0, description="External load lifted (body mass is added unless seated)")
    reps: int = Field(default=1, ge=1, le=30)


class PainEntry(_Model):
    """The runner's own report: pain during activity and the next morning, 0-10."""

    athlete_id: str
    local_date: date
    during: int = Field(ge=0, le=10)
    next_morning: int | None = Field(default=None, ge=0, le=10)


class VisaAEntry(_Model):
    athlete_id: str
    local_date: date
    score: int = Field(ge=0, le=100)


class RaceEntry(_Model):
    """A race or planned hard effort, entered by the runner or coach (``tendon log race`` or
    ``[[athletes]] races``). A: the season's goal, tapered for; B: tapered lightly; C: a
    training race."""

    athlete_id: str
    local_date: date
    distance_km: float = Field(gt=0, le=400)
    priority: Literal["A", "B", "C"] = "A"
    name: str | None = None


class AthleteHistory(_Model):
    """Everything the rules look at for one athlete."""

    athlete_id: str
    body_mass_kg: float | None = Field(default=None, gt=0)
    program_start: date | None = None
    baseline_weekly_km: float | None = Field(
        default=None, ge=0, description="Usual weekly distance the runner declares, used until there is history"
    )
    races: list[RaceEntry] = Field(default_factory=list)
    runs: list[RunSummary] = Field(default_factory=list)
    strength: list[StrengthEntry] = Field(default_factory=list)
    pain: list[PainEntry] = Field(default_factory=list)
    visa_a: list[VisaAEntry] = Field(default_factory=list)
    max_tests: list[MaxTest] = Field(default_factory=list)
    unwell_days: list[date] = Field(
        default_factory=list, description="Days the runner checked in as feeling unwell (web check-in)"
    )

    @model_validator(mode="after")
    def _one_athlete(self) -> AthleteHistory:
        for item in (*self.entries(), *self.max_tests, *self.races):
            if item.athlete_id != self.athlete_id:
                raise ValueError(
                    f"entry for athlete {item.athlete_id!r} in history of {self.athlete_id!r}"
                )
        return self

    def entries(self) -> list[RunSummary | StrengthEntry | PainEntry | VisaAEntry]:
        return [*self.runs, *self.strength, *self.pain, *self.visa_a]

    def first_date(self) -> date | None:
        dates = [x.local_date for x in self.entries()]
        return min(dates) if dates else None


# --------------------------------------------------------------------------- outputs


class Alert(_Model):
    """One rule firing for one athlete and period (the key makes it unique)."""

    athlete_id: str
    rule: str
    severity: Severity
    date: date  # run date for per-run rules, Monday of the ISO week for weekly rules
    period: str  # "2026-W47", an activity id, or an ISO date for daily reports
    message: str
    evidence: dict[str, EvidenceValue]
    source: str

    @property
    def key(self) -> str:
        return f"{self.athlete_id}:{self.rule}:{self.period}"

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


class TendonSession(_Model):
    """One exercise prescription inside a tendon-loading session."""

    exercise: ExerciseName
    sets: int
    reps: int | None = None
    hold_s: float | None = None
    load_kg: float | None = None
    note: str = ""
    variant: Variant | None = None
    load_per_leg_kg: float | None = Field(
        default=None, description="Weight one tendon carries (body mass share + added load)"
    )


# What next week's plan does (domain/plan.py says when each applies); stored in plans.status.
PlanStatus = Literal["progress", "hold", "cut", "pain", "restart", "return", "taper", "recovery", "unwell"]


class WeekPlan(_Model):
    athlete_id: str
    week_start: date
    status: PlanStatus
    target_km_low: float
    target_km_high: float
    long_run_cap_km: float
    cross_training_sessions: int
    tendon_sessions_per_week: int
    tendon_sessions: list[TendonSession]
    program_week: int | None
    reasons: list[str]


class LoadMetrics(_Model):
    """Load numbers for one day or one ISO week (acute/chronic values at the period's end)."""

    athlete_id: str
    granularity: Literal["day", "week"]
    period: str  # ISO date for days, "YYYY-Www" for weeks
    start: date
    end: date
    distance_km: float
    running_sessions: int
    tendon_load_bw: float
    tendon_load_n: float | None
    acute_load: float | None
    chronic_load: float | None
    acwr_coupled: float | None
    acwr_uncoupled: float | None
    ewma_acute: float | None
    ewma_chronic: float | None
    acwr_ewma: float | None
    monotony: float | None = None
    strain: float | None = None


class ProgramAdherence(_Model):
    """Shown to the runner, never alarmed on."""

    athlete_id: str
    program_start: date | None
    program_week: int | None
    program_weeks: int
    weeks_completed: int
    sessions_per_week: dict[str, int]
    weeks_on_target: int
    complete: bool
