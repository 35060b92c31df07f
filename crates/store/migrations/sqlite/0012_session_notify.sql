-- Issue 13.6: on PostgreSQL, changes to logins notify every instance (LISTEN/NOTIFY). SQLite is
-- one instance on one file: nothing to tell. This migration keeps both engines' versions equal.
SELECT 1;
