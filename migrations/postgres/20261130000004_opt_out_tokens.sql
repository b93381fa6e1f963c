-- Every message to a participant carries an opt-out link, also messages
-- sent when only the interviewer acted (the participant's own link token is
-- stored hashed and cannot be put in them). This token can do nothing but
-- opt the person out, so it is kept as it is.
ALTER TABLE invitations ADD COLUMN opt_out_token TEXT;
CREATE UNIQUE INDEX invitations_opt_out_token ON invitations (opt_out_token) WHERE opt_out_token IS NOT NULL;
