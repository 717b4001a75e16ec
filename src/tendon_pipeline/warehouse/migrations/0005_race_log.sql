-- Schema version 5 (issue 15): races and planned hard efforts, entered by the runner or coach
-- (tendon log race), so the plan tapers and recovers around them and the race is not an alarm.

CREATE TABLE race_log (
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    distance_km     DOUBLE NOT NULL CHECK (distance_km > 0 AND distance_km <= 400),
    priority        VARCHAR NOT NULL CHECK (priority IN ('A', 'B', 'C')),
    name            VARCHAR,
    logged_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (athlete_id, local_date)
);
COMMENT ON TABLE race_log IS 'Races and planned hard efforts (tendon log race). One per athlete and day; a new entry for the day replaces the old. Races in [[athletes]] configuration are read as well.';
COMMENT ON COLUMN race_log.priority IS 'A: the goal race (tapered for, recovery week after a long one) | B: tapered lightly | C: a training race.';
COMMENT ON COLUMN race_log.distance_km IS 'Planned race distance in km; a run that day is the race (session_spike says info, not warning).';
COMMENT ON COLUMN weekly_plans.status IS 'progress | hold | cut | pain | restart | return (back from a break) | taper (race ahead) | recovery (after a long race): what the plan does and why (see reasons).';
COMMENT ON COLUMN weekly_load.tendon_load_bw IS 'Sum of run_loads.tendon_load_bw over the week''s running legs (body-weight units; the rules'' weekly tendon load). A model estimate: how each run''s figure was obtained is run_summary.load_method (measured_dynamics | cadence_only | estimated).';
COMMENT ON COLUMN weekly_load.km_change_pct IS 'Change of running_km on the week before, %; NULL when the week before had no running. Not the rule''s comparison: weekly_volume_increase compares with the usual level (the larger of last week and the mean of the 4 earlier weeks with running; the pre-break level after a break) and needs a 10 km level and a 5 km rise.';
