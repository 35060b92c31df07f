-- Issue 13.3: e-mail of notifications through an outbox. A row is written in the transaction
-- that writes its notification, sent by a background worker, retried with backoff, and marked
-- sent once the SMTP server accepted it; it survives a restart.
ALTER TABLE accounts ADD COLUMN email_mode TEXT NOT NULL DEFAULT 'each'
    CHECK (email_mode IN ('each', 'digest', 'off'));
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY,
    notification_id INTEGER UNIQUE REFERENCES notifications(id),
    person_id       INTEGER NOT NULL REFERENCES people(id),
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT NOT NULL DEFAULT '',
    digest          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   TEXT,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
