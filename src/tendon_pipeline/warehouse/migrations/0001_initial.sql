-- Schema version 1: athletes, source files, activities and what a FIT activity holds.
-- Times: *_utc are UTC, *_local the athlete's wall-clock time. Units are in column names.

CREATE TABLE athletes (
    athlete_id      VARCHAR PRIMARY KEY,
    display_name    VARCHAR,
    body_mass_kg    DOUBLE,
    height_m        DOUBLE,
    body_mass_source VARCHAR,
    created_at      TIMESTAMP DEFAULT current_timestamp
);
COMMENT ON TABLE athletes IS 'One row per athlete. Body mass comes from configuration or, failing that, a FIT user_profile.';
COMMENT ON COLUMN athletes.body_mass_source IS 'config | fit_user_profile | NULL when unknown';

CREATE TABLE ingest_runs (
    ingest_id       VARCHAR PRIMARY KEY,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    files_seen      INTEGER,
    summary         JSON
);
COMMENT ON TABLE ingest_runs IS 'One row per ingest batch (a CLI call, a watcher batch, an upload).';

CREATE TABLE source_files (
    file_hash       VARCHAR PRIMARY KEY,
    path            VARCHAR NOT NULL,
    athlete_id      VARCHAR,
    size_bytes      BIGINT NOT NULL,
    status          VARCHAR NOT NULL CHECK (status IN ('ingested', 'salvaged', 'duplicate', 'skipped', 'quarantined')),
    reason_code     VARCHAR,
    reason          VARCHAR,
    activity_id     VARCHAR,
    ingest_id       VARCHAR,
    first_seen_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE source_files IS 'Every file ever offered, by SHA-256 of its bytes, with what became of it.';
COMMENT ON COLUMN source_files.status IS 'ingested | salvaged (cut short, data up to the break kept) | duplicate (same activity already stored) | skipped (not an activity) | quarantined (damaged; see reason)';
COMMENT ON COLUMN source_files.reason_code IS 'not_fit | empty | bad_header | crc_mismatch | undefined_message | truncated | corrupt | unreadable | not_activity | duplicate_activity';

CREATE TABLE activities (
    activity_id     VARCHAR PRIMARY KEY,
    activity_key    VARCHAR NOT NULL UNIQUE,
    athlete_id      VARCHAR NOT NULL,
    file_hash       VARCHAR NOT NULL,
    manufacturer    VARCHAR,
    product         VARCHAR,
    serial_number   BIGINT,
    time_created_utc TIMESTAMP,
    start_utc       TIMESTAMP,
    local_offset_s  INTEGER,
    body_mass_kg    DOUBLE,
    height_m        DOUBLE,
    salvaged        BOOLEAN NOT NULL DEFAULT false,
    salvage_reason  VARCHAR,
    ingested_at     TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE activities IS 'One row per activity file. activity_key (device, creation time, start) makes the same activity under another file name a duplicate.';
COMMENT ON COLUMN activities.local_offset_s IS 'Athlete wall clock minus UTC, from the FIT activity message (NULL: use configuration).';
COMMENT ON COLUMN activities.body_mass_kg IS 'From the file''s user_profile, when the watch recorded it.';

CREATE TABLE sessions (
    activity_id     VARCHAR NOT NULL,
    session_index   INTEGER NOT NULL,
    sport           VARCHAR NOT NULL,
    sub_sport       VARCHAR,
    start_utc       TIMESTAMP,
    start_local     TIMESTAMP,
    elapsed_s       DOUBLE,
    timer_s         DOUBLE,
    distance_m      DOUBLE,
    ascent_m        DOUBLE,
    avg_speed_mps   DOUBLE,
    avg_heart_rate  DOUBLE,
    avg_steps_per_min DOUBLE,
    total_steps     DOUBLE,
    avg_stance_time_ms DOUBLE,
    synthesized     BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (activity_id, session_index)
);
COMMENT ON TABLE sessions IS 'One row per leg of an activity (a multisport file has several). Only sport = running counts as running volume.';
COMMENT ON COLUMN sessions.synthesized IS 'true when the file was cut short before its session message and the session was rebuilt from records.';

CREATE TABLE laps (
    activity_id     VARCHAR NOT NULL,
    lap_index       INTEGER NOT NULL,
    start_utc       TIMESTAMP,
    elapsed_s       DOUBLE,
    timer_s         DOUBLE,
    distance_m      DOUBLE,
    avg_speed_mps   DOUBLE,
    avg_heart_rate  DOUBLE,
    sport           VARCHAR,
    PRIMARY KEY (activity_id, lap_index)
);
COMMENT ON TABLE laps IS 'Laps as the device recorded them.';

CREATE TABLE records (
    activity_id     VARCHAR NOT NULL,
    ts_utc          TIMESTAMP,
    session_index   INTEGER,
    distance_m      DOUBLE,
    speed_mps       DOUBLE,
    heart_rate      DOUBLE,
    cadence         DOUBLE,
    fractional_cadence DOUBLE,
    steps_per_min   DOUBLE,
    stance_time_ms  DOUBLE,
    vertical_oscillation_mm DOUBLE,
    step_length_mm  DOUBLE,
    vertical_ratio  DOUBLE,
    stance_time_balance DOUBLE,
    altitude_m      DOUBLE,
    power_w         DOUBLE,
    lat_deg         DOUBLE,
    lon_deg         DOUBLE
);
COMMENT ON TABLE records IS 'Per-second samples. steps_per_min is 2 x (cadence + fractional_cadence) for on-foot sports (FIT counts strides), NULL otherwise.';
COMMENT ON COLUMN records.cadence IS 'As recorded: strides/min on foot, rpm on a bike.';
COMMENT ON COLUMN records.stance_time_ms IS 'Ground contact time per step (running dynamics).';

CREATE TABLE strength_sets (
    activity_id     VARCHAR NOT NULL,
    set_index       INTEGER NOT NULL,
    start_utc       TIMESTAMP,
    category        VARCHAR,
    category_subtype INTEGER,
    repetitions     DOUBLE,
    weight_kg       DOUBLE,
    duration_s      DOUBLE,
    set_type        VARCHAR,
    PRIMARY KEY (activity_id, set_index)
);
COMMENT ON TABLE strength_sets IS 'FIT set messages (strength training): category is the FIT exercise_category (calf_raise, plyo, squat, lunge, ...); set_type active or rest.';
