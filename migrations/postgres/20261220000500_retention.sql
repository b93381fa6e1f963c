-- Retention (the `retention.days` setting): raw events older than the
-- horizon are deleted in batches. Which people an import of raw events
-- held is read from those events (the presence of people in a platform's
-- messages-only export); this table keeps those pairs for the events a
-- retention run deleted, so a window inside the horizon reads the same
-- presence after the run as before it.
CREATE TABLE retained_presence (
    import_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    PRIMARY KEY (import_id, person_id)
);
