-- Issue 14.5 (R8.1): tasks a committee sends down its tree with a deadline. Each target reports
-- its completion or passes the task further down (a task of its own whose parent is this one).
-- The counts of targets and of those done are kept on write, so lists never count per row.
CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    province_id    INTEGER NOT NULL,
    parent_task_id INTEGER REFERENCES tasks(id),
    title          TEXT NOT NULL,
    body           TEXT,
    due_on         TEXT NOT NULL,
    sent_on        TEXT NOT NULL,
    created_by     INTEGER NOT NULL REFERENCES accounts(id),
    created_at     TEXT NOT NULL,
    target_count   INTEGER NOT NULL DEFAULT 0,
    done_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_org ON tasks (org_id, due_on, id);
-- A target passes a task down once.
CREATE UNIQUE INDEX tasks_passed_once ON tasks (parent_task_id, org_id) WHERE parent_task_id IS NOT NULL;

CREATE TABLE task_targets (
    task_id        INTEGER NOT NULL REFERENCES tasks(id),
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    province_id    INTEGER NOT NULL,
    due_on         TEXT NOT NULL,
    done_on        TEXT,
    people_reached INTEGER,
    note           TEXT,
    reported_by    INTEGER REFERENCES accounts(id),
    reported_at    TEXT,
    PRIMARY KEY (task_id, org_id)
) WITHOUT ROWID;
-- "Việc của đơn vị": an organization's open tasks by due date.
CREATE INDEX task_targets_org ON task_targets (org_id, due_on, task_id);
