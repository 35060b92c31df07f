-- Hardening (issue 10).

-- 10.6: a number is unique per issuer *and classification level*; uniqueness across levels is
-- checked in the store within what the caller can see, so a hidden entry never answers "taken".
-- The old UNIQUE (number, issuing_body) is part of the table's definition, which SQLite can only
-- drop by rebuilding the table with foreign keys off, outside a transaction; sqlx runs every
-- SQLite migration inside one, so `Db::migrate` does that rebuild right after (decision 0008).
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

