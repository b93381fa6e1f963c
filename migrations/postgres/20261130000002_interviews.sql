-- Interviews (issue 6): what happened in a booking. A study's codebook (a
-- copy of the default, editable), the interview record with consent, notes,
-- root cause and follow-up, its codes, and verbatim quotes (each a record,
-- optionally cleared to be shown to managers anonymised).

CREATE TABLE study_codes (
    id BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES studies (id),
    key TEXT NOT NULL,
    label_en TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    description_en TEXT NOT NULL DEFAULT '',
    description_zh TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL,
    archived BIGINT NOT NULL DEFAULT 0,
    UNIQUE (study_id, key)
);

CREATE TABLE interviews (
    id BIGSERIAL PRIMARY KEY,
    booking_id BIGINT NOT NULL UNIQUE REFERENCES bookings (id),
    consent TEXT CHECK (consent IN ('yes', 'no', 'withdrawn')),
    consent_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    follow_up TEXT NOT NULL DEFAULT '',
    -- Raised by every save: a save based on an older version is a conflict.
    version BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT REFERENCES accounts (id)
);

CREATE TABLE interview_codes (
    interview_id BIGINT NOT NULL REFERENCES interviews (id),
    code_id BIGINT NOT NULL REFERENCES study_codes (id),
    PRIMARY KEY (interview_id, code_id)
);

CREATE TABLE quotes (
    id BIGSERIAL PRIMARY KEY,
    interview_id BIGINT NOT NULL REFERENCES interviews (id),
    text TEXT NOT NULL,
    -- May be shown to managers, anonymised.
    shareable BIGINT NOT NULL DEFAULT 0,
    code_id BIGINT REFERENCES study_codes (id),
    created_at BIGINT NOT NULL,
    created_by BIGINT REFERENCES accounts (id)
);

CREATE INDEX quotes_interview ON quotes (interview_id);
