-- Issue 14.1–14.3 (R1.1, R1.2, R7.1–R7.4, R8.2): action programs and implementation plans, their
-- lifecycle (consultation, approval by a collective, issue, interim and final review,
-- amendments), and their items, each with exactly one lead unit and any number of coordinating
-- units. Counts are kept on write; the earliest due date of the unfinished items is kept too, so
-- "overdue" filters by an index instead of by scanning items.
CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    province_id       INTEGER NOT NULL,
    kind              TEXT NOT NULL,
    title             TEXT NOT NULL,
    summary           TEXT,
    responsibility    TEXT,
    inspection        TEXT,
    leader_person_id  INTEGER NOT NULL REFERENCES people(id),
    -- The highest classification of its resolutions (R2.8): who may see the plan at all.
    classification    TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'draft',
    approval_body     TEXT,
    approved_on       TEXT,
    decision_number   TEXT,
    number            TEXT,
    issued_on         TEXT,
    interim_on        TEXT,
    interim_note      TEXT,
    final_on          TEXT,
    final_note        TEXT,
    item_count        INTEGER NOT NULL DEFAULT 0,
    item_done_count   INTEGER NOT NULL DEFAULT 0,
    open_due_on       TEXT,
    amendment_count   INTEGER NOT NULL DEFAULT 0,
    created_by        INTEGER NOT NULL REFERENCES accounts(id),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX plans_org ON plans (org_id, id);
CREATE INDEX plans_status ON plans (status, id);
CREATE INDEX plans_open_due ON plans (open_due_on) WHERE open_due_on IS NOT NULL;
CREATE INDEX plans_leader ON plans (leader_person_id);

CREATE TABLE plan_resolutions (
    plan_id       INTEGER NOT NULL REFERENCES plans(id),
    resolution_id INTEGER NOT NULL REFERENCES resolutions(id),
    province_id   INTEGER NOT NULL,
    PRIMARY KEY (plan_id, resolution_id)
) WITHOUT ROWID;
CREATE INDEX plan_resolutions_resolution ON plan_resolutions (resolution_id, plan_id);

CREATE TABLE plan_consultations (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES plans(id),
    province_id  INTEGER NOT NULL,
    round        INTEGER NOT NULL,
    body_name    TEXT NOT NULL,
    asked_on     TEXT NOT NULL,
    answered_on  TEXT,
    answer       TEXT
);
CREATE INDEX plan_consultations_plan ON plan_consultations (plan_id, round, id);

CREATE TABLE plan_amendments (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES plans(id),
    province_id  INTEGER NOT NULL,
    number       TEXT NOT NULL,
    decided_on   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES accounts(id),
    created_at   TEXT NOT NULL
);
CREATE INDEX plan_amendments_plan ON plan_amendments (plan_id, id);

CREATE TABLE plan_items (
    id             INTEGER PRIMARY KEY,
    plan_id        INTEGER NOT NULL REFERENCES plans(id),
    province_id    INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    lead_org_id    INTEGER NOT NULL REFERENCES orgs(id),
    resources      TEXT,
    responsible    TEXT,
    starts_on      TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    percent        INTEGER NOT NULL DEFAULT 0,
    done_on        TEXT,
    last_report_on TEXT,
    report_count   INTEGER NOT NULL DEFAULT 0,
    amendment_id   INTEGER REFERENCES plan_amendments(id),
    created_at     TEXT NOT NULL
);
CREATE INDEX plan_items_plan ON plan_items (plan_id, starts_on, id);

-- The units of an item: exactly one lead (the unique index), any number coordinating. The due
-- date is copied here so that "Việc của đơn vị" reads one index in due order.
CREATE TABLE plan_item_units (
    item_id      INTEGER NOT NULL REFERENCES plan_items(id),
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    province_id  INTEGER NOT NULL,
    lead         BOOLEAN NOT NULL,
    due_on       TEXT NOT NULL,
    done         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (item_id, org_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX plan_item_units_one_lead ON plan_item_units (item_id) WHERE lead;
CREATE INDEX plan_item_units_org ON plan_item_units (org_id, done, due_on, item_id);

CREATE TABLE plan_item_reports (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES plan_items(id),
    province_id   INTEGER NOT NULL,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    reported_on   TEXT NOT NULL,
    percent       INTEGER NOT NULL,
    note          TEXT,
    file_name     TEXT,
    file_type     TEXT,
    file_content  BLOB,
    reported_by   INTEGER NOT NULL REFERENCES accounts(id),
    reported_at   TEXT NOT NULL
);
CREATE INDEX plan_item_reports_item ON plan_item_reports (item_id, id);

-- Issue 14.4 (R7.1, R7.2, R6.1): the subordinate organizations a committee names as concerned
-- by a resolution, who must each issue a plan for it.
CREATE TABLE plan_requirements (
    resolution_id   INTEGER NOT NULL REFERENCES resolutions(id),
    named_by_org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    province_id     INTEGER NOT NULL,
    named_by        INTEGER NOT NULL REFERENCES accounts(id),
    named_at        TEXT NOT NULL,
    PRIMARY KEY (resolution_id, named_by_org_id, org_id)
) WITHOUT ROWID;
CREATE INDEX plans_org_issued ON plans (org_id, issued_on);

-- Issue 14.5, 14.7: reminders before a due date and after it, sent once per target and stage
-- (the key), whichever instance sweeps first.
CREATE TABLE reminders_sent (
    kind       TEXT NOT NULL,
    entity_id  INTEGER NOT NULL,
    org_id     INTEGER NOT NULL,
    stage      TEXT NOT NULL,
    sent_on    TEXT NOT NULL,
    PRIMARY KEY (kind, entity_id, org_id, stage)
) WITHOUT ROWID;
CREATE INDEX task_targets_open_due ON task_targets (due_on) WHERE done_on IS NULL;
CREATE INDEX plan_item_units_open_due ON plan_item_units (due_on) WHERE lead AND NOT done;

-- Issue 14.6: each account's private calendar link (iCal) of the due dates that concern it; only
-- the token's hash is kept, a new link revokes the old one.
CREATE TABLE calendar_feeds (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id),
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

-- Issue 14.5: a task's report of completion may carry a file (at most 5 MB, as plan reports).
ALTER TABLE task_targets ADD COLUMN file_name TEXT;
ALTER TABLE task_targets ADD COLUMN file_type TEXT;
ALTER TABLE task_targets ADD COLUMN file_content BLOB;
