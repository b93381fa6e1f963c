-- The face a study shows the people it invites: a title and a short
-- description for invitations, their pages and calendar entries. The
-- internal title and goal stay with the team. Empty: a neutral title in
-- the study's language.
ALTER TABLE studies ADD COLUMN participant_title TEXT NOT NULL DEFAULT '';
ALTER TABLE studies ADD COLUMN participant_description TEXT NOT NULL DEFAULT '';
