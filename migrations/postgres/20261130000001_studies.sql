-- Outreach and scheduling (issue 5): studies, their rounds (draws), the
-- invitations of a round, opt-outs, interviewers' availability, bookings
-- and the durable outbox of e-mail. Times are Unix seconds (UTC).

CREATE TABLE studies (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    goal TEXT NOT NULL DEFAULT '',
    -- A scenario profile id (internal_collaboration, customer_service, ...).
    scenario TEXT NOT NULL,
    interview_minutes BIGINT NOT NULL,
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
    round_size BIGINT NOT NULL,
    allocation TEXT NOT NULL CHECK (allocation IN ('proportional', 'equal')),
    -- NULL: rounds are drawn by hand; otherwise a fresh round every N days.
    recurrence_days BIGINT,
    next_round_at BIGINT,
    -- Recurring rounds are sent without review when set.
    auto_send BIGINT NOT NULL DEFAULT 0,
    max_reschedules BIGINT NOT NULL DEFAULT 2,
    change_notice_hours BIGINT NOT NULL DEFAULT 12,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_by BIGINT REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT
);

CREATE TABLE study_interviewers (
    study_id BIGINT NOT NULL REFERENCES studies (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (study_id, account_id)
);

CREATE TABLE rounds (
    id BIGSERIAL PRIMARY KEY,
    study_id BIGINT NOT NULL REFERENCES studies (id),
    number BIGINT NOT NULL,
    -- The draw's seed (an unsigned 64-bit number as decimal text).
    seed TEXT NOT NULL,
    size BIGINT NOT NULL,
    allocation TEXT NOT NULL,
    as_of TEXT NOT NULL,
    drawn_at BIGINT NOT NULL,
    drawn_by BIGINT REFERENCES accounts (id),
    -- JSON: the strata with quotas, and who the contact rules kept out.
    strata TEXT NOT NULL,
    excluded TEXT NOT NULL,
    shortfall BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (study_id, number)
);

CREATE TABLE invitations (
    id BIGSERIAL PRIMARY KEY,
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    study_id BIGINT NOT NULL REFERENCES studies (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    -- Frozen at draw time.
    tier TEXT NOT NULL,
    department TEXT,
    facts TEXT NOT NULL,
    reason TEXT NOT NULL,
    added_by_hand BIGINT NOT NULL DEFAULT 0,
    -- drawn, dropped, excluded, invited, booked, cancelled, declined,
    -- opted_out, completed, no_show_participant, no_show_host
    status TEXT NOT NULL,
    exclusion TEXT,
    -- SHA-256 of the participant link's token; the token itself is only in
    -- the messages that carry the link.
    token_hash TEXT UNIQUE,
    reschedules BIGINT NOT NULL DEFAULT 0,
    invited_at BIGINT,
    opened_at BIGINT,
    responded_at BIGINT,
    decline_reason TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (round_id, person_id)
);

CREATE INDEX invitations_person ON invitations (person_id);
CREATE INDEX invitations_study ON invitations (study_id, status);

CREATE TABLE opt_outs (
    person_id BIGINT PRIMARY KEY REFERENCES people (id),
    at BIGINT NOT NULL,
    reason TEXT,
    study_id BIGINT REFERENCES studies (id)
);

CREATE TABLE interviewer_profiles (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    timezone TEXT NOT NULL,
    buffer_minutes BIGINT NOT NULL DEFAULT 10,
    min_notice_minutes BIGINT NOT NULL DEFAULT 720,
    -- Bumped by every booking of this interviewer: the write takes the
    -- row's lock, so the overlap check that follows sees every booking.
    booking_lock BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE availability_weekly (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    -- 0 = Monday ... 6 = Sunday, in the interviewer's zone.
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute BIGINT NOT NULL,
    end_minute BIGINT NOT NULL CHECK (end_minute > start_minute)
);

CREATE TABLE availability_one_off (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL CHECK (ends_at > starts_at)
);

CREATE TABLE bookings (
    id BIGSERIAL PRIMARY KEY,
    invitation_id BIGINT NOT NULL REFERENCES invitations (id),
    interviewer_id BIGINT NOT NULL REFERENCES accounts (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show_participant', 'no_show_host')),
    -- The calendar UID, stable across reschedules; SEQUENCE counts changes.
    uid TEXT NOT NULL UNIQUE,
    sequence BIGINT NOT NULL DEFAULT 0,
    participant_timezone TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    cancelled_at BIGINT,
    cancelled_by TEXT,
    cancel_reason TEXT
);

-- Two people can never hold the same slot, nor one invitation two slots.
CREATE UNIQUE INDEX bookings_one_per_slot ON bookings (interviewer_id, starts_at) WHERE status = 'booked';
CREATE UNIQUE INDEX bookings_one_per_invitation ON bookings (invitation_id) WHERE status = 'booked';
CREATE INDEX bookings_interviewer ON bookings (interviewer_id, starts_at);

CREATE TABLE booking_changes (
    id BIGSERIAL PRIMARY KEY,
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    at BIGINT NOT NULL,
    change TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    by_whom TEXT NOT NULL
);

-- E-mail waiting to go out, committed with the change that caused it.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    study_id BIGINT REFERENCES studies (id),
    invitation_id BIGINT REFERENCES invitations (id),
    booking_id BIGINT REFERENCES bookings (id),
    -- For reminders: the booking's SEQUENCE when queued; a moved booking
    -- makes the reminder obsolete.
    booking_sequence BIGINT,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    ics TEXT,
    ics_method TEXT,
    message_id TEXT NOT NULL UNIQUE,
    -- pending, sending, sent, failed, dropped
    state TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    -- Past this, the message is useless (a reminder after the interview).
    expires_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    claimed_by TEXT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_study ON outbox (study_id);
CREATE INDEX outbox_booking ON outbox (booking_id);

CREATE TABLE outbox_attempts (
    id BIGSERIAL PRIMARY KEY,
    outbox_id BIGINT NOT NULL REFERENCES outbox (id),
    at BIGINT NOT NULL,
    worker TEXT NOT NULL,
    ok BIGINT NOT NULL,
    error TEXT
);

CREATE INDEX outbox_attempts_message ON outbox_attempts (outbox_id);
