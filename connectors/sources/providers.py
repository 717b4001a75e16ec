"""The services ``tendon link`` and ``tendon sync`` pull activities from, declared once.

A module of its own, without pydantic: the command line builds its ``--provider`` choice from
it at start (issue 17: commands start fast); ``sync_state.py`` types its links with it.
"""

from __future__ import annotations

from typing import Literal, get_args

Provider = Literal["intervals", "garmin"]
PROVIDERS: tuple[str, ...] = get_args(Provider)
