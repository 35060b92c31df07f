-- The member register fields that imports carry (issue 5, form Mẫu 7-HSĐV).
ALTER TABLE people ADD COLUMN religion TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN home_town TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN education TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN occupation TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN joined_on TEXT;
ALTER TABLE people ADD COLUMN official_on TEXT;
ALTER TABLE people ADD COLUMN record_number TEXT;
ALTER TABLE people ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE INDEX people_record_number ON people(record_number);

-- A file uploaded for import, kept between the dry run and the confirmation.
CREATE TABLE import_uploads (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    kind          TEXT NOT NULL,
    target_org_id INTEGER NOT NULL REFERENCES orgs(id),
    file_name     TEXT NOT NULL,
    content       BLOB NOT NULL,
    created_at    TEXT NOT NULL
);
