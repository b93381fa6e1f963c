-- Results computed once and stored: every person's result and the weekly
-- series for one as-of date, window and number of weeks, under one version
-- of the data and settings (a SHA-256 of them, so no setting is copied
-- here). A row is written in one statement once its computation is
-- complete, so a row is never half-computed. The default view (latest data
-- day, the profile's window, 12 weeks) is marked: while the next one is
-- computed, pages serve the latest marked row.
CREATE TABLE result_snapshots (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL,
    as_of TEXT NOT NULL,
    window_days INTEGER NOT NULL,
    weeks INTEGER NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    computed_at INTEGER NOT NULL,
    -- What the data version recorded when it changed (unix seconds).
    data_changed_at INTEGER,
    -- gzip-compressed JSON (app::results::Payload).
    payload BLOB NOT NULL,
    UNIQUE (version, as_of, window_days, weeks)
);
CREATE INDEX result_snapshots_default ON result_snapshots (computed_at) WHERE is_default = 1;
