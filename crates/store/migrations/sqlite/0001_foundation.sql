-- Foundation schema (issue 2). Kept in step with ../postgres/0001_foundation.sql.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE orgs (
    id          INTEGER PRIMARY KEY,
    parent_id   INTEGER REFERENCES orgs(id),
    province_id INTEGER,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    sort_key    TEXT NOT NULL,
    level_name  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    depth       INTEGER NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX orgs_parent ON orgs(parent_id, sort_key);

-- Closure table: one row per (ancestor, descendant), the node itself included at depth 0.
CREATE TABLE org_closure (
    ancestor_id   INTEGER NOT NULL REFERENCES orgs(id),
    descendant_id INTEGER NOT NULL REFERENCES orgs(id),
    depth         INTEGER NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
) WITHOUT ROWID;
CREATE INDEX org_closure_descendant ON org_closure(descendant_id, depth);

CREATE TABLE people (
    id                     INTEGER PRIMARY KEY,
    org_id                 INTEGER NOT NULL REFERENCES orgs(id),
    province_id            INTEGER NOT NULL,
    full_name              TEXT NOT NULL,
    family_name            TEXT NOT NULL,
    middle_name            TEXT NOT NULL,
    given_name             TEXT NOT NULL,
    name_folded            TEXT NOT NULL,
    sort_key               TEXT NOT NULL,
    birth_date             TEXT,
    gender                 TEXT NOT NULL,
    ethnicity              TEXT NOT NULL,
    party_card_number      TEXT UNIQUE,
    positions              TEXT NOT NULL DEFAULT '',
    management_level       TEXT NOT NULL DEFAULT 'none',
    exempt_from_activities BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             TEXT NOT NULL
);
CREATE INDEX people_org_sort ON people(org_id, sort_key);
CREATE INDEX people_sort ON people(sort_key);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    person_id     INTEGER REFERENCES people(id),
    clearance     TEXT NOT NULL DEFAULT 'none',
    created_at    TEXT NOT NULL
);

CREATE TABLE role_grants (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, org_id, role)
);

CREATE TABLE login_sessions (
    token_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX login_sessions_account ON login_sessions(account_id);

CREATE TABLE resolutions (
    id             INTEGER PRIMARY KEY,
    owner_org_id   INTEGER NOT NULL REFERENCES orgs(id),
    kind           TEXT NOT NULL,
    number         TEXT NOT NULL,
    title          TEXT NOT NULL,
    search_folded  TEXT NOT NULL,
    issuing_body   TEXT NOT NULL,
    released_on    TEXT NOT NULL,
    classification TEXT NOT NULL,
    published_on   TEXT,
    summary        TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (number, issuing_body)
);

CREATE TABLE campaigns (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    province_id      INTEGER NOT NULL,
    name             TEXT NOT NULL,
    leader_person_id INTEGER NOT NULL REFERENCES people(id),
    starts_on        TEXT NOT NULL,
    ends_on          TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX campaigns_org ON campaigns(org_id);

CREATE TABLE campaign_resolutions (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    resolution_id INTEGER NOT NULL REFERENCES resolutions(id),
    PRIMARY KEY (campaign_id, resolution_id)
);

CREATE TABLE classes (
    id                 INTEGER PRIMARY KEY,
    campaign_id        INTEGER NOT NULL REFERENCES campaigns(id),
    org_id             INTEGER NOT NULL REFERENCES orgs(id),
    province_id        INTEGER NOT NULL,
    title              TEXT NOT NULL,
    form               TEXT NOT NULL,
    audience_tier      TEXT NOT NULL,
    venue_name         TEXT,
    venue_capacity     INTEGER,
    chair_person_id    INTEGER REFERENCES people(id),
    opening_speaker_id INTEGER REFERENCES people(id),
    closing_speaker_id INTEGER REFERENCES people(id),
    retake_threshold   INTEGER NOT NULL,
    status             TEXT NOT NULL DEFAULT 'planned',
    finished_at        TEXT,
    created_at         TEXT NOT NULL
);
CREATE INDEX classes_campaign ON classes(campaign_id);
CREATE INDEX classes_org ON classes(org_id);

CREATE TABLE study_sessions (
    id               INTEGER PRIMARY KEY,
    class_id         INTEGER NOT NULL REFERENCES classes(id),
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    topic            TEXT NOT NULL,
    is_discussion    BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX study_sessions_class ON study_sessions(class_id, starts_at);

CREATE TABLE bridge_points (
    id                 INTEGER PRIMARY KEY,
    class_id           INTEGER NOT NULL REFERENCES classes(id),
    org_id             INTEGER NOT NULL REFERENCES orgs(id),
    name               TEXT NOT NULL,
    operator_person_id INTEGER REFERENCES people(id),
    capacity           INTEGER,
    UNIQUE (class_id, org_id)
);

CREATE TABLE participants (
    id              INTEGER PRIMARY KEY,
    class_id        INTEGER NOT NULL REFERENCES classes(id),
    person_id       INTEGER NOT NULL REFERENCES people(id),
    bridge_point_id INTEGER REFERENCES bridge_points(id),
    source          TEXT NOT NULL,
    note            TEXT,
    removed_reason  TEXT,
    removed_at      TEXT,
    UNIQUE (class_id, person_id)
);
CREATE INDEX participants_person ON participants(person_id);

CREATE TABLE attendance (
    session_id         INTEGER NOT NULL REFERENCES study_sessions(id),
    participant_id     INTEGER NOT NULL REFERENCES participants(id),
    status             TEXT NOT NULL,
    late_minutes       INTEGER NOT NULL DEFAULT 0,
    left_early_minutes INTEGER NOT NULL DEFAULT 0,
    reason             TEXT,
    recorded_by        INTEGER REFERENCES accounts(id),
    recorded_at        TEXT NOT NULL,
    PRIMARY KEY (session_id, participant_id)
);
CREATE INDEX attendance_participant ON attendance(participant_id);

CREATE TABLE completions (
    person_id     INTEGER NOT NULL REFERENCES people(id),
    resolution_id INTEGER NOT NULL REFERENCES resolutions(id),
    class_id      INTEGER NOT NULL REFERENCES classes(id),
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    completed_on  TEXT NOT NULL,
    PRIMARY KEY (person_id, resolution_id)
);

CREATE TABLE retakes (
    class_id        INTEGER NOT NULL REFERENCES classes(id),
    person_id       INTEGER NOT NULL REFERENCES people(id),
    missed_minutes  INTEGER NOT NULL,
    excused_minutes INTEGER NOT NULL,
    class_minutes   INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (class_id, person_id)
);
CREATE INDEX retakes_person ON retakes(person_id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    account_id INTEGER,
    org_id     INTEGER,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  INTEGER,
    detail     TEXT NOT NULL DEFAULT ''
);

-- The audit log is append-only: no path of the application updates or deletes it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
