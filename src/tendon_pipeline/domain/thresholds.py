"""Every rule threshold and load-model constant, with its default and its source.

`RuleThresholds` is a plain pydantic model so it can be nested in the project's settings
(as ``settings.rules``) and overridden from configuration. Defaults follow
``shared/reference/RULES.md``; where the evidence gives no number, the default is a project
choice and its description says so.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .models import Severity

# Citations of the load model and the program. Each rule declares its own source with its
# id (``domain.registry``); ``domain.registry.sources()`` lists them.
MODEL_SOURCES: dict[str, str] = {
    "achilles_multiple": (
        "Reiter et al., Med Sci Sports Exerc 2024 (shear-wave tensiometry: ~8.2 x BW at "
        "2.68 m/s, ~10.1 x at 4.47 m/s, ~4.5 x walking at 1.34 m/s)"
    ),
    "spring_mass": "Morin et al., J Appl Biomech 2005 (spring-mass model from contact and flight times)",
    "step_rate": (
        "van Oeveren et al., PLoS One 2017 (self-selected 77, 79, 80 strides/min at 2.4, 2.6, "
        "2.9 m/s)"
    ),
    "program": (
        "Bohm et al. 2015; Radovanovic et al. 2022 (>= 12 weeks); seed program (isometric holds, "
        "eccentric heel drops, pogo hops); Silbernagel et al. 2007 (cross-train when in pain)"
    ),
    "tendon_progression": (
        "Beyer et al., Am J Sports Med 2015 (heavy slow resistance: load raised week by week from "
        "15RM to 6RM over 12 weeks); Alfredson et al., Am J Sports Med 1998 (eccentric heel drops, "
        "load added once bodyweight is painless); Silbernagel et al., Am J Sports Med 2007 (pain "
        "<= 5/10 during, settled by next morning, not rising: continue and progress, else reduce); "
        "RULES.md: progress from what was done, about 10 % a week at most, two-leg load does not "
        "transfer to one leg"
    ),
}


class AchillesCalibration(BaseModel):
    """Per-athlete override of the Achilles multiple.

    ``intercept_bw``/``slope_bw_per_mps`` replace the default fit when given; ``scale`` then
    multiplies the whole curve (walking value included), e.g. ``6 / 8.2`` to follow the seed
    text's 6 x body weight at 2.68 m/s.
    """

    model_config = ConfigDict(extra="forbid")

    intercept_bw: float | None = Field(default=None, gt=0, description="Multiple at the reference speed")
    slope_bw_per_mps: float | None = Field(default=None, description="Rise of the multiple per m/s")
    scale: float = Field(default=1.0, gt=0, description="Factor applied to the whole curve")


# The severity ladders, each declared once: rising lines, each with the severity that a value
# strictly above it earns (``RuleThresholds.ladder``); a ladder's lines must rise strictly.
SEVERITY_LADDERS: dict[str, tuple[tuple[str, Severity], ...]] = {
    "volume_increase": (("volume_increase_caution", Severity.CAUTION), ("volume_increase_warning", Severity.WARNING)),
    "spike": (("spike_caution", Severity.CAUTION), ("spike_high", Severity.HIGH)),
    "acwr": (("acwr_caution", Severity.CAUTION), ("acwr_warning", Severity.WARNING)),
    "tendon_load_increase": (("tendon_load_increase_caution", Severity.CAUTION),
                             ("tendon_load_increase_warning", Severity.WARNING)),
    "visa_a_drop": (("visa_a_drop_caution", Severity.CAUTION), ("visa_a_drop_warning", Severity.WARNING)),
}

# Pairs (lower, higher) that must rise strictly: the severity ladders and the min/max clamps.
ORDERED_THRESHOLDS: tuple[tuple[str, str], ...] = (
    *((low, high) for ladder in SEVERITY_LADDERS.values() for (low, _), (high, _) in zip(ladder, ladder[1:])),
    ("step_rate_min_spm", "step_rate_max_spm"),
)


class RuleThresholds(BaseModel):
    """All thresholds and model constants used by the domain core (configurable defaults)."""

    model_config = ConfigDict(extra="forbid")

    # --- Achilles load per step (Reiter et al. 2024) -----------------------------------------
    achilles_reference_speed_mps: float = Field(
        2.68, gt=0, description="Speed at which the intercept applies (Reiter et al. 2024)"
    )
    achilles_intercept_bw: float = Field(
        8.2, gt=0, description="Achilles force per step at the reference speed, x BW (Reiter 2024)"
    )
    achilles_slope_bw_per_mps: float = Field(
        1.06, description="Rise of the multiple per m/s: (10.1 - 8.2) / (4.47 - 2.68) (Reiter 2024)"
    )
    achilles_walking_bw: float = Field(
        4.5, gt=0, description="Multiple when walking at 1.34 m/s and the floor below it (Reiter 2024)"
    )
    achilles_walking_speed_mps: float = Field(
        1.34, gt=0, description="Walking speed measured by Reiter 2024; at or below it the floor applies"
    )
    achilles_running_min_speed_mps: float = Field(
        2.0,
        gt=0,
        description=(
            "Project choice: the running fit applies from here up (~walk-run transition); "
            "between walking speed and this the multiple is interpolated linearly"
        ),
    )
    athlete_calibration: dict[str, AchillesCalibration] = Field(
        default_factory=dict, description="Per-athlete Achilles-multiple overrides by athlete id"
    )

    # --- Spring-mass model (Morin et al. 2005) ------------------------------------------------
    gravity_mps2: float = Field(9.81, gt=0, description="Gravitational acceleration")
    leg_length_factor: float = Field(
        0.53, gt=0, description="Leg length = factor x height (Morin et al. 2005)"
    )

    # --- Step rate estimate when the watch gave no cadence (van Oeveren et al. 2017) ----------
    step_rate_intercept_spm: float = Field(
        126.8,
        description=(
            "Least-squares line through van Oeveren et al. 2017 (154, 158, 160 steps/min at "
            "2.4, 2.6, 2.9 m/s): steps/min = 126.8 + 11.6 x v"
        ),
    )
    step_rate_slope_spm_per_mps: float = Field(
        11.6, description="Slope of the step-rate line, steps/min per m/s (van Oeveren 2017)"
    )
    step_rate_min_spm: float = Field(140.0, gt=0, description="Project choice: lower clamp of the estimate")
    step_rate_max_spm: float = Field(200.0, gt=0, description="Project choice: upper clamp of the estimate")

    # --- Weekly progression against the runner's own level (Buist 2008, Nielsen 2014) ----------
    volume_increase_caution: float = Field(
        0.10,
        gt=0,
        description=(
            "A week more than this fraction above the runner's usual level: caution. The 10 % rule "
            "is a conservative guide, not evidence: it made no difference in a randomised trial "
            "(Buist et al. 2008, 532 novices)"
        ),
    )
    volume_increase_warning: float = Field(
        0.30,
        gt=0,
        description=(
            "More than this above the usual level, or over two weeks: warning (Nielsen et al. 2014: "
            ">30 % over a two-week period, HR 1.59, 95 % CI 0.96-2.66, distance-related injuries)"
        ),
    )
    volume_min_base_km: float = Field(
        10.0,
        ge=0,
        description="Project choice (small-base floor): no alert when the usual level is below this",
    )
    volume_min_increase_km: float = Field(
        5.0,
        ge=0,
        description="Project choice (small-base floor): no alert when the rise is below this many km",
    )
    baseline_weeks: int = Field(
        4,
        gt=0,
        description=(
            "The usual level is the larger of last week and the mean of this many earlier weeks with "
            "running (Nielsen 2014 and Frandsen 2025 compare with the runner's own recent level; "
            "weeks before the first activity are unknown, not zero)"
        ),
    )
    baseline_min_weeks: int = Field(
        3,
        ge=1,
        description=(
            "Project choice: with fewer completed weeks of running than this the baseline is "
            "provisional: the declared baseline_weekly_km if any, else no progression alerts yet"
        ),
    )
    break_min_days: int = Field(
        7,
        gt=0,
        description=(
            "At least this many days without running is a break: the return builds back toward the "
            "pre-break level and a return below it is not an overload (RULES.md: no trial-grade "
            "threshold; clinical guidance restarts below the previous level)"
        ),
    )
    break_return_weeks: int = Field(
        8, gt=0, description="Project choice: the pre-break level counts for this many weeks after the break"
    )
    break_max_days: int = Field(
        56,
        gt=0,
        description="Project choice: after a break longer than this the pre-break level no longer counts",
    )

    # --- Single-run spike (Frandsen et al. 2025) -----------------------------------------------
    spike_window_days: int = Field(30, gt=0, description="Look-back for the longest run (Frandsen 2025)")
    spike_caution: float = Field(
        0.10,
        gt=0,
        description=(
            "Run longer than the 30-day longest by more than this: caution. One band up to spike_high: "
            "Frandsen 2025's hazard ratios are not monotonic (10-30 %: 1.64; 30-100 %: 1.52)"
        ),
    )
    spike_high: float = Field(1.00, gt=0, description="> 100 %: high (Frandsen 2025, HR 2.28, CI 1.50-3.48)")
    spike_min_increase_km: float = Field(
        1.0, ge=0, description="Project choice: ignore spikes smaller than this many km"
    )
    spike_min_history_days: int = Field(
        14, ge=0,
        description=(
            "Project choice: judge a run only when the athlete's running history starts at least "
            "this many days earlier; with less, the 30-day longest is not known (a new user's "
            "first sync would otherwise flag every long run)"
        ),
    )

    # --- Acute:chronic workload ratio (Hulin 2014, Gabbett 2016, Williams 2017, Lolli 2019) ----
    acwr_caution: float = Field(1.3, gt=0, description="Ratio above the 0.8-1.3 'sweet spot' (Gabbett 2016)")
    acwr_warning: float = Field(1.5, gt=0, description="'Danger' zone from 1.5 (Gabbett 2016)")
    acute_days: int = Field(7, gt=0, description="Acute window, days (Hulin 2014)")
    chronic_days: int = Field(28, gt=0, description="Chronic window, days (Hulin 2014)")
    acwr_method: Literal["coupled", "uncoupled", "ewma"] = Field(
        "uncoupled",
        description="Ratio that drives the rule; all three are reported (Lolli 2019 uncoupled default)",
    )
    acwr_min_chronic_days: int = Field(
        21,
        ge=0,
        description="Project choice: data must start at least this many days before the acute window",
    )
    acwr_context_only: bool = Field(
        True,
        description=(
            "ACWR is context: alone it is info; it keeps its caution/warning band only when a pain "
            "rule fired the same week, never corroborated by the distance and load it is made of "
            "(Impellizzeri et al. 2020-2021; Frandsen 2025: no useful dose-response)"
        ),
    )

    # --- Tendon-load progression (same lines as volume by default) -----------------------------
    tendon_load_increase_caution: float = Field(
        0.10, gt=0, description="Weekly tendon-load rise on the usual level: caution (as volume)"
    )
    tendon_load_increase_warning: float = Field(
        0.30, gt=0, description="Weekly tendon-load rise on the usual level: warning (as volume)"
    )
    tendon_load_divergence: float = Field(
        0.10,
        ge=0,
        description=(
            "Project choice: tendon load speaks on its own only when its rise exceeds the distance's "
            "real change on the same level (also one under volume_min_increase_km) by more than this "
            "(otherwise it is evidence in the weekly progression alert)"
        ),
    )
    tendon_load_min_base_bw: float = Field(
        80_000.0,
        ge=0,
        description="Project choice: small-base floor in BW units (~10 km easy at 2.9 m/s, 160 spm)",
    )
    tendon_load_min_increase_bw: float = Field(
        40_000.0, ge=0, description="Project choice: ignore rises below this (~5 km easy running)"
    )

    # --- Monotony (Foster 1998) -----------------------------------------------------------------
    monotony_warning: float = Field(
        2.0,
        gt=0,
        description=(
            "Monotony of the whole day's training (minutes of all activities, strength logged by hand) above "
            "this: caution (Foster 1998); it does not by itself hold the plan"
        ),
    )

    monotony_repeat_weeks: int = Field(
        4,
        gt=0,
        description="Project choice: monotonous weeks in a row are said once, again after this many more",
    )

    # --- Tendon loading program (Bohm 2015, Radovanovic 2022, Kubo 2017) -----------------------
    tendon_sessions_min_per_week: int = Field(2, ge=0, description="Minimum tendon sessions a week (Bohm 2015)")
    tendon_sessions_target_per_week: int = Field(3, ge=1, description="Program target: 2-3 a week (Bohm 2015)")
    tendon_frequency_repeat_weeks: int = Field(
        4,
        gt=0,
        description=(
            "Project choice: program weeks in a row below the minimum are said once, again every this "
            "many weeks of the run (the plan still says it every week)"
        ),
    )
    tendon_loading_exercises: tuple[str, ...] = Field(
        ("isometric_calf_raise_hold", "eccentric_heel_drop", "calf_raise"),
        description="Exercises that count as tendon loading (strength/isometric kinds only; Kubo 2017)",
    )
    calf_intensity_min: float = Field(
        0.70, gt=0, le=1, description="Calf work below this fraction of 1RM is too light (Bohm 2015)"
    )
    calf_intensity_after_weeks: int = Field(
        4, ge=0, description="Intensity rule applies after this many program weeks (project choice)"
    )
    calf_intensity_quiet_after_flare_days: int = Field(
        28, ge=0,
        description=(
            "tendon_loading_intensity stays silent for weeks ending within this many days after pain "
            "above the line: the plan steps loads back and climbs again then (project choice: "
            "two weeks of step back and two of climbing; Silbernagel 2007)"
        ),
    )
    one_rm_lookback_weeks: int = Field(
        6, gt=0,
        description=(
            "Weeks of calf sets before the judged week used to estimate 1RM when no max was "
            "tested (project choice; the judged week's own sets never count)"
        ),
    )
    one_rm_tested_lookback_weeks: int = Field(
        12, gt=0,
        description=(
            "A tested max (`tendon log max`) is used for this many weeks (project choice: one "
            "program length, Beyer 2015)"
        ),
    )
    plyo_to_strength_max_ratio: float = Field(
        1.0, gt=0, description="Plyometric sets may not exceed strength sets x this (Kubo 2017)"
    )
    program_weeks: int = Field(12, gt=0, description="Program length, weeks (Bohm 2015, Radovanovic 2022)")
    never_started_weeks: int = Field(
        4,
        gt=0,
        description=(
            "This many completed weeks of running with no tendon work at all is said once, and again "
            "only after as many more (project choice; load the tendon 2-3 x a week, Bohm 2015)"
        ),
    )

    # --- Pain and VISA-A (Silbernagel 2007, Robinson 2001) -------------------------------------
    pain_during_max: int = Field(
        5, ge=0, le=10,
        description=(
            "Pain during activity or the next morning above this is too much: warning, and the "
            "plan cuts running (Silbernagel 2007: 0-2 safe, 3-5 acceptable, > 5 too much)"
        ),
    )
    pain_settled_max: int = Field(
        2, ge=0, le=10,
        description=(
            "Top of the 0-2 'safe' zone (Silbernagel 2007): pain at or below it never alerts; "
            "3-5 next morning is judged against the usual morning level"
        ),
    )
    pain_rise_min_points: float = Field(
        1.0, gt=0, description="Project choice: weekly mean pain must rise at least this much"
    )
    pain_usual_morning_days: int = Field(
        28, gt=0,
        description=(
            "Next-morning pain of 3-5/10 is 'settled' when not above the usual morning level: the "
            "median of the next-morning reports of this many previous days (Silbernagel 2007: "
            "'not worse than the usual morning level'; window a project choice). With no earlier "
            "report, 3-5 is acceptable"
        ),
    )
    pain_morning_worse_points: int = Field(
        1, ge=1,
        description=(
            "Next-morning pain this many points above the usual level is not settled (caution: "
            "hold). Project choice: the smallest step of the 0-10 scale"
        ),
    )
    visa_a_drop_caution: float = Field(10.0, gt=0, description="VISA-A drop (points) for caution (project choice)")
    visa_a_drop_warning: float = Field(20.0, gt=0, description="VISA-A drop (points) for warning (project choice)")
    visa_a_lookback_days: int = Field(
        56, gt=0, description="Compare with the best score of this many previous days (project choice)"
    )

    # --- Plan progression -----------------------------------------------------------------------
    plan_progression: float = Field(0.10, ge=0, description="Weekly distance step when clean (+10 %)")
    plan_hold_low: float = Field(0.90, gt=0, description="After caution: range from 90 % ...")
    plan_cut_low: float = Field(0.70, gt=0, description="After warning/high: 70-80 % (cut 20-30 %)")
    plan_cut_high: float = Field(0.80, gt=0, description="After warning/high: upper end of the cut")
    plan_pain_run_factor: float = Field(
        0.50, ge=0, description="While pain is above the line: run at most this fraction of last week"
    )
    plan_pain_swap_fraction: float = Field(
        0.50, ge=0, le=1, description="Share of last week's runs swapped for cross-training in pain"
    )
    plan_pain_lookback_days: int = Field(7, gt=0, description="Pain this recent shapes the next plan")
    plan_unwell_lookback_days: int = Field(
        7, gt=0,
        description=(
            "Project choice: a 'feeling unwell' check-in this recent (days up to the evaluation day) "
            "holds the next plan below the usual level, with no progression (RULES.md: after a break "
            "for illness, clinical guidance restarts below the previous level; no trial-grade threshold)"
        ),
    )
    plan_unwell_run_factor: float = Field(
        0.80, gt=0, lt=1,
        description=(
            "Project choice: after feeling unwell, next week's running at most this fraction of the usual "
            "level, from 0 (rest until well), long run capped as after a warning (RULES.md: restart below "
            "the previous level; no trial-grade threshold, so the cut's upper end is reused)"
        ),
    )
    plan_pogo_return_days: int = Field(
        14, gt=0,
        description=(
            "After pain above the line (a flare), for this many days hops restart small on two "
            "legs and calf loads stay under the step-back fraction (project choice)"
        ),
    )
    plan_single_leg_hops_from_week: int = Field(
        9, gt=0, description="Pogo hops progress to one leg from this program week (project choice)"
    )
    long_run_cap_factor: float = Field(
        1.10,
        gt=0,
        description="Long-run cap: 110 % of the 30-day longest, rounded down so running it never trips session_spike",
    )
    long_run_cap_factor_hold: float = Field(1.00, gt=0, description="Long-run cap after caution")
    long_run_cap_factor_cut: float = Field(0.80, gt=0, description="Long-run cap after warning/pain")
    plan_restart_week_km: float = Field(
        10.0, ge=0, description="Weekly ceiling when there is no running in the last 4 weeks"
    )
    plan_restart_long_run_km: float = Field(
        5.0, ge=0, description="Long-run cap when there is no run in the last 30 days"
    )
    plan_return_step: float = Field(
        0.5,
        gt=0,
        le=1,
        description=(
            "Project choice: after a break each week's ceiling closes this share of the gap between "
            "last week and the pre-break level (RULES.md: no trial-grade threshold)"
        ),
    )
    race_long_km: float = Field(
        21.0, gt=0, description="Project choice: a race at least this long is followed by a recovery week"
    )
    plan_taper_race_week: tuple[float, float] = Field(
        (0.4, 0.6),
        description="Project choice: race week, running besides the race as a share of the usual level (A/B race)",
    )
    plan_taper_week_before: tuple[float, float] = Field(
        (0.7, 0.85),
        description="Project choice: the week before an A race of race_long_km or more, share of the usual level",
    )
    plan_recovery_week: tuple[float, float] = Field(
        (0.3, 0.6),
        description="Project choice: the week after a long race, share of the pre-race usual level; no hops",
    )
    plan_calf_target_intensity: float = Field(
        0.75, gt=0, le=1,
        description=(
            "Calf load the program climbs towards and not past, as a fraction of a known max "
            "(tested, or Epley from sets with reps in reserve); never reached in one jump. Bohm "
            "2015: 70-90 %; 3 x 12 at 75 % is near failure (Epley)"
        ),
    )
    tendon_load_progression_max: float = Field(
        0.10, ge=0,
        description=(
            "Largest weekly rise of the load one tendon carries (body mass share + added load) per "
            "exercise: the usual clinical step of a few % to about 10 % a week (RULES.md; Beyer "
            "2015 raised load weekly, 15RM to 6RM over 12 weeks)"
        ),
    )
    tendon_progress_min_rir: int = Field(
        1, ge=0,
        description=(
            "Load rises only when the last recorded sets left at least this many reps in reserve "
            "(or none were given): sets taken to failure are held (project choice; Alfredson 1998 "
            "adds load once the current load is manageable)"
        ),
    )
    tendon_recorded_lookback_days: int = Field(
        14, gt=0,
        description=(
            "Doses progress from the heaviest set recorded in this many days per exercise; "
            "nothing recorded: the seed's bodyweight start (project choice: two weeks)"
        ),
    )
    tendon_flare_step_back: float = Field(
        0.80, gt=0, le=1,
        description=(
            "After a pain flare (pain alert at warning), per-leg load is at most this fraction of "
            "the pre-flare peak while the flare is recent (plan_pogo_return_days; Silbernagel 2007: reduce, not stop; "
            "fraction a project choice)"
        ),
    )
    tendon_flare_reference_days: int = Field(
        28, gt=0,
        description="The pre-flare peak is the heaviest per-leg set of this many days before it (project choice)",
    )
    plan_load_step_kg: float = Field(
        2.5, gt=0, description="Suggested loads are rounded down to this step (the smallest common plate pair)"
    )

    @model_validator(mode="after")
    def _ladders_in_order(self) -> RuleThresholds:
        """Each ladder of ORDERED_THRESHOLDS rises strictly (caution below warning below high)."""
        wrong = [f"{low} ({getattr(self, low):g}) must be below {high} ({getattr(self, high):g})"
                 for low, high in ORDERED_THRESHOLDS if not getattr(self, low) < getattr(self, high)]
        if wrong:
            raise ValueError("thresholds out of order: " + "; ".join(wrong))
        return self

    def chronic_window(self, whose: str = "your") -> str:
        """The ACWR's chronic side in words (``acwr_method``): "your ..." in the rule's message,
        "the ..." in the report's chart caption."""
        if self.acwr_method == "uncoupled":
            return f"{whose} daily mean of the {self.chronic_days - self.acute_days} days before"
        if self.acwr_method == "coupled":
            return f"{whose} daily mean of the last {self.chronic_days} days (them included)"
        return f"{whose} {self.chronic_days}-day EWMA"

    def ladder(self, name: str) -> list[tuple[float, Severity]]:
        """(line, severity) of a ladder of SEVERITY_LADDERS with this configuration's values."""
        return [(getattr(self, field), severity) for field, severity in SEVERITY_LADDERS[name]]

    def calibration_for(self, athlete_id: str) -> AchillesCalibration | None:
        """The athlete's Achilles calibration, if one is configured."""
        return self.athlete_calibration.get(athlete_id)
