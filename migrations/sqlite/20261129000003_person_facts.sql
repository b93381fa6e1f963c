-- Per-person facts from aggregated sources (Teams, Slack, Feishu, Google
-- Chat admin exports): totals for a period, or for one day. Importing the
-- same file again rewrites the same rows with the same values.

CREATE TABLE person_facts (
    person_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
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
    PRIMARY KEY (person_id, source, period_start, period_end)
);

CREATE INDEX person_facts_end ON person_facts (period_end);
