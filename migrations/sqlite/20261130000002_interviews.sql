-- Interviews (issue 6): what happened in a booking. A study's codebook (a
-- copy of the default, editable), the interview record with consent, notes,
-- root cause and follow-up, its codes, and verbatim quotes (each a record,
-- optionally cleared to be shown to managers anonymised).

CREATE TABLE study_codes (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    key TEXT NOT NULL,
    label_en TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    description_en TEXT NOT NULL DEFAULT '',
    description_zh TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    UNIQUE (study_id, key)
);

CREATE TABLE interviews (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL UNIQUE REFERENCES bookings (id),
    consent TEXT CHECK (consent IN ('yes', 'no', 'withdrawn')),
    consent_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    follow_up TEXT NOT NULL DEFAULT '',
    -- Raised by every save: a save based on an older version is a conflict.
    version INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES accounts (id)
);

CREATE TABLE interview_codes (
    interview_id INTEGER NOT NULL REFERENCES interviews (id),
    code_id INTEGER NOT NULL REFERENCES study_codes (id),
    PRIMARY KEY (interview_id, code_id)
);

CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES interviews (id),
    text TEXT NOT NULL,
    -- May be shown to managers, anonymised.
    shareable INTEGER NOT NULL DEFAULT 0,
    code_id INTEGER REFERENCES study_codes (id),
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES accounts (id)
);

CREATE INDEX quotes_interview ON quotes (interview_id);
