-- Where interviews happen: per study, and an interviewer's own place that
-- wins over it. Kind: '' (not set), 'video' (detail: an address, possibly
-- with {room} for a room per booking), 'room', 'phone' (a number to call)
-- or 'we_call'.
ALTER TABLE studies ADD COLUMN meeting_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN meeting_detail TEXT NOT NULL DEFAULT '';
CREATE TABLE interviewer_places (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
