-- How an import read its file and matched its people, beyond the counts:
-- the encoding converted from, the line the header was found on, the date
-- order used, facts replaced, people matched by e-mail or alias. A JSON
-- object (see storage::imports::ImportDetails).
ALTER TABLE imports ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
