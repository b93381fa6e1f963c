-- Every identifier a person is known by (their user id, a directory e-mail,
-- aliases such as a UPN, a Slack User ID, a Feishu open_id or an employee
-- number), trimmed and lower-cased, so that every import finds one person
-- whatever id a file keys them by. `kind` is user_id, email or alias.
-- Existing people keep their user id; directory e-mails already stored
-- become identifiers too, unless another person already has that id (the
-- next directory import then merges the two).

CREATE TABLE person_identifiers (
    identifier TEXT PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    kind TEXT NOT NULL
);

CREATE INDEX person_identifiers_person ON person_identifiers (person_id);

INSERT OR IGNORE INTO person_identifiers (identifier, person_id, kind)
SELECT user_id, id, 'user_id' FROM people;

INSERT OR IGNORE INTO person_identifiers (identifier, person_id, kind)
SELECT lower(trim(email)), id, 'email' FROM people
WHERE in_directory = 1 AND email IS NOT NULL AND trim(email) <> '' AND instr(email, '@') > 0
ORDER BY id;

