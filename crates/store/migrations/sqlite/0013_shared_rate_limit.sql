-- Issue 13.6: the API's per-address request limit holds across instances. Each instance counts
-- in memory and adds its counts here about once a second; the total of a minute is what every
-- instance checks against (on SQLite there is one instance, so the total is its own count).
CREATE TABLE api_rate (
    minute BIGINT NOT NULL,
    ip TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (minute, ip)
) WITHOUT ROWID;
