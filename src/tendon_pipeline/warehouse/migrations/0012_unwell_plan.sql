-- Schema version 12 (quality): a recent "feeling unwell" check-in now shapes the next plan
-- (status unwell: no progression, running below the usual level); the analyst views
-- weekly_load and strength_work gain load_method and variant (CREATE OR REPLACE VIEW drops
-- the comments: every column is commented again). The CASE on category_subtype is
-- domain/exercises.FIT_CALF_SUBTYPES (a test checks they agree).

COMMENT ON TABLE unwell_log IS 'Days the runner checked in as feeling unwell (tendon serve, runner check-in). Shown to the runner and the coach; a day in the last rules.plan_unwell_lookback_days makes the next plan unwell (no progression, running below the usual level); no rule raises an alert for it.';
COMMENT ON COLUMN weekly_plans.status IS 'progress | hold | cut | pain | restart | return (back from a break) | taper (race ahead) | recovery (after a long race) | unwell (a recent feeling-unwell check-in): what the plan does and why (see reasons).';

CREATE OR REPLACE VIEW weekly_load AS
WITH legs AS (
    SELECT *, CAST(date_trunc('week', local_date) AS DATE) AS week_start FROM run_loads
),
span AS (
    SELECT athlete_id, min(week_start) AS first_week, max(week_start) AS last_week FROM legs GROUP BY athlete_id
),
weeks AS (
    SELECT athlete_id, CAST(unnest(generate_series(first_week, last_week, INTERVAL 7 DAY)) AS DATE) AS week_start
    FROM span
),
totals AS (
    SELECT athlete_id, week_start,
           coalesce(sum(distance_m) FILTER (WHERE is_running), 0) / 1000.0 AS running_km,
           count(*) FILTER (WHERE is_running) AS running_sessions,
           max(distance_m) FILTER (WHERE is_running) / 1000.0 AS longest_run_km,
           coalesce(sum(duration_s) FILTER (WHERE is_running), 0) / 3600.0 AS running_hours,
           coalesce(sum(tendon_load_bw) FILTER (WHERE is_running), 0) AS tendon_load_bw,
           CASE WHEN count(*) FILTER (WHERE is_running AND tendon_load_n IS NULL) = 0
                THEN coalesce(sum(tendon_load_n) FILTER (WHERE is_running), 0) END AS tendon_load_n,
           count(*) FILTER (WHERE NOT is_running) AS other_sessions,
           CASE WHEN count(DISTINCT load_method) FILTER (WHERE is_running) > 1 THEN 'mixed'
                ELSE min(load_method) FILTER (WHERE is_running) END AS load_method
    FROM legs GROUP BY athlete_id, week_start
),
filled AS (
    SELECT w.athlete_id, w.week_start,
           coalesce(t.running_km, 0) AS running_km,
           coalesce(t.running_sessions, 0) AS running_sessions,
           t.longest_run_km,
           coalesce(t.running_hours, 0) AS running_hours,
           coalesce(t.tendon_load_bw, 0) AS tendon_load_bw,
           CASE WHEN t.athlete_id IS NULL THEN 0 ELSE t.tendon_load_n END AS tendon_load_n,
           coalesce(t.other_sessions, 0) AS other_sessions,
           t.load_method
    FROM weeks w LEFT JOIN totals t USING (athlete_id, week_start)
),
lagged AS (
    SELECT *,
           lag(running_km) OVER w AS previous_week_km,
           lag(tendon_load_bw) OVER w AS previous_week_load_bw
    FROM filled WINDOW w AS (PARTITION BY athlete_id ORDER BY week_start)
)
SELECT athlete_id, week_start, strftime(week_start, '%G-W%V') AS iso_week,
       running_km, running_sessions, longest_run_km, running_hours, tendon_load_bw, tendon_load_n, load_method,
       other_sessions, previous_week_km,
       CASE WHEN previous_week_km > 0 THEN 100.0 * (running_km / previous_week_km - 1) END AS km_change_pct,
       previous_week_load_bw,
       CASE WHEN previous_week_load_bw > 0 THEN 100.0 * (tendon_load_bw / previous_week_load_bw - 1) END
           AS load_change_pct
FROM lagged;

COMMENT ON VIEW weekly_load IS 'One row per athlete and ISO week (Monday to Sunday, local dates) from the first to the last week with an activity, weeks without running included as 0: running distance, time and Achilles-tendon load, and the change on the week before. Only running legs count.';
COMMENT ON COLUMN weekly_load.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN weekly_load.week_start IS 'Monday of the ISO week (athlete''s local calendar).';
COMMENT ON COLUMN weekly_load.iso_week IS 'The ISO week as YYYY-Www, as used in alert periods.';
COMMENT ON COLUMN weekly_load.running_km IS 'Running distance in the week, km.';
COMMENT ON COLUMN weekly_load.running_sessions IS 'Running legs in the week.';
COMMENT ON COLUMN weekly_load.longest_run_km IS 'Longest running leg of the week, km; NULL without running.';
COMMENT ON COLUMN weekly_load.running_hours IS 'Running time (timer time), hours.';
COMMENT ON COLUMN weekly_load.tendon_load_bw IS 'Sum of run_loads.tendon_load_bw over the week''s running legs (body-weight units; the rules'' weekly tendon load). A model estimate: how each run''s figure was obtained is run_summary.load_method (measured_dynamics | cadence_only | estimated).';
COMMENT ON COLUMN weekly_load.tendon_load_n IS 'The same in newtons; NULL when a run lacks body mass.';
COMMENT ON COLUMN weekly_load.load_method IS 'How the week''s tendon load was obtained: measured_dynamics (contact and flight times from the watch) | cadence_only (measured steps, modelled force) | estimated (steps estimated from speed) when every running leg agrees, mixed when they differ (run_summary.load_method per run); NULL without running. Every figure is a model estimate; only its inputs are measured.';
COMMENT ON COLUMN weekly_load.other_sessions IS 'Legs of other sports (cycling, strength training, ...): not running volume.';
COMMENT ON COLUMN weekly_load.previous_week_km IS 'running_km of the week before; NULL in the first week.';
COMMENT ON COLUMN weekly_load.km_change_pct IS 'Change of running_km on the week before, %; NULL when the week before had no running. Not the rule''s comparison: weekly_volume_increase compares with the usual level (the larger of last week and the mean of the 4 earlier weeks with running; the pre-break level after a break) and needs a 10 km level and a 5 km rise.';
COMMENT ON COLUMN weekly_load.previous_week_load_bw IS 'tendon_load_bw of the week before.';
COMMENT ON COLUMN weekly_load.load_change_pct IS 'Change of tendon_load_bw on the week before, %; NULL when the week before had none.';

CREATE OR REPLACE VIEW strength_work AS
WITH fit_sets AS (
    SELECT a.athlete_id, s.activity_id,
           CAST(coalesce(s.start_utc, a.start_utc) + to_seconds(coalesce(a.local_offset_s, 0)) AS DATE) AS local_date,
           CASE WHEN s.category = 'calf_raise' AND coalesce(s.repetitions, 0) <= 1
                     AND coalesce(s.duration_s, 0) >= 10 THEN 'isometric_calf_raise_hold'
                ELSE s.category END AS exercise,
           CASE WHEN s.category = 'calf_raise' AND coalesce(s.repetitions, 0) <= 1
                     AND coalesce(s.duration_s, 0) >= 10 THEN 'isometric'
                WHEN s.category = 'plyo' THEN 'plyometric'
                ELSE 'strength' END AS kind,
           coalesce(c.variant, CASE WHEN s.category = 'calf_raise' THEN CASE
                WHEN s.category_subtype IN (0, 1, 4, 5, 17, 18, 19, 20) THEN 'two_leg'
                WHEN s.category_subtype IN (2, 3, 9, 10, 12, 13, 15, 16) THEN 'single_leg'
                WHEN s.category_subtype IN (6, 7, 8) THEN 'seated'
                END END) AS variant,
           s.repetitions, s.duration_s, s.weight_kg
    FROM strength_sets s JOIN activities a USING (activity_id)
    LEFT JOIN strength_set_corrections c ON c.activity_id = s.activity_id AND c.set_index = s.set_index
    WHERE s.set_type = 'active' AND s.category IS NOT NULL
)
SELECT athlete_id, local_date, exercise, kind, 'fit' AS source, activity_id,
       count(*) AS sets,
       CASE WHEN kind = 'isometric' THEN NULL ELSE CAST(max(repetitions) AS INTEGER) END AS reps,
       CASE WHEN kind = 'isometric' THEN max(duration_s) END AS seconds,
       max(weight_kg) AS load_kg, variant
FROM fit_sets GROUP BY athlete_id, local_date, exercise, kind, activity_id, variant
UNION ALL
SELECT athlete_id, local_date, exercise, kind, 'manual' AS source, NULL AS activity_id,
       CAST(sets AS BIGINT), reps, seconds, load_kg, variant
FROM strength_log;

COMMENT ON VIEW strength_work IS 'Strength and tendon work per athlete, day and exercise: watch-recorded sets (strength_sets, one row per activity, exercise and variant) and hand-logged entries (strength_log), as the rules count them.';
COMMENT ON COLUMN strength_work.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN strength_work.local_date IS 'Local date (watch sets: the file''s local time, else UTC; the configured time zone is not applied here).';
COMMENT ON COLUMN strength_work.exercise IS 'FIT exercise_category (calf_raise, plyo, squat, ...; a one-rep calf set held >= 10 s is isometric_calf_raise_hold) or the logged name (eccentric_heel_drop, pogo_hops, ...).';
COMMENT ON COLUMN strength_work.kind IS 'strength | isometric | plyometric';
COMMENT ON COLUMN strength_work.source IS 'fit (recorded by the watch) | manual (tendon log strength)';
COMMENT ON COLUMN strength_work.activity_id IS 'The strength activity for watch sets; NULL when logged by hand.';
COMMENT ON COLUMN strength_work.sets IS 'Working sets (rest sets excluded).';
COMMENT ON COLUMN strength_work.reps IS 'Most repetitions in a set; NULL for isometric holds.';
COMMENT ON COLUMN strength_work.seconds IS 'Longest hold, s (isometric); for manual entries the logged time per set.';
COMMENT ON COLUMN strength_work.load_kg IS 'Heaviest external load, kg (body weight is implied).';
COMMENT ON COLUMN strength_work.variant IS 'single_leg | two_leg | seated | seated_single_leg: for watch sets a correction (tendon strength correct) else the FIT calf_raise category_subtype, for logged entries as logged; NULL when nothing says (the rules then use the exercise''s default: single leg for holds and heel drops, two legs for calf raises).';
