-- An events import commits in bounded batches, so other writers never wait
-- for a whole file. Until it finishes (status 'running'), its events and
-- the people it created are invisible to every read; a failed or
-- interrupted import is removed in batches.

-- Last sign of life of a running import (a crashed one goes stale), and
-- the process running it (host, boot and process id), so that one whose
-- process is gone is known at once on the same machine.
ALTER TABLE imports ADD COLUMN owner TEXT;
ALTER TABLE imports ADD COLUMN heartbeat_at BIGINT;
CREATE INDEX imports_running ON imports (id) WHERE status = 'running';

-- The running import that created this person; NULL once it finished.
ALTER TABLE people ADD COLUMN pending_import BIGINT;
CREATE INDEX people_pending_import ON people (pending_import) WHERE pending_import IS NOT NULL;

-- The window index carries the import, so window reads skip a running
-- import's events without leaving the index.
DROP INDEX events_window;
CREATE INDEX events_window ON events (ts, person_id, kind_id, channel_id, channel_type, import_id);
