-- Schema version 4: stable views for analysts (docs/analysts.md).
--
-- These views are the supported way to query the warehouse: their names and columns only
-- change with a new migration and a note in docs/analysts.md. Every view and column has a
-- COMMENT, which docs/warehouse.md is generated from. CREATE OR REPLACE VIEW drops the
-- comments: a migration that replaces a view must comment it again.
--
-- run_loads is recomputed by every evaluation (tendon evaluate, the pipeline after a sync),
-- so views over it are as fresh as the last evaluation.

CREATE VIEW weekly_load AS
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
           count(*) FILTER (WHERE NOT is_running) AS other_sessions
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
           coalesce(t.other_sessions, 0) AS other_sessions
    FROM weeks w LEFT JOIN totals t USING (athlete_id, week_start)
),
lagged AS (
    SELECT *,
           lag(running_km) OVER w AS previous_week_km,
           lag(tendon_load_bw) OVER w AS previous_week_load_bw
    FROM filled WINDOW w AS (PARTITION BY athlete_id ORDER BY week_start)
)
SELECT athlete_id, week_start, strftime(week_start, '%G-W%V') AS iso_week,
       running_km, running_sessions, longest_run_km, running_hours, tendon_load_bw, tendon_load_n,
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
COMMENT ON COLUMN weekly_load.tendon_load_bw IS 'Sum of run_loads.tendon_load_bw over the week''s running legs (body-weight units; the rules'' weekly tendon load).';
COMMENT ON COLUMN weekly_load.tendon_load_n IS 'The same in newtons; NULL when a run lacks body mass.';
COMMENT ON COLUMN weekly_load.other_sessions IS 'Legs of other sports (cycling, strength training, ...): not running volume.';
COMMENT ON COLUMN weekly_load.previous_week_km IS 'running_km of the week before; NULL in the first week.';
COMMENT ON COLUMN weekly_load.km_change_pct IS 'Change of running_km on the week before, %; NULL when the week before had no running. The weekly_volume_increase rule also needs a 10 km base and a 5 km rise.';
COMMENT ON COLUMN weekly_load.previous_week_load_bw IS 'tendon_load_bw of the week before.';
COMMENT ON COLUMN weekly_load.load_change_pct IS 'Change of tendon_load_bw on the week before, %; NULL when the week before had none.';

CREATE VIEW run_summary AS
SELECT r.run_id, r.athlete_id, r.activity_id, r.session_index, r.local_date,
       strftime(r.local_date, '%G-W%V') AS iso_week, r.start_utc, r.sport, s.sub_sport, r.is_running,
       r.distance_m / 1000.0 AS distance_km,
       r.duration_s / 60.0 AS duration_min,
       CASE WHEN r.distance_m > 0 THEN r.duration_s / (r.distance_m / 1000.0) END AS pace_s_per_km,
       r.avg_speed_mps, s.avg_heart_rate, s.ascent_m, r.steps, r.steps_method,
       r.tendon_load_bw, r.tendon_load_n,
       CASE WHEN r.distance_m > 0 THEN r.tendon_load_bw / (r.distance_m / 1000.0) END AS tendon_load_bw_per_km,
       r.load_method, r.peak_vgrf_bw,
       spike.severity AS spike_severity,
       CAST(json_extract(spike.evidence, '$.increase_pct') AS DOUBLE) AS spike_increase_pct
FROM run_loads r
LEFT JOIN sessions s USING (activity_id, session_index)
LEFT JOIN alerts spike
       ON spike.rule = 'session_spike' AND spike.athlete_id = r.athlete_id AND spike.period = r.activity_id;

COMMENT ON VIEW run_summary IS 'One row per activity leg (run_loads) with the session''s heart rate and ascent, pace, tendon load per km and, when the single-run spike rule fired on it, that alert''s severity.';
COMMENT ON COLUMN run_summary.run_id IS 'activity_id:session_index (run_loads.run_id).';
COMMENT ON COLUMN run_summary.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN run_summary.activity_id IS 'activities.activity_id';
COMMENT ON COLUMN run_summary.session_index IS 'Leg of the activity (0 for a single-sport file).';
COMMENT ON COLUMN run_summary.local_date IS 'The athlete''s local date of the start.';
COMMENT ON COLUMN run_summary.iso_week IS 'ISO week of local_date as YYYY-Www.';
COMMENT ON COLUMN run_summary.start_utc IS 'Start of the leg, UTC.';
COMMENT ON COLUMN run_summary.sport IS 'FIT sport of the leg (running, trail_running, cycling, training, ...).';
COMMENT ON COLUMN run_summary.sub_sport IS 'FIT sub-sport (generic, treadmill, strength_training, ...).';
COMMENT ON COLUMN run_summary.is_running IS 'true for running legs: only these count as running volume and tendon load.';
COMMENT ON COLUMN run_summary.distance_km IS 'Distance, km.';
COMMENT ON COLUMN run_summary.duration_min IS 'Timer time, minutes.';
COMMENT ON COLUMN run_summary.pace_s_per_km IS 'Average pace, seconds per km; NULL without distance.';
COMMENT ON COLUMN run_summary.avg_speed_mps IS 'Average speed, m/s.';
COMMENT ON COLUMN run_summary.avg_heart_rate IS 'Average heart rate from the session message, beats/min.';
COMMENT ON COLUMN run_summary.ascent_m IS 'Total ascent from the session message, m.';
COMMENT ON COLUMN run_summary.steps IS 'Steps in the leg (run_loads.steps).';
COMMENT ON COLUMN run_summary.steps_method IS 'cadence | step_length | estimated (run_loads.steps_method).';
COMMENT ON COLUMN run_summary.tendon_load_bw IS 'Cumulative Achilles-tendon load, body-weight units (run_loads.tendon_load_bw).';
COMMENT ON COLUMN run_summary.tendon_load_n IS 'The same in newtons, when body mass is known.';
COMMENT ON COLUMN run_summary.tendon_load_bw_per_km IS 'tendon_load_bw per km: rises with speed at the same distance.';
COMMENT ON COLUMN run_summary.load_method IS 'measured_dynamics | cadence_only | estimated (run_loads.load_method).';
COMMENT ON COLUMN run_summary.peak_vgrf_bw IS 'Spring-mass peak vertical ground force, x body weight; only with stance time.';
COMMENT ON COLUMN run_summary.spike_severity IS 'Severity of the session_spike alert on this run (caution > 10 %, warning > 30 %, high > 100 % over the longest run of the previous 30 days); NULL when it did not fire.';
COMMENT ON COLUMN run_summary.spike_increase_pct IS 'How much longer than that 30-day longest run, %; NULL when the rule did not fire.';

CREATE VIEW strength_work AS
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
           s.repetitions, s.duration_s, s.weight_kg
    FROM strength_sets s JOIN activities a USING (activity_id)
    WHERE s.set_type = 'active' AND s.category IS NOT NULL
)
SELECT athlete_id, local_date, exercise, kind, 'fit' AS source, activity_id,
       count(*) AS sets,
       CASE WHEN kind = 'isometric' THEN NULL ELSE CAST(max(repetitions) AS INTEGER) END AS reps,
       CASE WHEN kind = 'isometric' THEN max(duration_s) END AS seconds,
       max(weight_kg) AS load_kg
FROM fit_sets GROUP BY athlete_id, local_date, exercise, kind, activity_id
UNION ALL
SELECT athlete_id, local_date, exercise, kind, 'manual' AS source, NULL AS activity_id,
       CAST(sets AS BIGINT), reps, seconds, load_kg
FROM strength_log;

COMMENT ON VIEW strength_work IS 'Strength and tendon work per athlete, day and exercise: watch-recorded sets (strength_sets, one row per activity and exercise) and hand-logged entries (strength_log), as the rules count them.';
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

CREATE VIEW pain_daily AS
WITH days AS (
    SELECT coalesce(p.athlete_id, v.athlete_id) AS athlete_id,
           coalesce(p.local_date, v.local_date) AS local_date,
           p.during, p.next_morning,
           CASE WHEN p.during IS NOT NULL THEN greatest(p.during, coalesce(p.next_morning, 0)) END AS pain_level,
           v.score AS visa_a_score
    FROM pain_log p FULL OUTER JOIN visa_a_log v
         ON p.athlete_id = v.athlete_id AND p.local_date = v.local_date
)
SELECT athlete_id, local_date, strftime(local_date, '%G-W%V') AS iso_week,
       during, next_morning, pain_level,
       avg(pain_level) OVER (PARTITION BY athlete_id ORDER BY local_date
                             RANGE BETWEEN INTERVAL 6 DAY PRECEDING AND CURRENT ROW) AS pain_level_7d_mean,
       visa_a_score
FROM days;

COMMENT ON VIEW pain_daily IS 'One row per athlete and day with a pain report or a VISA-A score: the runner''s Achilles pain (Silbernagel pain-monitoring model) and its 7-day trend.';
COMMENT ON COLUMN pain_daily.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN pain_daily.local_date IS 'The activity day the report is about.';
COMMENT ON COLUMN pain_daily.iso_week IS 'ISO week of local_date as YYYY-Www.';
COMMENT ON COLUMN pain_daily.during IS 'Pain during activity, 0-10 (the rules'' line: 5).';
COMMENT ON COLUMN pain_daily.next_morning IS 'Pain the next morning, 0-10 (settled: at most 2).';
COMMENT ON COLUMN pain_daily.pain_level IS 'The day''s pain: the worse of during and next morning; NULL on a VISA-A-only day.';
COMMENT ON COLUMN pain_daily.pain_level_7d_mean IS 'Mean pain_level of the reported days in the 7 days ending on local_date.';
COMMENT ON COLUMN pain_daily.visa_a_score IS 'VISA-A score that day, 0-100 (100 = healthy tendon).';

CREATE VIEW alert_history AS
SELECT athlete_id, alert_date, strftime(alert_date, '%G-W%V') AS iso_week, rule, severity,
       CASE severity WHEN 'info' THEN 0 WHEN 'caution' THEN 1 WHEN 'warning' THEN 2 WHEN 'high' THEN 3 END
           AS severity_rank,
       period,
       CASE WHEN regexp_matches(period, '^[0-9]{4}-W[0-9]{2}$') THEN 'week'
            WHEN regexp_matches(period, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') THEN 'day'
            ELSE 'run' END AS period_kind,
       CASE WHEN NOT regexp_matches(period, '^[0-9]{4}-(W[0-9]{2}|[0-9]{2}-[0-9]{2})$') THEN period END
           AS activity_id,
       message, evidence, source, alert_key, evaluation_id, created_at
FROM alerts;

COMMENT ON VIEW alert_history IS 'Every alert raised, with its ISO week, a sortable severity rank and what its period is (a week, a day or a run).';
COMMENT ON COLUMN alert_history.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN alert_history.alert_date IS 'The run''s local date for per-run rules, the Monday of the ISO week for weekly rules.';
COMMENT ON COLUMN alert_history.iso_week IS 'ISO week of alert_date as YYYY-Www.';
COMMENT ON COLUMN alert_history.rule IS 'Rule id: weekly_volume_increase, session_spike, acwr, tendon_load_increase, monotony, tendon_loading_frequency, tendon_loading_intensity, plyometric_balance, pain_monitoring.*';
COMMENT ON COLUMN alert_history.severity IS 'info | caution | warning | high';
COMMENT ON COLUMN alert_history.severity_rank IS '0 info, 1 caution, 2 warning, 3 high: ORDER BY severity_rank DESC puts the worst first.';
COMMENT ON COLUMN alert_history.period IS 'What the alert is about: an ISO week (2026-W23), a day (2026-06-03) or an activity id.';
COMMENT ON COLUMN alert_history.period_kind IS 'week | day | run';
COMMENT ON COLUMN alert_history.activity_id IS 'The run the alert is about (period_kind = run), else NULL.';
COMMENT ON COLUMN alert_history.message IS 'The sentence shown to the runner.';
COMMENT ON COLUMN alert_history.evidence IS 'The numbers that tripped the rule, as JSON (e.g. evidence->>''increase_pct'').';
COMMENT ON COLUMN alert_history.source IS 'The study behind the rule.';
COMMENT ON COLUMN alert_history.alert_key IS 'athlete:rule:period; an alert exists once.';
COMMENT ON COLUMN alert_history.evaluation_id IS 'The evaluation that first raised it.';
COMMENT ON COLUMN alert_history.created_at IS 'When it was first raised, UTC.';

CREATE VIEW weekly_plans AS
WITH latest AS (
    SELECT athlete_id, max(week_start) AS week_start FROM plans GROUP BY athlete_id
)
SELECT p.athlete_id, p.week_start, strftime(p.week_start, '%G-W%V') AS iso_week, p.status,
       p.target_km_low, p.target_km_high, p.long_run_cap_km,
       CAST(json_extract(p.plan, '$.cross_training_sessions') AS INTEGER) AS cross_training_sessions,
       CAST(json_extract(p.plan, '$.tendon_sessions_per_week') AS INTEGER) AS tendon_sessions_per_week,
       CAST(json_extract(p.plan, '$.program_week') AS INTEGER) AS program_week,
       from_json(p.reasons, '["VARCHAR"]') AS reasons,
       w.running_km AS actual_running_km,
       w.longest_run_km AS actual_longest_run_km,
       CASE WHEN w.running_km IS NULL THEN NULL
            WHEN w.running_km < p.target_km_low THEN 'below'
            WHEN w.running_km > p.target_km_high THEN 'above'
            ELSE 'within' END AS actual_vs_target,
       p.week_start = l.week_start AS is_latest,
       p.evaluation_id, p.created_at
FROM plans p
JOIN latest l ON l.athlete_id = p.athlete_id
LEFT JOIN weekly_load w ON w.athlete_id = p.athlete_id AND w.week_start = p.week_start;

COMMENT ON VIEW weekly_plans IS 'Every week''s plan (made at the end of the week before) next to what was run that week. The row with is_latest is next week''s plan.';
COMMENT ON COLUMN weekly_plans.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN weekly_plans.week_start IS 'Monday of the planned week.';
COMMENT ON COLUMN weekly_plans.iso_week IS 'The planned ISO week as YYYY-Www.';
COMMENT ON COLUMN weekly_plans.status IS 'progress | hold | cut | pain | restart: what the plan does and why (see reasons).';
COMMENT ON COLUMN weekly_plans.target_km_low IS 'Running distance target, low end, km.';
COMMENT ON COLUMN weekly_plans.target_km_high IS 'Running distance target, high end, km.';
COMMENT ON COLUMN weekly_plans.long_run_cap_km IS 'Longest run allowed, km.';
COMMENT ON COLUMN weekly_plans.cross_training_sessions IS 'Runs swapped for cross-training (in pain).';
COMMENT ON COLUMN weekly_plans.tendon_sessions_per_week IS 'Tendon-loading sessions planned.';
COMMENT ON COLUMN weekly_plans.program_week IS 'Week of the 12-week tendon program; NULL before it starts.';
COMMENT ON COLUMN weekly_plans.reasons IS 'The reason for every change, as a list of sentences.';
COMMENT ON COLUMN weekly_plans.actual_running_km IS 'Running km in that week so far (weekly_load); NULL when no activity of the week is stored.';
COMMENT ON COLUMN weekly_plans.actual_longest_run_km IS 'Longest run of that week so far, km.';
COMMENT ON COLUMN weekly_plans.actual_vs_target IS 'below | within | above the target range (a week in progress is usually below); NULL without data.';
COMMENT ON COLUMN weekly_plans.is_latest IS 'true for the athlete''s most recent plan.';
COMMENT ON COLUMN weekly_plans.evaluation_id IS 'The evaluation that made (or last replaced) the plan.';
COMMENT ON COLUMN weekly_plans.created_at IS 'When the plan was made, UTC.';

CREATE VIEW athlete_sync AS
WITH files AS (
    SELECT athlete_id, max(first_seen_at) AS last_sync_at, count(*) AS files,
           count(*) FILTER (WHERE status = 'quarantined') AS files_quarantined
    FROM source_files WHERE athlete_id IS NOT NULL GROUP BY athlete_id
),
acts AS (
    SELECT athlete_id, count(*) AS activities, min(start_utc) AS first_activity_utc,
           max(start_utc) AS last_activity_utc
    FROM activities GROUP BY athlete_id
)
SELECT a.athlete_id, a.display_name, f.last_sync_at, c.last_activity_utc, c.first_activity_utc,
       coalesce(c.activities, 0) AS activities, coalesce(f.files, 0) AS files,
       coalesce(f.files_quarantined, 0) AS files_quarantined
FROM athletes a
LEFT JOIN files f USING (athlete_id)
LEFT JOIN acts c USING (athlete_id);

COMMENT ON VIEW athlete_sync IS 'One row per athlete: when their watch data last arrived, their activity span and damaged files.';
COMMENT ON COLUMN athlete_sync.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN athlete_sync.display_name IS 'Name from configuration, if any.';
COMMENT ON COLUMN athlete_sync.last_sync_at IS 'When the last file for the athlete arrived (any outcome), UTC.';
COMMENT ON COLUMN athlete_sync.last_activity_utc IS 'Start of the latest stored activity, UTC.';
COMMENT ON COLUMN athlete_sync.first_activity_utc IS 'Start of the earliest stored activity, UTC.';
COMMENT ON COLUMN athlete_sync.activities IS 'Stored activities.';
COMMENT ON COLUMN athlete_sync.files IS 'Files offered for the athlete (ingested, duplicates, quarantined, ...).';
COMMENT ON COLUMN athlete_sync.files_quarantined IS 'Damaged files set aside (tendon files --status quarantined).';
