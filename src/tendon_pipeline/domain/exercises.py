"""The exercise catalogue: which kind of work an exercise is (logged by hand or recorded by a
watch), what a FIT set was, and how many legs carry the weight.

Used by the warehouse (reading FIT ``set`` messages), the CLI (``tendon log strength``,
``tendon strength correct``, ``tendon log max``) and the rules and plan (per-leg load).

A calf exercise's *variant* says how the load reaches one Achilles tendon:

* ``single_leg``: standing on one leg, body mass plus added load on that leg;
* ``two_leg``: standing on both, half of body mass plus added load per leg;
* ``seated``: knees bent on a bench, both legs, added load only (no body mass on the calf);
* ``seated_single_leg``: seated, one leg, added load only.

A two-leg load does not transfer to one leg (RULES.md, tendon loading programs), so loads are
compared per leg.
"""

from __future__ import annotations

from typing import Literal, get_args

Variant = Literal["single_leg", "two_leg", "seated", "seated_single_leg"]
VARIANTS: tuple[str, ...] = get_args(Variant)

CALF_HOLD = "isometric_calf_raise_hold"
HEEL_DROP = "eccentric_heel_drop"
CALF_RAISE = "calf_raise"
POGO_HOPS = "pogo_hops"

# name -> kind; any other name is accepted as strength work. FIT strength-set categories
# (calf_raise, plyo, squat, lunge, ...) are names here too.
EXERCISE_KINDS: dict[str, str] = {
    CALF_HOLD: "isometric", HEEL_DROP: "strength", POGO_HOPS: "plyometric",
    CALF_RAISE: "strength", "squat": "strength", "lunge": "strength", "plyo": "plyometric",
}
ISOMETRIC_MIN_S = 10.0  # a one-rep calf-raise set held at least this long is an isometric hold

# Exercises a variant applies to (calf work and hops).
CALF_EXERCISES: frozenset[str] = frozenset({CALF_HOLD, HEEL_DROP, CALF_RAISE})

# Variant assumed when nothing says otherwise: the seed program's holds and heel drops are
# single-leg ("up on two, lower on one"); a plain calf raise is taken as the gym's two-leg
# standing raise (the conservative reading: it never inflates what one leg did).
DEFAULT_VARIANT: dict[str, Variant] = {CALF_HOLD: "single_leg", HEEL_DROP: "single_leg", CALF_RAISE: "two_leg"}

# FIT calf_raise_exercise_name (category_subtype of category calf_raise) -> variant.
# 11 single_leg_decline_push_up and 14 single_leg_hip_raise_with_knee_hold are not calf
# raises for the tendon and get no variant.
FIT_CALF_SUBTYPES: dict[int, Variant] = {
    0: "two_leg", 1: "two_leg",  # 3_way_(weighted_)calf_raise
    2: "single_leg", 3: "single_leg",  # 3_way_(weighted_)single_leg_calf_raise
    4: "two_leg", 5: "two_leg",  # (weighted_)donkey_calf_raise
    6: "seated", 7: "seated", 8: "seated",  # seated (weighted / dumbbell)
    9: "single_leg", 10: "single_leg",  # single_leg_bent_knee_calf_raise
    12: "single_leg", 13: "single_leg",  # single_leg_donkey_calf_raise
    15: "single_leg", 16: "single_leg",  # single_leg_standing_(dumbbell_)calf_raise
    17: "two_leg", 18: "two_leg", 19: "two_leg", 20: "two_leg",  # standing barbell / plain / weighted / dumbbell
}


def exercise_name(text: str) -> str:
    """'Isometric calf-raise hold' -> 'isometric_calf_raise_hold'."""
    return text.strip().lower().replace(" ", "_").replace("-", "_")


def kind_of(exercise: str) -> str:
    return EXERCISE_KINDS.get(exercise, "strength")


def unknown_exercise_note(exercise: str) -> str | None:
    """What to tell a runner who logged a name the catalogue does not know (None for a known one):
    it is kept, as strength work, but only the calf exercises' doses are followed and progressed,
    so a typo of one would silently fall out of the program."""
    if exercise in EXERCISE_KINDS:
        return None
    import difflib

    close = difflib.get_close_matches(exercise, list(EXERCISE_KINDS), n=1, cutoff=0.75)
    known = ", ".join(EXERCISE_KINDS)
    return (f"'{exercise}' is not an exercise the program knows ({known}): it counts as general strength work,"
            " and its doses are not followed" + (f". Did you mean {close[0]}?" if close else "."))


def fit_exercise(category: str, reps: int | None, duration_s: float | None) -> tuple[str, str]:
    """(exercise, kind) of a watch-recorded strength set of this FIT category."""
    if category == "calf_raise" and (reps or 0) <= 1 and (duration_s or 0) >= ISOMETRIC_MIN_S:
        return CALF_HOLD, "isometric"
    return category, kind_of(category)


def fit_variant(category: str | None, subtype: int | None) -> Variant | None:
    """The variant a FIT set's category_subtype names (None when it does not say)."""
    if category != "calf_raise" or subtype is None:
        return None
    return FIT_CALF_SUBTYPES.get(subtype)


def variant_of(exercise: str, variant: str | None) -> Variant | None:
    """The recorded variant, else the exercise's default (None for non-calf exercises)."""
    if variant is not None:
        return variant  # type: ignore[return-value]
    return DEFAULT_VARIANT.get(exercise)


def legs(variant: Variant | None) -> int:
    return 1 if variant in ("single_leg", "seated_single_leg") else 2 if variant else 1


def carries_body_mass(variant: Variant | None) -> bool:
    """Seated calf raises put no body mass on the calf (the knees hold the weight)."""
    return variant not in ("seated", "seated_single_leg")


def per_leg_kg(variant: Variant | None, load_kg: float | None, body_mass_kg: float | None) -> float | None:
    """Weight one tendon moves: (body mass unless seated + added load) / legs.

    None when the variant carries body mass and body mass is unknown.
    """
    body = 0.0
    if carries_body_mass(variant):
        if body_mass_kg is None:
            return None
        body = body_mass_kg
    return (body + (load_kg or 0.0)) / legs(variant)


def external_for_per_leg(variant: Variant, per_leg: float, body_mass_kg: float) -> float:
    """The added load that gives ``per_leg`` kg on one tendon in this variant (inverse of
    ``per_leg_kg``)."""
    body = body_mass_kg if carries_body_mass(variant) else 0.0
    return per_leg * legs(variant) - body


def describe(variant: Variant | None) -> str:
    return {
        "single_leg": "single leg",
        "two_leg": "both legs",
        "seated": "seated, both legs",
        "seated_single_leg": "seated, single leg",
        None: "unknown legs",
    }[variant]


__all__ = [
    "CALF_EXERCISES",
    "CALF_HOLD",
    "CALF_RAISE",
    "EXERCISE_KINDS",
    "FIT_CALF_SUBTYPES",
    "ISOMETRIC_MIN_S",
    "HEEL_DROP",
    "POGO_HOPS",
    "VARIANTS",
    "Variant",
    "carries_body_mass",
    "describe",
    "exercise_name",
    "external_for_per_leg",
    "fit_exercise",
    "fit_variant",
    "kind_of",
    "legs",
    "per_leg_kg",
    "variant_of",
]
