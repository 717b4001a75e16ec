"""The plausibility checks (domain/plausibility.py) applied to a decoded file at ingest."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from tendon_pipeline.domain.plausibility import PlausibilitySettings, SessionClaim, check_sessions
from tendon_pipeline.fit.decode import DecodedActivity


def _value(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def claims(decoded: DecodedActivity) -> list[SessionClaim]:
    """Each session's start, elapsed time and distance; the file's start when it has no session."""
    out = []
    for row in decoded.sessions.itertuples(index=False):
        if row.start_utc is None or pd.isna(row.start_utc):
            continue
        out.append(SessionClaim(sport=str(row.sport), start_utc=pd.Timestamp(row.start_utc).to_pydatetime(warn=False),
                                elapsed_s=_value(row.elapsed_s), distance_m=_value(row.distance_m)))
    start = decoded.start_utc
    if not out and start is not None and not pd.isna(start):  # no usable session: the file's own start
        out.append(SessionClaim(sport="generic", start_utc=pd.Timestamp(start).to_pydatetime(warn=False)))
    return out


def implausibility(decoded: DecodedActivity, limits: PlausibilitySettings, now: datetime | None = None) -> str | None:
    """Why the file is not believed (``reason: detail``), or None."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    found = check_sessions(claims(decoded), now, limits)
    return found.text() if found else None
