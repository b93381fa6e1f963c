-- Results computed once and stored: every person's result and the weekly
-- series for one as-of date, window and number of weeks, under one version
-- of the data and settings (a SHA-256 of them, so no setting is copied
-- here). A row is written in one statement once its computation is
-- complete, so a row is never half-computed. The default view (latest data
-- day, the profile's window, 12 weeks) is marked: while the next one is
-- computed, pages serve the latest marked row.
CREATE TABLE result_snapshots (
    id BIGSERIAL PRIMARY KEY,
    version TEXT NOT NULL,
    as_of TEXT NOT NULL,
    window_days BIGINT NOT NULL,
    weeks BIGINT NOT NULL,
    is_default BIGINT NOT NULL DEFAULT 0,
    computed_at BIGINT NOT NULL,
    -- What the data version recorded when it changed (unix seconds).
    data_changed_at BIGINT,
    -- gzip-compressed JSON (app::results::Payload).
    payload BYTEA NOT NULL,
    UNIQUE (version, as_of, window_days, weeks)
);
CREATE INDEX result_snapshots_default ON result_snapshots (computed_at) WHERE is_default = 1;
