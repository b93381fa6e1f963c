-- A survey invitation records that it was answered, not when: the time
-- would match the day kept on a response when only one answer came that
-- day. `responded_at` holds the sending time from now on.
UPDATE survey_invitations SET responded_at = sent_at WHERE responded_at IS NOT NULL;
