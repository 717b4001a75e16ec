-- Schema version 9 (issue 14, part b): alerts that change are updated with their history kept,
-- and escalations are routed again.

ALTER TABLE alerts ADD COLUMN revision INTEGER;
ALTER TABLE alerts ADD COLUMN escalation INTEGER;
ALTER TABLE alerts ADD COLUMN updated_at TIMESTAMP;
UPDATE alerts SET revision = 1, escalation = 0;
COMMENT ON COLUMN alerts.revision IS '1 when raised; +1 each time a re-evaluation changed its severity, message or numbers (the older version goes to alert_revisions). NULL is read as 1.';
COMMENT ON COLUMN alerts.escalation IS 'How many times its severity rose above every earlier version: each escalation is routed again as an update (deliveries.item_key alert_key~eN). NULL is read as 0.';
COMMENT ON COLUMN alerts.updated_at IS 'UTC; when a re-evaluation last changed it (NULL: never).';

CREATE TABLE alert_revisions (
    alert_key       VARCHAR NOT NULL,
    revision        INTEGER NOT NULL,
    severity        VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    evidence        JSON NOT NULL,
    evaluation_id   VARCHAR,
    superseded_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (alert_key, revision)
);
COMMENT ON TABLE alert_revisions IS 'Earlier versions of alerts that a re-evaluation changed (a late-synced run, a replaced or reassigned activity): the alerts row holds the current version.';
COMMENT ON COLUMN alert_revisions.revision IS 'The version number this row was (alerts.revision is now higher).';
COMMENT ON COLUMN alert_revisions.superseded_at IS 'UTC; when the next version replaced it.';
