-- Attendance in the field (issue 3): check-ins, seating, feedback, notifications, emergencies.

-- Server secrets that must survive restarts and agree between processes (QR signing key).
CREATE TABLE app_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One check-in or check-out (R3.4). The id is made on the device (or derived from the QR
-- window), so a queue sent twice, out of order or from two devices is stored once.
CREATE TABLE checkins (
    id             TEXT PRIMARY KEY,
    session_id     INTEGER NOT NULL REFERENCES study_sessions(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    direction      TEXT NOT NULL,
    at             TEXT NOT NULL,
    source         TEXT NOT NULL,
    device_id      TEXT,
    recorded_by    INTEGER REFERENCES accounts(id),
    received_at    TEXT NOT NULL
);
CREATE INDEX checkins_pair ON checkins(session_id, participant_id, at);
-- (PostgreSQL has a second index by person here; SQLite seeks checkins_pair for each person
-- of a group, and the second index only slowed its writes: 168 s instead of 109 s nationally.)

-- Seating chart of a class's venue (R3.4): a grid of rows and seats, some blocked.
CREATE TABLE seat_plans (
    class_id      INTEGER PRIMARY KEY REFERENCES classes(id),
    row_count     INTEGER NOT NULL,
    seats_per_row INTEGER NOT NULL,
    blocked       TEXT NOT NULL DEFAULT ''
);
CREATE TABLE seat_assignments (
    class_id       INTEGER NOT NULL REFERENCES classes(id),
    participant_id INTEGER NOT NULL REFERENCES participants(id),
    seat_row       INTEGER NOT NULL,
    seat_number    INTEGER NOT NULL,
    PRIMARY KEY (class_id, participant_id),
    UNIQUE (class_id, seat_row, seat_number)
);

-- Learner feedback (R3.4): notes, proposals and comments, online or typed in from paper.
CREATE TABLE feedback (
    id              INTEGER PRIMARY KEY,
    class_id        INTEGER NOT NULL REFERENCES classes(id),
    bridge_point_id INTEGER REFERENCES bridge_points(id),
    person_id       INTEGER REFERENCES people(id),
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    source          TEXT NOT NULL,
    recorded_by     INTEGER REFERENCES accounts(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX feedback_class ON feedback(class_id, bridge_point_id);

-- In-app notifications (R3.3, R3.5, R2.6); e-mailed when SMTP is configured.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    link       TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    read_at    TEXT,
    emailed_at TEXT
);
CREATE INDEX notifications_person ON notifications(person_id, created_at);

-- Emergencies (R2.6): postponed, moved online or cancelled, with the history kept.
ALTER TABLE study_sessions ADD COLUMN status TEXT NOT NULL DEFAULT 'scheduled';
CREATE TABLE class_changes (
    id         INTEGER PRIMARY KEY,
    class_id   INTEGER NOT NULL REFERENCES classes(id),
    session_id INTEGER REFERENCES study_sessions(id),
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT '',
    account_id INTEGER REFERENCES accounts(id),
    at         TEXT NOT NULL
);
CREATE INDEX class_changes_class ON class_changes(class_id, at);
