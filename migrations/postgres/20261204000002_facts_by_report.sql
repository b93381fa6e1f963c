-- Facts keyed by person, source, report, period and refresh date, so that
-- no report overwrites another: a Teams D7 and a D30 report refreshed the
-- same day, or two report kinds of one source, are kept side by side.
-- `report` names the report kind within its source; `refreshed` is the
-- date the vendor produced the figures (Teams' Report Refresh Date, the day
-- of a daily row, the end of a Slack dashboard period). Every report read
-- so far ends its period on its refresh date, so existing rows get their
-- source's report and their period end.

ALTER TABLE person_facts ADD COLUMN report TEXT;
ALTER TABLE person_facts ADD COLUMN refreshed TEXT;

UPDATE person_facts SET
    report = CASE source
        WHEN 'teams' THEN 'teams_user_activity'
        WHEN 'slack_dashboard' THEN 'slack_member_analytics'
        WHEN 'slack_api' THEN 'slack_member_analytics'
        WHEN 'feishu' THEN 'feishu_admin_user_stats'
        WHEN 'google_chat' THEN 'google_user_usage'
        ELSE source
    END,
    refreshed = period_end;

ALTER TABLE person_facts ALTER COLUMN report SET NOT NULL;
ALTER TABLE person_facts ALTER COLUMN refreshed SET NOT NULL;
ALTER TABLE person_facts DROP CONSTRAINT person_facts_pkey;
ALTER TABLE person_facts ADD PRIMARY KEY (person_id, source, report, period_start, period_end, refreshed);
