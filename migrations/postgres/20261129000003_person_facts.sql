-- Per-person facts from aggregated sources (Teams, Slack, Feishu, Google
-- Chat admin exports): totals for a period, or for one day. Importing the
-- same file again rewrites the same rows with the same values.

CREATE TABLE person_facts (
    person_id BIGINT NOT NULL,
    source TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- NULL where the source does not report the figure.
    active_days BIGINT,
    messages BIGINT,
    reactions BIGINT,
    calls BIGINT,
    meetings BIGINT,
    files BIGINT,
    docs BIGINT,
    reads BIGINT,
    passive BIGINT NOT NULL DEFAULT 0,
    anonymised BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    last_active TEXT,
    import_id BIGINT NOT NULL,
    PRIMARY KEY (person_id, source, period_start, period_end)
);

CREATE INDEX person_facts_end ON person_facts (period_end);
