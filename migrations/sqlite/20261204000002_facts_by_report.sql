-- Facts keyed by person, source, report, period and refresh date, so that
-- no report overwrites another: a Teams D7 and a D30 report refreshed the
-- same day, or two report kinds of one source, are kept side by side.
-- `report` names the report kind within its source; `refreshed` is the
-- date the vendor produced the figures (Teams' Report Refresh Date, the day
-- of a daily row, the end of a Slack dashboard period). Every report read
-- so far ends its period on its refresh date, so existing rows get their
-- source's report and their period end.
--
-- SQLite cannot change a primary key in place: the table is rebuilt.

CREATE TABLE person_facts_by_report (
    person_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    report TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    refreshed TEXT NOT NULL,
    -- NULL where the source does not report the figure.
    active_days INTEGER,
    messages INTEGER,
    reactions INTEGER,
    calls INTEGER,
    meetings INTEGER,
    files INTEGER,
    docs INTEGER,
    reads INTEGER,
    passive INTEGER NOT NULL DEFAULT 0,
    anonymised INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    last_active TEXT,
    import_id INTEGER NOT NULL,
    PRIMARY KEY (person_id, source, report, period_start, period_end, refreshed)
);

INSERT INTO person_facts_by_report (person_id, source, report, period_start, period_end, refreshed, active_days,
    messages, reactions, calls, meetings, files, docs, reads, passive, anonymised, deleted, last_active, import_id)
SELECT person_id, source,
    CASE source
        WHEN 'teams' THEN 'teams_user_activity'
        WHEN 'slack_dashboard' THEN 'slack_member_analytics'
        WHEN 'slack_api' THEN 'slack_member_analytics'
        WHEN 'feishu' THEN 'feishu_admin_user_stats'
        WHEN 'google_chat' THEN 'google_user_usage'
        ELSE source
    END,
    period_start, period_end, period_end, active_days, messages, reactions, calls, meetings, files, docs, reads,
    passive, anonymised, deleted, last_active, import_id
FROM person_facts;

DROP TABLE person_facts;
ALTER TABLE person_facts_by_report RENAME TO person_facts;
CREATE INDEX person_facts_end ON person_facts (period_end);
