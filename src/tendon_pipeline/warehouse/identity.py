"""Which stored activity a decoded one is, per athlete: pure rules, no SQL.

An activity's identity is its athlete plus FIT's own ``file_id`` (manufacturer, product, serial,
time created: ``DecodedActivity.activity_key``, stored as ``activities.device_key``). So two
athletes whose files share a file_id (apps without a serial, the same second) both keep theirs,
and a file forged with another athlete's serial and time cannot block her own run: it is stored
for the athlete it came for, and when the file_id carries a device serial the collision is a
visible ``athlete_conflict`` naming both athletes (``tendon activity reassign|delete`` fixes it).

For the same athlete and file_id, the documented rule (docs/reliability.md):

* a complete copy replaces a salvaged (cut short) one; a salvaged copy never replaces anything;
* a complete copy whose sessions differ (sport, distance to the metre, timer time to the second)
  replaces the stored complete one: a corrected re-export wins (``replaced``);
* otherwise it is a duplicate (the same activity under another file name).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: importing the warehouse must stay cheap (no pandas, no decoder)
    import pandas as pd

    from tendon_pipeline.fit.decode import DecodedActivity

Fingerprint = tuple[tuple[Any, ...], ...]


def athlete_activity_key(athlete_id: str, device_key: str) -> str:
    """``activities.activity_key``: the athlete and the file_id identity (``activity_id`` is its first 16)."""
    return hashlib.sha1(f"{athlete_id}|{device_key}".encode()).hexdigest()[:20]


def session_fingerprint(sessions: pd.DataFrame) -> Fingerprint:
    """What a re-export is compared on: each session's index, sport, distance (m) and timer time (s)."""
    if sessions is None or sessions.empty:
        return ()
    return tuple(sorted((int(row.session_index), str(row.sport), _rounded(row.distance_m), _rounded(row.timer_s))
                        for row in sessions.itertuples(index=False)))


def activity_fingerprint(decoded: DecodedActivity) -> Fingerprint:
    """:func:`session_fingerprint` of a decoded activity's sessions, read from its columns."""
    table = decoded.session_table
    if not len(table):
        return ()
    return tuple(sorted((int(index), str(sport), _rounded(distance), _rounded(timer)) for index, sport, distance, timer
                        in zip(*(table.values[c] for c in ("session_index", "sport", "distance_m", "timer_s")))))


def _rounded(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(round(float(value)))


@dataclass(frozen=True)
class StoredMatch:
    """An activity already stored with the same file_id identity (this athlete's or another's)."""

    activity_id: str
    athlete_id: str
    salvaged: bool
    sessions: Fingerprint


@dataclass(frozen=True)
class Verdict:
    action: str  # insert | duplicate | replace
    existing_id: str | None = None
    reason_code: str | None = None
    reason: str | None = None


def identity_verdict(decoded: DecodedActivity, athlete_id: str, matches: list[StoredMatch]) -> Verdict:
    own = next((m for m in matches if m.athlete_id == athlete_id), None)
    if own is None:
        others = sorted({m.athlete_id for m in matches})
        if others and decoded.serial_number is not None:
            stored_as = ", ".join(f"'{m.athlete_id}' (activity {m.activity_id})" for m in matches)
            return Verdict("insert", reason_code="athlete_conflict", reason=(
                f"the same recording (device serial {decoded.serial_number}, created {decoded.time_created_utc})"
                f" is also stored for {stored_as}; stored for '{athlete_id}' as well: one of them is"
                " misattributed or forged. Fix it with `tendon activity reassign ID --to ATHLETE` or"
                " `tendon activity delete ID`"))
        return Verdict("insert")
    if own.salvaged and not decoded.salvaged:
        return Verdict("replace", own.activity_id)  # the complete copy wins (a salvaged row is superseded)
    if decoded.salvaged:
        return Verdict("duplicate", own.activity_id)
    new = activity_fingerprint(decoded)
    if new == own.sessions:
        return Verdict("duplicate", own.activity_id)
    return Verdict("replace", own.activity_id, "replaced",
                   f"a re-export with different content replaced activity {own.activity_id}"
                   f" ({_describe(own.sessions)} -> {_describe(new)})")


def _describe(fingerprint: Fingerprint) -> str:
    parts = [f"{sport} {(distance or 0) / 1000:.2f} km in {(timer or 0) / 60:.0f} min"
             for _, sport, distance, timer in fingerprint]
    return "; ".join(parts) or "no sessions"
