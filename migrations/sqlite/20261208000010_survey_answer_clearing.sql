-- Free-text survey answers cleared for managers, like quotes: the research
-- team reads every answer (with the tier and department at answer time);
-- managers read only those cleared here, without the department, and only
-- from tiers the privacy floor shows on their own. One row per cleared
-- answer (a response and the index of its question); no row: not cleared.
CREATE TABLE survey_answer_clearings (
    response_id INTEGER NOT NULL REFERENCES survey_responses (id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    cleared_by INTEGER REFERENCES accounts (id),
    cleared_at INTEGER NOT NULL,
    PRIMARY KEY (response_id, question_index)
);
