"""Is an activity physically and chronologically plausible? Pure checks with named reasons.

A file that fails is quarantined at ingest (reason code ``implausible``, the reason shown), so
it never enters the load history: a run dated 1970 (a watch whose clock was never set writes
device-relative times, FIT values below 0x10000000) would otherwise switch off the new-athlete
guards of the rules; a run in 2099 would be next week's load for 70 years; a 53-day "run" would
swamp every weekly total. Thresholds are settings (``[plausibility]``) with their reasons.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

ON_FOOT_SPORTS = frozenset({"running", "walking", "hiking", "training", "generic"})


class Implausible(StrEnum):
    """Why an activity is not believed (the first that applies, in this order)."""

    BEFORE_EARLIEST_START = "before_earliest_start"
    IN_THE_FUTURE = "in_the_future"
    TOO_LONG = "too_long"
    TOO_FAR = "too_far"
    TOO_FAST = "too_fast"


class PlausibilitySettings(BaseModel):
    """The ``[plausibility]`` table: what an activity file may claim before it is quarantined."""

    model_config = ConfigDict(extra="forbid")

    earliest_start: date = Field(
        default=date(2000, 1, 1),
        description="activities starting earlier are quarantined: FIT time starts 1989-12-31 and a watch"
                    " whose clock is unset writes device-relative times that decode as 1970 (project choice)")
    max_future_hours: float = Field(
        default=36.0, gt=0,
        description="starting more than this after now is quarantined: the widest time zone (UTC+14) plus"
                    " a wrong watch clock (project choice)")
    max_session_hours: float = Field(
        default=72.0, gt=0,
        description="a session longer than this is quarantined: the longest single-stage foot races last"
                    " 36-60 h (Spartathlon cut-off 36 h, Barkley Marathons 60 h)")
    max_session_km: float = Field(
        default=500.0, gt=0,
        description="a session farther than this is quarantined: single-stage ultramarathons reach"
                    " about 250-350 km (Spartathlon 246 km)")
    max_on_foot_speed_mps: float = Field(
        default=8.0, gt=0,
        description="an on-foot session of at least speed_check_min_m faster on average is quarantined: the"
                    " 1000 m world record is 7.58 m/s (Ngeny 1999, 2:11.96), the marathon's about 5.9 m/s")
    speed_check_min_m: float = Field(
        default=1000.0, ge=0, description="the average speed is checked only over at least this distance")


class SessionClaim(BaseModel):
    """What one session of a file says about itself (UTC, metres, seconds)."""

    model_config = ConfigDict(frozen=True)

    sport: str
    start_utc: datetime
    elapsed_s: float | None = None
    distance_m: float | None = None


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    reason: Implausible
    detail: str

    def text(self) -> str:
        return f"{self.reason.value}: {self.detail}"


def check_sessions(sessions: list[SessionClaim], now: datetime, limits: PlausibilitySettings) -> Finding | None:
    """The first implausibility of the sessions (None: plausible). ``now`` is naive UTC."""
    for s in sorted(sessions, key=lambda s: s.start_utc):
        found = _check(s, now, limits)
        if found is not None:
            return found
    return None


def _check(s: SessionClaim, now: datetime, limits: PlausibilitySettings) -> Finding | None:
    if s.start_utc.date() < limits.earliest_start:
        return Finding(reason=Implausible.BEFORE_EARLIEST_START, detail=(
            f"starts {s.start_utc:%Y-%m-%d %H:%M} UTC, before {limits.earliest_start}"
            " (plausibility.earliest_start): the watch's clock was probably not set; fix the clock and re-export"))
    if s.start_utc > now + timedelta(hours=limits.max_future_hours):
        return Finding(reason=Implausible.IN_THE_FUTURE, detail=(
            f"starts {s.start_utc:%Y-%m-%d %H:%M} UTC, more than {limits.max_future_hours:g} h from now"
            " (plausibility.max_future_hours): check the watch's date"))
    return _over_a_limit(s, limits)


def _over_a_limit(s: SessionClaim, limits: PlausibilitySettings) -> Finding | None:
    """The first of duration, distance and on-foot speed above its ``[plausibility]`` limit."""
    hours = (s.elapsed_s or 0.0) / 3600
    km = (s.distance_m or 0.0) / 1000
    speed = (s.distance_m or 0.0) / s.elapsed_s if s.elapsed_s else 0.0
    speed_checked = s.sport in ON_FOOT_SPORTS and (s.distance_m or 0.0) >= limits.speed_check_min_m
    checks = (
        (Implausible.TOO_LONG, hours, limits.max_session_hours, "max_session_hours",
         f"a {s.sport} session of {hours / 24:.1f} days ({hours:.0f} h), over {limits.max_session_hours:g} h"),
        (Implausible.TOO_FAR, km, limits.max_session_km, "max_session_km",
         f"a {s.sport} session of {km:,.0f} km, over {limits.max_session_km:g} km"),
        (Implausible.TOO_FAST, speed if speed_checked else 0.0, limits.max_on_foot_speed_mps,
         "max_on_foot_speed_mps",
         f"{s.sport} at {speed:.1f} m/s on average, over {limits.max_on_foot_speed_mps:g} m/s"),
    )
    for reason, value, limit, setting, detail in checks:
        if value > limit:
            return Finding(reason=reason, detail=f"{detail} (plausibility.{setting})")
    return None
