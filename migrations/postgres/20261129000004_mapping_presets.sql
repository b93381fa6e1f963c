-- Column mapping presets: how to read a file in another layout (a DingTalk
-- or WeCom export, a company's own log), saved by name for reuse in the
-- browser and with `undercurrent import events|people --mapping NAME`.
-- `body` is the mapping as JSON; `target` repeats its kind for listing.

CREATE TABLE mapping_presets (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL CHECK (target IN ('events', 'people')),
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
