-- Outreach and scheduling (issue 5): studies, their rounds (draws), the
-- invitations of a round, opt-outs, interviewers' availability, bookings
-- and the durable outbox of e-mail. Times are Unix seconds (UTC).

CREATE TABLE studies (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    goal TEXT NOT NULL DEFAULT '',
    -- A scenario profile id (internal_collaboration, customer_service, ...).
    scenario TEXT NOT NULL,
    interview_minutes INTEGER NOT NULL,
    -- The language of the messages participants receive: en or zh-CN.
    language TEXT NOT NULL,
    invitation_subject TEXT NOT NULL,
    invitation_body TEXT NOT NULL,
    consent TEXT NOT NULL,
    -- The interview guide, one question per line.
    guide TEXT NOT NULL,
    -- Target and contact rules as JSON (see app::studies).
    target TEXT NOT NULL,
    rules TEXT NOT NULL,
    round_size INTEGER NOT NULL,
    allocation TEXT NOT NULL CHECK (allocation IN ('proportional', 'equal')),
    -- NULL: rounds are drawn by hand; otherwise a fresh round every N days.
    recurrence_days INTEGER,
    next_round_at INTEGER,
    -- Recurring rounds are sent without review when set.
    auto_send INTEGER NOT NULL DEFAULT 0,
    max_reschedules INTEGER NOT NULL DEFAULT 2,
    change_notice_hours INTEGER NOT NULL DEFAULT 12,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by INTEGER REFERENCES accounts (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER
);

CREATE TABLE study_interviewers (
    study_id INTEGER NOT NULL REFERENCES studies (id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (study_id, account_id)
);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    study_id INTEGER NOT NULL REFERENCES studies (id),
    number INTEGER NOT NULL,
    -- The draw's seed (an unsigned 64-bit number as decimal text).
    seed TEXT NOT NULL,
    size INTEGER NOT NULL,
    allocation TEXT NOT NULL,
    as_of TEXT NOT NULL,
    drawn_at INTEGER NOT NULL,
    drawn_by INTEGER REFERENCES accounts (id),
    -- JSON: the strata with quotas, and who the contact rules kept out.
    strata TEXT NOT NULL,
    excluded TEXT NOT NULL,
    shortfall INTEGER NOT NULL,
    sent_at INTEGER,
    UNIQUE (study_id, number)
);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    study_id INTEGER NOT NULL REFERENCES studies (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    -- Frozen at draw time.
    tier TEXT NOT NULL,
    department TEXT,
    facts TEXT NOT NULL,
    reason TEXT NOT NULL,
    added_by_hand INTEGER NOT NULL DEFAULT 0,
    -- drawn, dropped, excluded, invited, booked, cancelled, declined,
    -- opted_out, completed, no_show_participant, no_show_host
    status TEXT NOT NULL,
    exclusion TEXT,
    -- SHA-256 of the participant link's token; the token itself is only in
    -- the messages that carry the link.
    token_hash TEXT UNIQUE,
    reschedules INTEGER NOT NULL DEFAULT 0,
    invited_at INTEGER,
    opened_at INTEGER,
    responded_at INTEGER,
    decline_reason TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (round_id, person_id)
);

CREATE INDEX invitations_person ON invitations (person_id);
CREATE INDEX invitations_study ON invitations (study_id, status);

CREATE TABLE opt_outs (
    person_id INTEGER PRIMARY KEY REFERENCES people (id),
    at INTEGER NOT NULL,
    reason TEXT,
    study_id INTEGER REFERENCES studies (id)
);

CREATE TABLE interviewer_profiles (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    timezone TEXT NOT NULL,
    buffer_minutes INTEGER NOT NULL DEFAULT 10,
    min_notice_minutes INTEGER NOT NULL DEFAULT 720,
    -- Bumped by every booking of this interviewer: the write takes the
    -- row's lock, so the overlap check that follows sees every booking.
    booking_lock INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE availability_weekly (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    -- 0 = Monday ... 6 = Sunday, in the interviewer's zone.
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL,
    end_minute INTEGER NOT NULL CHECK (end_minute > start_minute)
);

CREATE TABLE availability_one_off (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL CHECK (ends_at > starts_at)
);

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    invitation_id INTEGER NOT NULL REFERENCES invitations (id),
    interviewer_id INTEGER NOT NULL REFERENCES accounts (id),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show_participant', 'no_show_host')),
    -- The calendar UID, stable across reschedules; SEQUENCE counts changes.
    uid TEXT NOT NULL UNIQUE,
    sequence INTEGER NOT NULL DEFAULT 0,
    participant_timezone TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    cancelled_at INTEGER,
    cancelled_by TEXT,
    cancel_reason TEXT
);

-- Two people can never hold the same slot, nor one invitation two slots.
CREATE UNIQUE INDEX bookings_one_per_slot ON bookings (interviewer_id, starts_at) WHERE status = 'booked';
CREATE UNIQUE INDEX bookings_one_per_invitation ON bookings (invitation_id) WHERE status = 'booked';
CREATE INDEX bookings_interviewer ON bookings (interviewer_id, starts_at);

CREATE TABLE booking_changes (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings (id),
    at INTEGER NOT NULL,
    change TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    by_whom TEXT NOT NULL
);

-- E-mail waiting to go out, committed with the change that caused it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    study_id INTEGER REFERENCES studies (id),
    invitation_id INTEGER REFERENCES invitations (id),
    booking_id INTEGER REFERENCES bookings (id),
    -- For reminders: the booking's SEQUENCE when queued; a moved booking
    -- makes the reminder obsolete.
    booking_sequence INTEGER,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    ics TEXT,
    ics_method TEXT,
    message_id TEXT NOT NULL UNIQUE,
    -- pending, sending, sent, failed, dropped
    state TEXT NOT NULL,
    not_before INTEGER NOT NULL,
    -- Past this, the message is useless (a reminder after the interview).
    expires_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER,
    claimed_by TEXT,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_study ON outbox (study_id);
CREATE INDEX outbox_booking ON outbox (booking_id);

CREATE TABLE outbox_attempts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    at INTEGER NOT NULL,
    worker TEXT NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT
);

CREATE INDEX outbox_attempts_message ON outbox_attempts (outbox_id);
