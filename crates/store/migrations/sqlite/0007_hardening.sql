-- no-transaction
-- Hardening (issue 10). This file runs outside sqlx's transaction because SQLite cannot drop a
-- UNIQUE constraint: the resolutions table is rebuilt with foreign keys off, in its own
-- transaction, as SQLite's documentation prescribes (create, copy, drop, rename, check).
PRAGMA foreign_keys = OFF;
BEGIN;

-- 10.6: a number is unique per issuer *and classification level*; uniqueness across levels is
-- checked in the store within what the caller can see, so a hidden entry never answers "taken".
CREATE TABLE resolutions_new (
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
    created_at     TEXT NOT NULL
);
INSERT INTO resolutions_new (id, owner_org_id, kind, number, title, search_folded, issuing_body,
    released_on, classification, published_on, summary, created_at)
SELECT id, owner_org_id, kind, number, title, search_folded, issuing_body, released_on,
    classification, published_on, summary, created_at FROM resolutions;
DROP TABLE resolutions;
ALTER TABLE resolutions_new RENAME TO resolutions;
CREATE UNIQUE INDEX resolutions_number_level ON resolutions(number, issuing_body, classification);

-- 10.7: failures on names that have no account, kept like an account's own, so that a locked
-- unknown name behaves as a locked account does.
CREATE TABLE login_throttle (
    username      TEXT PRIMARY KEY,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT
);

-- 10.2: wrong second-factor codes of a half-done login; 10.10: idle timeout.
ALTER TABLE login_sessions ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login_sessions ADD COLUMN last_seen_at TEXT;

-- 10.11: one account per person.
CREATE UNIQUE INDEX accounts_person_unique ON accounts(person_id) WHERE person_id IS NOT NULL;

COMMIT;
PRAGMA foreign_key_check;
PRAGMA foreign_keys = ON;
