-- Schema version 12 (quality): a recent "feeling unwell" check-in now shapes the next plan
-- (status unwell: no progression, running below the usual level). Comments only.

COMMENT ON TABLE unwell_log IS 'Days the runner checked in as feeling unwell (tendon serve, runner check-in). Shown to the runner and the coach; a day in the last rules.plan_unwell_lookback_days makes the next plan unwell (no progression, running below the usual level); no rule raises an alert for it.';
COMMENT ON COLUMN weekly_plans.status IS 'progress | hold | cut | pain | restart | return (back from a break) | taper (race ahead) | recovery (after a long race) | unwell (a recent feeling-unwell check-in): what the plan does and why (see reasons).';
