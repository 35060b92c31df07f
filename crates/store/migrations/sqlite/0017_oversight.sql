-- Issue 15 (R1.3, R3.2, R3.6, R3.7): who sits on which committee, who presents the key content,
-- working groups that supervise the classes of lower levels, conduct records and year-end ratings.

-- Positions a person holds in an organization's committee (standing membership is data, R1.3);
-- ended positions are kept with their end date.
CREATE TABLE committee_positions (
    id          INTEGER PRIMARY KEY,
    person_id   INTEGER NOT NULL REFERENCES people(id),
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    province_id INTEGER NOT NULL,
    role        TEXT NOT NULL,
    created_by  INTEGER NOT NULL REFERENCES accounts(id),
    created_at  TEXT NOT NULL,
    ended_on    TEXT
);
CREATE UNIQUE INDEX committee_positions_current ON committee_positions (org_id, person_id, role) WHERE ended_on IS NULL;
CREATE INDEX committee_positions_person ON committee_positions (person_id);

-- Who presents each session, and whether it carries the key content (R1.3).
ALTER TABLE study_sessions ADD COLUMN presenter_person_id INTEGER REFERENCES people(id);
ALTER TABLE study_sessions ADD COLUMN key_content BOOLEAN NOT NULL DEFAULT FALSE;
-- Kept on every write of the class, its sessions or the committee's positions: the chair, the
-- opening and closing speakers or every key-content presenter is not a standing member.
ALTER TABLE classes ADD COLUMN lead_warning BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX classes_lead_warning ON classes (org_id) WHERE lead_warning;

-- Working groups (R3.2): 2 or 3 members from the propaganda department and advisory bodies of
-- the organization that forms them.
CREATE TABLE working_groups (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    province_id      INTEGER NOT NULL,
    name             TEXT NOT NULL,
    assignment_count INTEGER NOT NULL DEFAULT 0,
    evaluated_count  INTEGER NOT NULL DEFAULT 0,
    created_by       INTEGER NOT NULL REFERENCES accounts(id),
    created_at       TEXT NOT NULL
);
CREATE INDEX working_groups_org ON working_groups (org_id, id);

CREATE TABLE working_group_members (
    group_id  INTEGER NOT NULL REFERENCES working_groups(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    province_id INTEGER NOT NULL,
    leads     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX working_group_members_person ON working_group_members (person_id);

-- A group assigned to supervise one class of a lower organization, and its evaluation.
CREATE TABLE supervisions (
    id                 INTEGER PRIMARY KEY,
    group_id           INTEGER NOT NULL REFERENCES working_groups(id),
    class_id           INTEGER NOT NULL REFERENCES classes(id),
    org_id             INTEGER NOT NULL REFERENCES orgs(id),
    province_id        INTEGER NOT NULL,
    due_on             TEXT NOT NULL,
    assigned_by        INTEGER NOT NULL REFERENCES accounts(id),
    assigned_at        TEXT NOT NULL,
    chair_present      BOOLEAN,
    standing_opened    BOOLEAN,
    standing_closed    BOOLEAN,
    discussion_minutes INTEGER,
    attendance_percent INTEGER,
    materials_fit      BOOLEAN,
    grade              TEXT,
    remarks            TEXT,
    surveyed           INTEGER,
    understood_well    INTEGER,
    understood_partly  INTEGER,
    understood_poorly  INTEGER,
    evaluated_by       INTEGER REFERENCES accounts(id),
    evaluated_at       TEXT,
    UNIQUE (group_id, class_id)
);
CREATE INDEX supervisions_org ON supervisions (org_id, id);
CREATE INDEX supervisions_class ON supervisions (class_id);

-- Conduct records (R3.6): never deleted; a withdrawn record keeps its history.
CREATE TABLE conduct_records (
    id               INTEGER PRIMARY KEY,
    person_id        INTEGER NOT NULL REFERENCES people(id),
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    province_id      INTEGER NOT NULL,
    class_id         INTEGER REFERENCES classes(id),
    kind             TEXT NOT NULL,
    occurred_on      TEXT NOT NULL,
    year             INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    recorded_by      INTEGER NOT NULL REFERENCES accounts(id),
    recorded_at      TEXT NOT NULL,
    withdrawn_at     TEXT,
    withdrawn_by     INTEGER REFERENCES accounts(id),
    withdrawn_reason TEXT
);
CREATE INDEX conduct_records_person ON conduct_records (person_id, year);
CREATE INDEX conduct_records_class ON conduct_records (class_id, id);
CREATE INDEX conduct_records_org ON conduct_records (org_id, id);

-- Per person and year, the standing records that bar an excellent rating (R3.7), kept on every
-- record and withdrawal: `barring` counts reminders, criticisms and review or discipline
-- proposals; `flagged` counts reminders and criticisms (the cell's 10% rule). `org_id` is the
-- person's organization, kept when they move (trigger below), so that the eligibility report
-- counts a subtree's marks per cell from one index without reading its people.
CREATE TABLE conduct_marks (
    person_id INTEGER NOT NULL REFERENCES people(id),
    year      INTEGER NOT NULL,
    org_id    INTEGER NOT NULL REFERENCES orgs(id),
    province_id INTEGER NOT NULL,
    barring   INTEGER NOT NULL DEFAULT 0,
    flagged   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, person_id)
) WITHOUT ROWID;
CREATE INDEX conduct_marks_org ON conduct_marks (year, org_id, flagged, person_id) WHERE barring > 0;
CREATE INDEX conduct_marks_person ON conduct_marks (person_id);
CREATE TRIGGER conduct_marks_follow AFTER UPDATE OF org_id ON people WHEN old.org_id <> new.org_id BEGIN
    UPDATE conduct_marks SET org_id = new.org_id WHERE person_id = new.id;
END;

-- Year-end ratings (four levels) of members and of cells.
CREATE TABLE ratings (
    id          INTEGER PRIMARY KEY,
    year        INTEGER NOT NULL,
    person_id   INTEGER REFERENCES people(id),
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    province_id INTEGER NOT NULL,
    level       TEXT NOT NULL,
    rated_on    TEXT NOT NULL,
    -- A cell's rating keeps what it was decided on: its members and those reminded or
    -- criticized, counted on the rating date (R3.7).
    member_count  INTEGER,
    flagged_count INTEGER,
    rated_by    INTEGER NOT NULL REFERENCES accounts(id),
    rated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX ratings_person ON ratings (year, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX ratings_cell ON ratings (year, org_id) WHERE person_id IS NULL;
CREATE INDEX ratings_org ON ratings (org_id, year);

-- Members no longer active, per organization: the cells' active members are the kept
-- `orgs.member_count` less these few (the eligibility report never counts a subtree's people).
CREATE INDEX people_inactive ON people (org_id) WHERE status <> 'active';
