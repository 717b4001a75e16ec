-- Schema version 10 (issue 18, the web pages): coaches' feedback on alerts, the precision
-- of each rule and severity computed from it, and the runner's "feeling unwell" check-in.

CREATE TABLE alert_feedback (
    feedback_id     VARCHAR PRIMARY KEY,
    alert_key       VARCHAR NOT NULL,
    athlete_id      VARCHAR NOT NULL,
    rule            VARCHAR NOT NULL,
    severity        VARCHAR NOT NULL,
    outcome         VARCHAR NOT NULL CHECK (outcome IN ('acted_on', 'not_needed', 'false_alarm')),
    note            VARCHAR,
    given_by        VARCHAR NOT NULL,
    given_at        TIMESTAMP NOT NULL DEFAULT current_timestamp
);
COMMENT ON TABLE alert_feedback IS 'What a coach says became of an alert (tendon serve, the athlete page): acted on, not needed or a false alarm, with an optional note, who and when. Every answer is kept; the latest answer of each coach on an alert counts (alert_precision).';
COMMENT ON COLUMN alert_feedback.feedback_id IS 'Random id of this answer.';
COMMENT ON COLUMN alert_feedback.alert_key IS 'alerts.alert_key (athlete:rule:period).';
COMMENT ON COLUMN alert_feedback.athlete_id IS 'athletes.athlete_id';
COMMENT ON COLUMN alert_feedback.rule IS 'The alert''s rule id when the answer was given.';
COMMENT ON COLUMN alert_feedback.severity IS 'The alert''s severity when the answer was given (info | caution | warning | high).';
COMMENT ON COLUMN alert_feedback.outcome IS 'acted_on: the coach changed something because of it; not_needed: true but nothing to do; false_alarm: the alert was wrong.';
COMMENT ON COLUMN alert_feedback.note IS 'The coach''s optional note (at most 500 characters).';
COMMENT ON COLUMN alert_feedback.given_by IS 'The signed-in user who answered ([[web.users]] name).';
COMMENT ON COLUMN alert_feedback.given_at IS 'When, UTC.';

CREATE TABLE unwell_log (
    athlete_id      VARCHAR NOT NULL,
    local_date      DATE NOT NULL,
    logged_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (athlete_id, local_date)
);
COMMENT ON TABLE unwell_log IS 'Days the runner checked in as feeling unwell (tendon serve, runner check-in). Shown to the runner and the coach; the rules and plans do not read it (no threshold rests on it).';

CREATE VIEW alert_precision AS
WITH latest AS (
    SELECT *, row_number() OVER (PARTITION BY alert_key, given_by ORDER BY given_at DESC, feedback_id DESC) AS nth
    FROM alert_feedback
)
SELECT rule, severity,
       CASE severity WHEN 'info' THEN 0 WHEN 'caution' THEN 1 WHEN 'warning' THEN 2 WHEN 'high' THEN 3 END
           AS severity_rank,
       count(*) AS answers,
       count(DISTINCT alert_key) AS alerts_answered,
       count(*) FILTER (WHERE outcome = 'acted_on') AS acted_on,
       count(*) FILTER (WHERE outcome = 'not_needed') AS not_needed,
       count(*) FILTER (WHERE outcome = 'false_alarm') AS false_alarm,
       count(*) FILTER (WHERE outcome = 'acted_on') / count(*) AS precision,
       count(*) FILTER (WHERE outcome = 'false_alarm') / count(*) AS false_alarm_share
FROM latest WHERE nth = 1
GROUP BY rule, severity;

COMMENT ON VIEW alert_precision IS 'Per rule and severity, from coaches'' feedback (the latest answer of each coach on each alert): how many were acted on, not needed or false alarms, and the precision = acted_on / answers. Alerts nobody answered are not counted: this is the precision of answered alerts, not of the engine on every alert.';
COMMENT ON COLUMN alert_precision.rule IS 'Rule id.';
COMMENT ON COLUMN alert_precision.severity IS 'info | caution | warning | high';
COMMENT ON COLUMN alert_precision.severity_rank IS '0 info, 1 caution, 2 warning, 3 high.';
COMMENT ON COLUMN alert_precision.answers IS 'Answers counted (one per coach and alert: the latest).';
COMMENT ON COLUMN alert_precision.alerts_answered IS 'Distinct alerts with at least one answer.';
COMMENT ON COLUMN alert_precision.acted_on IS 'Answers saying the coach acted on the alert.';
COMMENT ON COLUMN alert_precision.not_needed IS 'Answers saying the alert was true but needed no action.';
COMMENT ON COLUMN alert_precision.false_alarm IS 'Answers saying the alert was wrong.';
COMMENT ON COLUMN alert_precision.precision IS 'acted_on / answers, 0-1: the share of answered alerts that led to an action.';
COMMENT ON COLUMN alert_precision.false_alarm_share IS 'false_alarm / answers, 0-1.';
