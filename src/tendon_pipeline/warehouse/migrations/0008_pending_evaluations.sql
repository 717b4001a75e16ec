-- Schema version 8 (issue 14): "this athlete needs evaluating", written in the same
-- transaction as the data that makes it so (a stored activity, a logged entry) and deleted
-- only by the evaluation that consumed it, in that evaluation's transaction. A crash between
-- storing and evaluating leaves the row, and the next run of any entry point evaluates it.

CREATE TABLE pending_evaluations (
    athlete_id VARCHAR NOT NULL,
    reason     VARCHAR NOT NULL,
    since      TIMESTAMP NOT NULL,
    ingest_id  VARCHAR
);
COMMENT ON TABLE pending_evaluations IS 'Athletes whose data changed and who have not been evaluated since: written with the data, deleted by the evaluation that read it (docs/reliability.md).';
COMMENT ON COLUMN pending_evaluations.athlete_id IS 'The athlete to evaluate.';
COMMENT ON COLUMN pending_evaluations.reason IS 'What changed: new_activity, replaced_activity, strength_log, pain_log, visa_a_log.';
COMMENT ON COLUMN pending_evaluations.since IS 'When the change was stored (UTC); the notification horizon of the alerts it raises is counted from here, not from the evaluation.';
COMMENT ON COLUMN pending_evaluations.ingest_id IS 'The ingest run that stored the data (NULL for a logged entry).';
