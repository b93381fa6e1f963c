-- People set aside when a round is drawn, from the same strata as the
-- people invited: never contacted by the study, so that the report can
-- compare the contacted with them (the effect of outreach).
CREATE TABLE holdouts (
    study_id BIGINT NOT NULL REFERENCES studies (id),
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    person_id BIGINT NOT NULL REFERENCES people (id),
    -- Tier and department at draw time, as for invitations.
    tier TEXT NOT NULL,
    department TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (study_id, person_id)
);
CREATE INDEX holdouts_round ON holdouts (round_id);

-- People held out per round: NULL as many as the round invites, 0 none.
ALTER TABLE studies ADD COLUMN holdout_size BIGINT;
