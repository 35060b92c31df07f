-- Issue 13.6: the API's per-address request limit holds across instances. Each instance counts
-- in memory and adds its counts here about once a second; the total of a minute is what every
-- instance checks against. UNLOGGED: counts of the last minutes are not worth a WAL record, and
-- after a crash an empty table only forgives a minute.
CREATE UNLOGGED TABLE api_rate (
    minute BIGINT NOT NULL,
    ip TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (minute, ip)
);
