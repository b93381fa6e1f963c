-- One person's events (the person page) without reading a whole window:
-- evaluations no longer keep every event in memory.
CREATE INDEX events_person ON events (person_id, ts);
