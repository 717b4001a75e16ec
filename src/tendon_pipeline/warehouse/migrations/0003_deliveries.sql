-- Schema version 3: the notification outbox. Alerts (and plans) are already stored before
-- anything is sent; these tables track each delivery per recipient and channel.

CREATE SEQUENCE deliveries_seq;

CREATE TABLE deliveries (
    delivery_id      VARCHAR PRIMARY KEY,
    seq              BIGINT NOT NULL DEFAULT nextval('deliveries_seq'),
    message_key      VARCHAR NOT NULL,
    item_kind        VARCHAR NOT NULL CHECK (item_kind IN ('alert', 'plan')),
    item_key         VARCHAR NOT NULL,
    athlete_id       VARCHAR NOT NULL,
    period           VARCHAR NOT NULL,
    severity         VARCHAR CHECK (severity IN ('info', 'caution', 'warning', 'high')),
    recipient        VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    digest           VARCHAR NOT NULL DEFAULT 'none' CHECK (digest IN ('none', 'daily', 'weekly')),
    status           VARCHAR NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed_permanent', 'superseded', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       VARCHAR,
    next_attempt_at  TIMESTAMP NOT NULL,
    first_attempt_at TIMESTAMP,
    claimed_by       VARCHAR,
    claimed_until    TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    delivered_at     TIMESTAMP,
    UNIQUE (item_key, recipient, channel)
);
COMMENT ON TABLE deliveries IS 'One row per alert or plan, recipient and channel: the notification outbox. A row is created before anything is sent and is delivered at most once (see docs/notifications.md).';
COMMENT ON COLUMN deliveries.delivery_id IS 'Idempotency key of (item_key, recipient, channel): tdn- and 32 hex digits of its SHA-256.';
COMMENT ON COLUMN deliveries.seq IS 'Creation order (a newer plan version has a higher seq).';
COMMENT ON COLUMN deliveries.message_key IS 'Idempotency key of the message that carries this row, sent to the receiver: delivery_id, or the digest''s key when the row goes out in a digest.';
COMMENT ON COLUMN deliveries.item_kind IS 'alert | plan';
COMMENT ON COLUMN deliveries.item_key IS 'alerts.alert_key, or plan:athlete:week_start:content-hash (a changed plan is a new item).';
COMMENT ON COLUMN deliveries.period IS 'The alert''s period, or the plan''s week_start.';
COMMENT ON COLUMN deliveries.athlete_id IS 'Whose alert or plan it is.';
COMMENT ON COLUMN deliveries.severity IS 'The alert''s severity (NULL for plans).';
COMMENT ON COLUMN deliveries.recipient IS 'coach:<name>, runner:<athlete> or local (console and outbox file).';
COMMENT ON COLUMN deliveries.channel IS 'Secret-free channel identity: console, outbox, env:VAR, prefect-secret:block, or scheme://host#hash.';
COMMENT ON COLUMN deliveries.digest IS 'none (one message per item) | daily | weekly: the recipient''s digest setting when the row was routed.';
COMMENT ON COLUMN deliveries.status IS 'pending | delivered | failed_permanent (rejected, or given up after the retry window) | superseded (a newer plan replaced it before sending) | cancelled (recipient or channel no longer configured).';
COMMENT ON COLUMN deliveries.attempts IS 'Send attempts so far (quiet-hours deferrals are not attempts).';
COMMENT ON COLUMN deliveries.last_error IS 'Why the last attempt failed, without secrets (channel shown as scheme://host).';
COMMENT ON COLUMN deliveries.next_attempt_at IS 'UTC; not sent before this: digest time, end of quiet hours, or retry backoff.';
COMMENT ON COLUMN deliveries.first_attempt_at IS 'UTC; the retry window (notify.retry_for_hours) counts from here.';
COMMENT ON COLUMN deliveries.claimed_by IS 'Id of the sending run that holds the row, if any.';
COMMENT ON COLUMN deliveries.claimed_until IS 'UTC; a sending run holds the row until then so two runs never send it twice.';

CREATE TABLE delivery_attempts (
    message_key     VARCHAR NOT NULL,
    attempt         INTEGER NOT NULL,
    recipient       VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,
    items           INTEGER NOT NULL,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP NOT NULL,
    outcome         VARCHAR NOT NULL CHECK (outcome IN ('delivered', 'transient', 'permanent', 'gave_up')),
    status_code     INTEGER,
    error           VARCHAR,
    PRIMARY KEY (message_key, attempt)
);
COMMENT ON TABLE delivery_attempts IS 'Every attempt to send a message to one recipient on one channel, with its outcome.';
COMMENT ON COLUMN delivery_attempts.message_key IS 'The idempotency key sent (deliveries.message_key).';
COMMENT ON COLUMN delivery_attempts.attempt IS '1 for the first attempt of the message, then 2, 3, ...';
COMMENT ON COLUMN delivery_attempts.channel IS 'Secret-free channel identity, as in deliveries.channel.';
COMMENT ON COLUMN delivery_attempts.items IS 'Alerts and plans in the message (more than one for a digest).';
COMMENT ON COLUMN delivery_attempts.outcome IS 'delivered | transient (will retry) | permanent (rejected, not retried) | gave_up (transient failures for longer than the retry window).';
COMMENT ON COLUMN delivery_attempts.status_code IS 'HTTP or SMTP status when the channel reported one.';
COMMENT ON COLUMN delivery_attempts.error IS 'Secret-free reason for a failure.';
