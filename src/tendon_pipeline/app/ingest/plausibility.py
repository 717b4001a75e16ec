"""The plausibility checks (domain/plausibility.py) applied to a decoded file at ingest."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from tendon_pipeline.domain.plausibility import PlausibilitySettings, SessionClaim, check_sessions
from tendon_pipeline.fit.decode import DecodedActivity


def _value(value) -> float | None:
    """A number, or None for a missing one (None, NaN, pandas' NA)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def claims(decoded: DecodedActivity) -> list[SessionClaim]:
    """Each session's start, elapsed time and distance; the file's start when it has no session."""
    table = decoded.session_table
    if not table.plain_times("start_utc"):  # device-relative integers, Timestamps: as the frame reads them
        return _claims_of_frame(decoded)
    out = []
    for start, sport, elapsed, distance in zip(*(table.values[c] for c in ("start_utc", "sport", "elapsed_s",
                                                                           "distance_m"))):
        if start is not None:
            out.append(SessionClaim(sport=str(sport), start_utc=start, elapsed_s=_value(elapsed),
                                    distance_m=_value(distance)))
    return out or _file_start(decoded)


def _claims_of_frame(decoded: DecodedActivity) -> list[SessionClaim]:
    import pandas as pd  # only for files whose times are not plain (the fast path needs no pandas)

    out = []
    for row in decoded.sessions.itertuples(index=False):
        if row.start_utc is None or pd.isna(row.start_utc):
            continue
        out.append(SessionClaim(sport=str(row.sport), start_utc=pd.Timestamp(row.start_utc).to_pydatetime(warn=False),
                                elapsed_s=_value(row.elapsed_s), distance_m=_value(row.distance_m)))
    return out or _file_start(decoded)


def _file_start(decoded: DecodedActivity) -> list[SessionClaim]:
    """No usable session: the file's own start."""
    import pandas as pd

    start = decoded.start_utc
    if start is None or pd.isna(start):
        return []
    return [SessionClaim(sport="generic", start_utc=pd.Timestamp(start).to_pydatetime(warn=False))]


def implausibility(decoded: DecodedActivity, limits: PlausibilitySettings, now: datetime | None = None) -> str | None:
    """Why the file is not believed (``reason: detail``), or None."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    found = check_sessions(claims(decoded), now, limits)
    return found.text() if found else None
