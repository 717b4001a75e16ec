-- Schema version 2: per-run load (computed in SQL from records), the runner's own logs,
-- alerts and plans.

CREATE TABLE run_loads (
    run_id          VARCHAR PRIMARY KEY,
    activity_id     VARCHAR NOT NULL,
    session_index   INTEGER NOT NULL,
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    start_utc       TIMESTAMP NOT NULL,
    sport           VARCHAR NOT NULL,
    is_running      BOOLEAN NOT NULL,
    distance_m      DOUBLE NOT NULL,
    duration_s      DOUBLE NOT NULL,
    avg_speed_mps   DOUBLE NOT NULL,
    steps           DOUBLE,
    steps_method    VARCHAR NOT NULL,
    tendon_load_bw  DOUBLE NOT NULL,
    tendon_load_n   DOUBLE,
    load_method     VARCHAR NOT NULL,
    peak_vgrf_bw    DOUBLE,
    k_vert_kn_per_m DOUBLE,
    k_leg_kn_per_m  DOUBLE,
    computed_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE run_loads IS 'One row per activity leg (session): distance, steps and Achilles-tendon load, aggregated in SQL over its per-second records.';
COMMENT ON COLUMN run_loads.run_id IS 'activity_id:session_index';
COMMENT ON COLUMN run_loads.local_date IS 'The athlete''s local calendar date of the start (file local time, else configured time zone, else UTC).';
COMMENT ON COLUMN run_loads.is_running IS 'true for running legs; only these count as running volume.';
COMMENT ON COLUMN run_loads.steps_method IS 'cadence (recorded) | step_length (distance over step length) | estimated (from speed)';
COMMENT ON COLUMN run_loads.tendon_load_bw IS 'Sum over steps of the per-step Achilles force as a multiple of body weight (default curve: Reiter et al. 2024).';
COMMENT ON COLUMN run_loads.tendon_load_n IS 'tendon_load_bw x body weight in newtons, when body mass is known.';
COMMENT ON COLUMN run_loads.load_method IS 'measured_dynamics (stance time recorded) | cadence_only | estimated';
COMMENT ON COLUMN run_loads.peak_vgrf_bw IS 'Spring-mass peak vertical ground force (Morin 2005), x body weight; only with stance time.';

CREATE TABLE strength_log (
    entry_id        VARCHAR PRIMARY KEY,
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    exercise        VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL CHECK (kind IN ('strength', 'isometric', 'plyometric')),
    sets            INTEGER NOT NULL,
    reps            INTEGER,
    seconds         DOUBLE,
    load_kg         DOUBLE,
    logged_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE strength_log IS 'Tendon and strength work logged by hand (tendon log strength). Watch-recorded sets are in strength_sets.';

CREATE TABLE pain_log (
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    during          INTEGER NOT NULL CHECK (during BETWEEN 0 AND 10),
    next_morning    INTEGER CHECK (next_morning BETWEEN 0 AND 10),
    logged_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (athlete_id, local_date)
);
COMMENT ON TABLE pain_log IS 'Achilles pain 0-10 during activity and the next morning (Silbernagel pain-monitoring model). One row per athlete and day; a new entry for the day replaces the old.';

CREATE TABLE visa_a_log (
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    score           INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    logged_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (athlete_id, local_date)
);
COMMENT ON TABLE visa_a_log IS 'VISA-A questionnaire scores (0-100, 100 = healthy tendon; Robinson 2001).';

CREATE TABLE alerts (
    alert_key       VARCHAR PRIMARY KEY,
    athlete_id      VARCHAR NOT NULL,
    rule            VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL CHECK (severity IN ('info', 'caution', 'warning', 'high')),
    alert_date      DATE NOT NULL,
    period          VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    evidence        JSON NOT NULL,
    source          VARCHAR NOT NULL,
    evaluation_id   VARCHAR,
    created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE alerts IS 'Every alert ever raised; alert_key = athlete:rule:period, so an alert exists once. Stored before any notifier sends it (the outbox).';
COMMENT ON COLUMN alerts.alert_date IS 'The run''s local date for per-run rules, the Monday of the ISO week for weekly rules.';
COMMENT ON COLUMN alerts.evidence IS 'The numbers that tripped the rule, as JSON.';
COMMENT ON COLUMN alerts.source IS 'The study behind the rule (see RULES.md).';

CREATE TABLE plans (
    athlete_id      VARCHAR NOT NULL,
    week_start      DATE NOT NULL,
    status          VARCHAR NOT NULL,
    target_km_low   DOUBLE NOT NULL,
    target_km_high  DOUBLE NOT NULL,
    long_run_cap_km DOUBLE NOT NULL,
    plan            JSON NOT NULL,
    reasons         JSON NOT NULL,
    evaluation_id   VARCHAR,
    created_at      TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (athlete_id, week_start)
);
COMMENT ON TABLE plans IS 'Next week''s plan per athlete: distance range, long-run cap, tendon sessions (plan JSON) and the reasons for every change. Re-evaluating replaces the week''s plan.';
