-- The activity store: people, events and what each import did.
-- Times are Unix seconds; calendar dates are YYYY-MM-DD text.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE people (
    id BIGSERIAL PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE,
    name TEXT,
    email TEXT,
    department TEXT,
    title TEXT,
    location TEXT,
    start_date TEXT,
    -- Directory columns beyond the known ones, as a JSON object of strings.
    attributes TEXT NOT NULL DEFAULT '{}',
    in_directory BIGINT NOT NULL DEFAULT 0,
    -- The earliest imported event, kept so onboarding needs no scan.
    first_event_ts BIGINT,
    created_at BIGINT NOT NULL
);

CREATE INDEX people_department ON people (department);

-- Ids below 1000 are the kinds the activity model names (src/domain/kind.rs).
CREATE TABLE event_kinds (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

INSERT INTO event_kinds (id, name) VALUES
    (1, 'message_sent'),
    (2, 'reaction'),
    (3, 'voice_call'),
    (4, 'video_call'),
    (5, 'meeting'),
    (6, 'screen_share'),
    (7, 'file_shared'),
    (8, 'doc_edit'),
    (9, 'login'),
    (10, 'logout'),
    (11, 'message_read'),
    (12, 'notification_read'),
    (13, 'check_in'),
    (14, 'conversation_started'),
    (15, 'conversation_closed'),
    (16, 'conversation_resolved'),
    (17, 'post_created'),
    (18, 'class_scheduled'),
    (19, 'class_attended'),
    (20, 'assignment_assigned'),
    (21, 'assignment_submitted');

CREATE TABLE channels (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE imports (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    file_name TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    rows_read BIGINT NOT NULL DEFAULT 0,
    events_added BIGINT NOT NULL DEFAULT 0,
    duplicates_skipped BIGINT NOT NULL DEFAULT 0,
    people_created BIGINT NOT NULL DEFAULT 0,
    people_updated BIGINT NOT NULL DEFAULT 0,
    first_ts BIGINT,
    last_ts BIGINT,
    -- Kinds outside the model, with counts, as a JSON object.
    unknown_kinds TEXT NOT NULL DEFAULT '{}'
);

-- One row per distinct event. channel_id 0 means no channel; channel_type
-- 0 unknown, 1 direct, 2 group, 3 broadcast. No message content, ever.
-- No surrogate key either: nothing refers to a single event, and a key
-- index would cost every import.
CREATE TABLE events (
    -- No foreign key: imports resolve people first, and a per-row check
    -- would halve import speed.
    person_id BIGINT NOT NULL,
    ts BIGINT NOT NULL,
    kind_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL DEFAULT 0,
    channel_type BIGINT NOT NULL DEFAULT 0,
    duration_seconds BIGINT,
    event_id TEXT,
    import_id BIGINT NOT NULL
);

CREATE UNIQUE INDEX events_event_id ON events (event_id) WHERE event_id IS NOT NULL;
-- Window reads (covering, so a window is one range scan) and de-duplication
-- by (time, person, kind, channel).
CREATE INDEX events_window ON events (ts, person_id, kind_id, channel_id, channel_type);
