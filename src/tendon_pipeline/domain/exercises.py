"""The exercise catalogue: which kind of work an exercise is (logged by hand or recorded by a watch)."""

from __future__ import annotations

# name -> kind; any other name is accepted as strength work. FIT strength-set categories
# (calf_raise, plyo, squat, lunge, ...) are names here too.
EXERCISE_KINDS: dict[str, str] = {
    "isometric_calf_raise_hold": "isometric", "eccentric_heel_drop": "strength", "pogo_hops": "plyometric",
    "calf_raise": "strength", "squat": "strength", "lunge": "strength", "plyo": "plyometric",
}
ISOMETRIC_MIN_S = 10.0  # a one-rep calf-raise set held at least this long is an isometric hold


def exercise_name(text: str) -> str:
    """'Isometric calf-raise hold' -> 'isometric_calf_raise_hold'."""
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def kind_of(exercise: str) -> str:
    return EXERCISE_KINDS.get(exercise, "strength")


def fit_exercise(category: str, reps: int | None, duration_s: float | None) -> tuple[str, str]:
    """(exercise, kind) of a watch-recorded strength set of this FIT category."""
    if category == "calf_raise" and (reps or 0) <= 1 and (duration_s or 0) >= ISOMETRIC_MIN_S:
        return "isometric_calf_raise_hold", "isometric"
    return category, kind_of(category)
