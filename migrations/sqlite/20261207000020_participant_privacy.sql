-- Survey responses keep no link to the person who gave them: an answered
-- invitation is marked on its own row (kept, so nobody is reminded twice),
-- and each response loses its invitation, its exact time (only the day
-- stays) and an id in answer order (a random one instead).
UPDATE survey_invitations
SET responded_at = (SELECT MIN(r.created_at) FROM survey_responses r WHERE r.invitation_id = survey_invitations.id)
WHERE responded_at IS NULL
  AND EXISTS (SELECT 1 FROM survey_responses r WHERE r.invitation_id = survey_invitations.id);

UPDATE survey_responses
SET invitation_id = NULL,
    created_at = created_at - (created_at % 86400),
    id = (abs(random()) % 9007199254740990) + 1;

-- Refused or withdrawn consent keeps no free text of the interview.
UPDATE interviews SET notes = '', follow_up = '' WHERE consent IS NOT NULL AND consent <> 'yes';

-- Participants' link tokens are derived from a secret kept outside the
-- database (HMAC of the invitation's id) and stored only hashed: the
-- opt-out token too (`opt_out_hash`). Links sent before keep working by
-- their old hashes (`legacy_*`), filled in by the application at start,
-- which also empties `opt_out_token` (it held the token itself).
ALTER TABLE invitations ADD COLUMN opt_out_hash TEXT;
ALTER TABLE invitations ADD COLUMN legacy_token_hash TEXT;
ALTER TABLE invitations ADD COLUMN legacy_opt_out_hash TEXT;
CREATE INDEX invitations_opt_out_hash ON invitations (opt_out_hash);
CREATE INDEX invitations_legacy_token_hash ON invitations (legacy_token_hash);
CREATE INDEX invitations_legacy_opt_out_hash ON invitations (legacy_opt_out_hash);
