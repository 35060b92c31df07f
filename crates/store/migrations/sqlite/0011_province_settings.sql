-- Issue 13.2 (R8.3): the settings of each province, on its root organization, changed by its
-- admin on a page and audited; the command line gives only the defaults.
CREATE TABLE org_settings (
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER REFERENCES accounts(id),
    PRIMARY KEY (org_id, key)
);
