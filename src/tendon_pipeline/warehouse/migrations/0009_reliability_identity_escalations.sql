-- Schema version 9 (issue 14, part b): alerts that change are updated with their history kept,
-- and escalations are routed again.

-- (no UPDATE here: DuckDB cannot alter and update a table with rows in one transaction; readers
-- take a NULL revision as 1 and a NULL escalation as 0)
ALTER TABLE alerts ADD COLUMN revision INTEGER DEFAULT 1;
ALTER TABLE alerts ADD COLUMN escalation INTEGER DEFAULT 0;
ALTER TABLE alerts ADD COLUMN updated_at TIMESTAMP;
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

-- An activity's identity is per athlete: activity_key = the athlete + FIT's file_id (device_key).
-- Rows stored before schema 9 have device_key NULL: their activity_key is the device key (read as
-- coalesce(device_key, activity_key)).
ALTER TABLE activities ADD COLUMN device_key VARCHAR;
COMMENT ON COLUMN activities.activity_key IS 'Identity of the activity for its athlete: a hash of athlete_id and device_key (rows stored before schema 9 keep their device key here). activity_id is its first 16 characters.';
COMMENT ON COLUMN activities.device_key IS 'FIT file_id identity (manufacturer, product, serial, time created) without the athlete (NULL before schema 9: activity_key is it): the same recording stored for two athletes is an athlete_conflict (source_files.reason_code).';
COMMENT ON COLUMN source_files.reason_code IS 'not_fit | empty | bad_header | crc_mismatch | undefined_message | truncated | corrupt | unreadable | not_activity | duplicate_activity | superseded | replaced (a re-export with different content replaced the stored activity) | athlete_conflict (the same recording or bytes also offered for another athlete: both named in reason) | implausible (see reason)';

-- An alert whose data went away (its activity reassigned to another athlete or deleted) is withdrawn, not deleted.
ALTER TABLE alerts ADD COLUMN withdrawn_at TIMESTAMP;
ALTER TABLE alerts ADD COLUMN withdrawn_reason VARCHAR;
COMMENT ON COLUMN alerts.withdrawn_at IS 'UTC; set when the data behind the alert was reassigned or deleted (tendon activity) and the rules no longer raise it: not shown, not routed. NULL: current.';
COMMENT ON COLUMN alerts.withdrawn_reason IS 'Why it was withdrawn.';

-- Every path offered has a row somewhere: source_files holds one per content (file_hash), this
-- table the paths whose bytes were already seen (byte-identical uploads, a re-sent file).
CREATE TABLE file_offers (
    path            VARCHAR NOT NULL,
    file_hash       VARCHAR NOT NULL,
    athlete_id      VARCHAR,
    status          VARCHAR NOT NULL,
    reason_code     VARCHAR,
    reason          VARCHAR,
    ingest_id       VARCHAR,
    offered_at      TIMESTAMP NOT NULL
);
COMMENT ON TABLE file_offers IS 'Files offered whose bytes were already seen (by source_files.file_hash), one row per path the first time it is offered: an upload''s ingest id (its file name) always has a row in tendon files.';
COMMENT ON COLUMN file_offers.status IS 'duplicate (the same bytes are stored) | skipped (athlete_conflict: the same bytes are stored for another athlete)';
