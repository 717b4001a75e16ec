-- What the watch cannot record (issue 16): which calf exercise a set was, how many legs carried
-- it, reps in reserve, tested maxima, and corrections of watch-recorded sets.

ALTER TABLE strength_log ADD COLUMN variant VARCHAR;
ALTER TABLE strength_log ADD COLUMN reps_in_reserve INTEGER;
COMMENT ON COLUMN strength_log.variant IS 'single_leg | two_leg | seated | seated_single_leg (NULL: the exercise''s default: single leg for holds and heel drops, two legs for calf raises).';
COMMENT ON COLUMN strength_log.reps_in_reserve IS 'Reps the runner could still have done at the end of the set (RIR); NULL when not given.';

CREATE TABLE strength_max_log (
    entry_id        VARCHAR PRIMARY KEY,
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    exercise        VARCHAR NOT NULL,
    variant         VARCHAR NOT NULL,
    load_kg         DOUBLE NOT NULL,
    reps            INTEGER NOT NULL,
    logged_at       TIMESTAMP NOT NULL
);
COMMENT ON TABLE strength_max_log IS 'Tested maxima (tendon log max): the heaviest added load lifted for reps (1 = a true 1RM). The tendon_loading_intensity rule prefers these to estimates.';
COMMENT ON COLUMN strength_max_log.variant IS 'single_leg | two_leg | seated | seated_single_leg: body mass is added unless seated, then divided by the legs.';
COMMENT ON COLUMN strength_max_log.load_kg IS 'Added load, kg (body mass is implied unless seated).';

CREATE TABLE strength_set_corrections (
    activity_id     VARCHAR NOT NULL,
    set_index       INTEGER NOT NULL,
    athlete_id      VARCHAR NOT NULL,
    exercise        VARCHAR,
    variant         VARCHAR,
    reps_in_reserve INTEGER,
    corrected_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (activity_id, set_index)
);
COMMENT ON TABLE strength_set_corrections IS 'Corrections of watch-recorded sets (tendon strength correct): what a FIT set message was when the watch could not say (an eccentric heel drop, a single-leg raise, a seated raise) and reps in reserve. Applied when the history is read; a re-ingested file keeps them (same activity id and set index).';
COMMENT ON COLUMN strength_set_corrections.exercise IS 'Exercise name replacing the FIT category (e.g. eccentric_heel_drop); NULL keeps it.';
COMMENT ON COLUMN strength_set_corrections.variant IS 'single_leg | two_leg | seated | seated_single_leg, replacing the FIT category_subtype; NULL keeps it.';
