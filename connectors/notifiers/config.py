"""Who gets what, and how: recipients (coaches, runners) and the built-in channels.

These models are fields of :class:`tendon_pipeline.config.settings.Settings`, so they come
from the one TOML config file (top-level ``[[coaches]]``, ``[[runners]]`` and a
``[notify]`` table) and from ``TENDON_COACHES`` / ``TENDON_RUNNERS`` (JSON) or
``TENDON_NOTIFY__*`` in the environment. See docs/notifications.md.

Channel URLs are typed :class:`~pydantic.SecretStr`: they never show in a repr, a
log or a validation error. Write ``env:VAR`` or ``prefect-secret:block`` to keep
them out of the file altogether.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from tendon_pipeline.domain.models import Severity

from . import secret_ref

Digest = Literal["none", "daily", "weekly"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _clock(text: str) -> time:
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a 24-hour HH:MM time")
    return time(int(match.group(1)), int(match.group(2)))


def _check_clock(text: str) -> str:
    _clock(text)
    return text.strip()


def _check_quiet(text: str | None) -> str | None:
    if text is None:
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"quiet_hours {text!r} must look like \"22:00-07:00\"")
    if _clock(start) == _clock(end):
        raise ValueError("quiet_hours start and end are the same time")
    return f"{start.strip()}-{end.strip()}"


def _check_zone(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Berlin)") from None
    return name


def _check_urls(urls: list[SecretStr]) -> list[SecretStr]:
    for url in urls:
        secret_ref.check_reference(url)
        text = url.get_secret_value().strip()
        if not secret_ref.is_reference(text) and "://" not in text and text not in ("console", "outbox"):
            # the message must not echo the value: it may be a secret pasted without its scheme
            raise ValueError("a notify entry is neither a URL (scheme://...), env:VAR, "
                             "prefect-secret:block, console nor outbox")
    return urls


ChannelURLs = Annotated[list[SecretStr], AfterValidator(_check_urls)]


class RecipientSettings(BaseModel):
    """What every recipient can set."""

    model_config = ConfigDict(extra="forbid")

    notify: ChannelURLs = Field(
        default_factory=list,
        description="Apprise URLs (slack://, msteams://, discord://, ntfy://, mailto://, json://, ...),"
                    " env:VAR, prefect-secret:block, console or outbox")
    min_severity: Severity = Field(default=Severity.CAUTION, description="alerts below this are not sent")
    quiet_hours: Annotated[str | None, AfterValidator(_check_quiet)] = Field(
        default=None, description='no message in this local window, e.g. "22:00-07:00"; deferred, not dropped')
    timezone: Annotated[str | None, AfterValidator(_check_zone)] = Field(
        default=None, description="IANA zone for quiet hours and digests (runner: the athlete's zone; else UTC)")
    digest: Digest = Field(default="none", description="none = one message per alert; daily or weekly summary")
    digest_time: Annotated[str, AfterValidator(_check_clock)] = Field(default="07:00", description="local HH:MM")
    digest_day: Weekday = Field(default="monday", description="weekday of the weekly digest")


class Coach(RecipientSettings):
    """A coach gets the alerts of the listed athletes, and of no one else."""

    name: str = Field(min_length=1, max_length=80)
    athletes: list[str] = Field(min_length=1)


class Runner(RecipientSettings):
    """A runner gets their own alerts and plan changes."""

    athlete: str = Field(min_length=1)
    name: str | None = None
    alerts: bool = True
    plans: bool = Field(default=True, description="send next week's plan when it is made or changes")


def _unique(attr: str, what: str):  # noqa: ANN202
    def check(items: list) -> list:
        seen: set[str] = set()
        for item in items:
            key = getattr(item, attr)
            if key in seen:
                raise ValueError(f"two {what} entries have {attr} {key!r}")
            seen.add(key)
        return items
    return check


Coaches = Annotated[list[Coach], AfterValidator(_unique("name", "[[coaches]]"))]
Runners = Annotated[list[Runner], AfterValidator(_unique("athlete", "[[runners]]"))]


class NotifySettings(BaseModel):
    """The ``[notify]`` table: built-in channels, routing horizon, retry policy."""

    model_config = ConfigDict(extra="forbid")

    console: bool = Field(default=True, description="print every alert and plan change on the console")
    outbox: bool = Field(default=True, description="append every alert and plan change to the local outbox file")
    outbox_file: Path | None = Field(
        default=None, description="JSON lines file (default: notifications.jsonl next to the warehouse)")
    local_min_severity: Severity = Field(default=Severity.INFO, description="lowest severity for console and outbox")
    max_age_days: int = Field(
        default=14, ge=0,
        description="alerts dated (and plans for weeks starting) earlier than this many days ago are"
                    " never routed: a new recipient does not get the whole history")
    retry_initial_s: float = Field(default=60.0, gt=0, description="first wait after a transient failure")
    retry_max_s: float = Field(default=3600.0, gt=0, description="longest wait between attempts")
    retry_for_hours: float = Field(
        default=72.0, gt=0,
        description="after this long since the first attempt, a still-failing delivery is given up")
    claim_s: float = Field(default=300.0, gt=0,
                           description="a run holds the messages it is sending this long (no double send)")

    @field_validator("outbox_file", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None


# --------------------------------------------------------------------------- time windows


def zone(name: str | None) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def quiet_until(quiet_hours: str | None, tz: ZoneInfo, now_utc: datetime) -> datetime | None:
    """End of the quiet window (UTC, naive) when ``now_utc`` falls inside it, else None."""
    if not quiet_hours:
        return None
    start_text, _, end_text = quiet_hours.partition("-")
    start, end = _clock(start_text), _clock(end_text)
    local = now_utc.replace(tzinfo=timezone.utc).astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # crosses midnight
        inside = t >= start or t < end
        end_day = local.date() if t < end else local.date() + timedelta(days=1)
    if not inside:
        return None
    end_local = datetime.combine(end_day, end, tzinfo=tz)
    return end_local.astimezone(timezone.utc).replace(tzinfo=None)


def next_digest_at(recipient: RecipientSettings, tz: ZoneInfo, now_utc: datetime) -> datetime:
    """The first digest time strictly after ``now_utc`` (UTC, naive).

    Strictly after: an item routed at or after a digest's time never joins that digest,
    whose first attempt may already have been made (its key covers a fixed set of items).
    """
    at = _clock(recipient.digest_time)
    local = now_utc.replace(tzinfo=timezone.utc).astimezone(tz)
    for days in range(0, 8):
        day = local.date() + timedelta(days=days)
        if recipient.digest == "weekly" and WEEKDAYS[day.weekday()] != recipient.digest_day:
            continue
        candidate = datetime.combine(day, at, tzinfo=tz)
        if candidate > local:
            return candidate.astimezone(timezone.utc).replace(tzinfo=None)
    raise AssertionError("unreachable: a matching day exists within a week")
