-- Account safety (issue 4): lockout, TOTP, recovery codes, login attempts, session details.
ALTER TABLE accounts ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN locked_until TEXT;
ALTER TABLE accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE accounts ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE login_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full';
ALTER TABLE login_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';

CREATE TABLE recovery_codes (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    code_hash  TEXT NOT NULL,
    used_at    TEXT,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE login_attempts (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    username TEXT NOT NULL,
    ip       TEXT NOT NULL,
    success  BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_ip ON login_attempts(ip, at);

ALTER TABLE audit_log ADD COLUMN ip TEXT NOT NULL DEFAULT '';
