-- Issue 16 (R3.4, R4.1, R4.2, R6.3): checking understanding — question banks per resolution,
-- questionnaires of a class (scored quizzes and anonymous surveys), cell quizzes, knowledge
-- contests and written reflections.

-- A question of a resolution's bank. Its text lives in versions: an edit writes a new version,
-- and a published questionnaire keeps the versions it was published with.
CREATE TABLE questions (
    id            INTEGER PRIMARY KEY,
    resolution_id INTEGER NOT NULL REFERENCES resolutions(id),
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    province_id   INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    tier          TEXT,
    difficulty    TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    current_version_id INTEGER,
    retired       BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    INTEGER NOT NULL REFERENCES accounts(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX questions_resolution ON questions (resolution_id, id);

CREATE TABLE question_versions (
    id          INTEGER PRIMARY KEY,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    province_id INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    prompt      TEXT NOT NULL,
    -- One choice per line (single and multiple choice).
    choices     TEXT NOT NULL DEFAULT '',
    -- The key: choice letters ("A,C"), "true"/"false", accepted short answers ("a|b"); empty
    -- for survey and essay questions.
    answer      TEXT NOT NULL DEFAULT '',
    points      INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER NOT NULL REFERENCES accounts(id),
    created_at  TEXT NOT NULL,
    UNIQUE (question_id, version)
);

-- A questionnaire: a scored quiz of a class, an anonymous survey, a cell's quiz or a contest
-- round. Counts and sums are kept on every submission.
CREATE TABLE quizzes (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    province_id     INTEGER NOT NULL,
    resolution_id   INTEGER NOT NULL REFERENCES resolutions(id),
    kind            TEXT NOT NULL,
    class_id        INTEGER REFERENCES classes(id),
    session_id      INTEGER REFERENCES study_sessions(id),
    title           TEXT NOT NULL,
    contest_title   TEXT,
    round           INTEGER NOT NULL DEFAULT 1,
    opens_at        TEXT NOT NULL,
    closes_at       TEXT NOT NULL,
    draw_count      INTEGER NOT NULL DEFAULT 0,
    tier            TEXT,
    public_entry    BOOLEAN NOT NULL DEFAULT FALSE,
    state           TEXT NOT NULL DEFAULT 'draft',
    question_count  INTEGER NOT NULL DEFAULT 0,
    max_points      INTEGER NOT NULL DEFAULT 0,
    started_count   INTEGER NOT NULL DEFAULT 0,
    submitted_count INTEGER NOT NULL DEFAULT 0,
    score_sum       INTEGER NOT NULL DEFAULT 0,
    -- Contests: how many took part, fixed when the results are published (the tie-break).
    final_count     INTEGER,
    created_by      INTEGER NOT NULL REFERENCES accounts(id),
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    results_at      TEXT
);
CREATE INDEX quizzes_org ON quizzes (org_id, id);
CREATE INDEX quizzes_class ON quizzes (class_id) WHERE class_id IS NOT NULL;
CREATE INDEX quizzes_resolution ON quizzes (resolution_id, id);

-- The published questions (the pool a random draw takes from), by position.
CREATE TABLE quiz_questions (
    quiz_id    INTEGER NOT NULL REFERENCES quizzes(id),
    position   INTEGER NOT NULL,
    version_id INTEGER NOT NULL REFERENCES question_versions(id),
    province_id INTEGER NOT NULL,
    -- Kept on every submission: answered, answered right (which questions most people miss).
    answered   INTEGER NOT NULL DEFAULT 0,
    correct    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (quiz_id, position)
);

-- Members of the public registered for a contest that admits them (a short registration).
CREATE TABLE contest_entrants (
    id          INTEGER PRIMARY KEY,
    quiz_id     INTEGER NOT NULL REFERENCES quizzes(id),
    province_id INTEGER NOT NULL,
    full_name   TEXT NOT NULL,
    phone       TEXT NOT NULL,
    address     TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    UNIQUE (quiz_id, phone)
);

-- One attempt per person (or entrant) and questionnaire: started on the server's clock, the
-- drawn questions stored with it, answers saved as they come, scored once on submission.
CREATE TABLE attempts (
    id           INTEGER PRIMARY KEY,
    quiz_id      INTEGER NOT NULL REFERENCES quizzes(id),
    province_id  INTEGER NOT NULL,
    person_id    INTEGER REFERENCES people(id),
    entrant_id   INTEGER REFERENCES contest_entrants(id),
    org_id       INTEGER REFERENCES orgs(id),
    bridge_point_id INTEGER,
    source       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    submitted_at TEXT,
    score        INTEGER,
    -- The score negated: the ranking's index runs ascending on every column, so a keyset
    -- page or a place in the ranking is one range of it.
    neg_score    INTEGER,
    max_score    INTEGER NOT NULL,
    duration_ms  INTEGER,
    guess        INTEGER,
    guess_diff   INTEGER,
    recorded_by  INTEGER REFERENCES accounts(id),
    corrected    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX attempts_person ON attempts (quiz_id, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX attempts_entrant ON attempts (quiz_id, entrant_id) WHERE entrant_id IS NOT NULL;
CREATE INDEX attempts_of_person ON attempts (person_id, id) WHERE person_id IS NOT NULL;
CREATE INDEX attempts_rank ON attempts (quiz_id, neg_score, duration_ms, guess_diff, id) WHERE submitted_at IS NOT NULL;
CREATE INDEX attempts_org ON attempts (quiz_id, org_id) WHERE submitted_at IS NOT NULL;

CREATE TABLE attempt_answers (
    attempt_id INTEGER NOT NULL REFERENCES attempts(id),
    position   INTEGER NOT NULL,
    version_id INTEGER NOT NULL REFERENCES question_versions(id),
    province_id INTEGER NOT NULL,
    answer     TEXT,
    points     INTEGER,
    PRIMARY KEY (attempt_id, position)
);

-- Per questionnaire and organization of the people who submitted: kept on every submission,
-- so a roll-up down the tree sums these rows, never the attempts.
CREATE TABLE quiz_org_totals (
    quiz_id     INTEGER NOT NULL REFERENCES quizzes(id),
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    province_id INTEGER NOT NULL,
    submitted   INTEGER NOT NULL DEFAULT 0,
    score_sum   INTEGER NOT NULL DEFAULT 0,
    max_sum     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (quiz_id, org_id)
);
CREATE INDEX quiz_org_totals_org ON quiz_org_totals (org_id);

-- Anonymous survey answers: no person, no time, a random id. Who answered is kept apart
-- (survey_takers) only to take each person's answers once.
CREATE TABLE survey_responses (
    id          TEXT PRIMARY KEY,
    quiz_id     INTEGER NOT NULL REFERENCES quizzes(id),
    province_id INTEGER NOT NULL,
    bridge_point_id INTEGER
);
CREATE INDEX survey_responses_quiz ON survey_responses (quiz_id);
CREATE TABLE survey_answers (
    response_id TEXT NOT NULL REFERENCES survey_responses(id),
    position    INTEGER NOT NULL,
    province_id INTEGER NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (response_id, position)
);
CREATE TABLE survey_takers (
    quiz_id   INTEGER NOT NULL REFERENCES quizzes(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    province_id INTEGER NOT NULL,
    PRIMARY KEY (quiz_id, person_id)
);

-- Written reflections (bài thu hoạch) and personal plans after a class.
ALTER TABLE classes ADD COLUMN reflection_prompt TEXT;
ALTER TABLE classes ADD COLUMN reflection_due TEXT;
ALTER TABLE classes ADD COLUMN reflection_plan BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE classes ADD COLUMN reflection_count INTEGER NOT NULL DEFAULT 0;
CREATE TABLE reflections (
    id          INTEGER PRIMARY KEY,
    class_id    INTEGER NOT NULL REFERENCES classes(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    province_id INTEGER NOT NULL,
    state       TEXT NOT NULL,
    body        TEXT,
    plan        TEXT,
    exempt_reason TEXT,
    grade       TEXT,
    remark      TEXT,
    recorded_by INTEGER REFERENCES accounts(id),
    handed_at   TEXT NOT NULL,
    graded_by   INTEGER REFERENCES accounts(id),
    graded_at   TEXT,
    UNIQUE (class_id, person_id)
);
CREATE INDEX reflections_person ON reflections (person_id, id);
