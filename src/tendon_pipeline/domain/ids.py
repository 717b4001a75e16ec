"""Identifiers users type: the one athlete-id pattern, checked once at every edge."""

from __future__ import annotations

import re

ATHLETE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ATHLETE_ID = re.compile(ATHLETE_ID_PATTERN)


def athlete_id_problem(value: str | None) -> str | None:
    """Why ``value`` is not a valid athlete id (None when it is): letters, digits, '_', '.', '-',
    starting with a letter or digit, at most 64 characters; never '..' (not a path)."""
    if value is None or not ATHLETE_ID.match(value) or ".." in value:
        shown = repr(value if value is None or len(value) <= 40 else value[:40] + "...")
        return (f"{shown} is not a valid athlete id (letters, digits, '_', '.', '-', starting with a letter"
                " or digit; at most 64 characters)")
    return None
