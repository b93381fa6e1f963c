-- Each interviewer's own calendar, read so that its busy times are not
-- offered as interview slots: a published iCalendar feed (kind 'ics') or a
-- CalDAV calendar collection (kind 'caldav', with a user name and a
-- password). The address and the password are sealed (encrypted with a key
-- derived from the links' secret, which is never in the database); only
-- the address's scheme and host are kept in clear, to show.
-- busy: the busy intervals last read, as JSON [[start, end], ...] in Unix
-- seconds; refreshed_at the last successful read, attempted_at the last
-- try, last_error why that try failed (NULL when it succeeded).
CREATE TABLE interviewer_calendars (
    account_id INTEGER PRIMARY KEY REFERENCES accounts (id),
    kind TEXT NOT NULL CHECK (kind IN ('ics', 'caldav')),
    url_sealed TEXT NOT NULL,
    url_shown TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    password_sealed TEXT NOT NULL DEFAULT '',
    busy TEXT NOT NULL DEFAULT '[]',
    refreshed_at INTEGER,
    attempted_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
