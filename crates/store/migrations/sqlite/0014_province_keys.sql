-- Issue 13.6: every organization-owned table carries the province key it is sharded by on Citus
-- (docs/decisions/0016-sharding-by-province.md). orgs, people, campaigns and classes had it; the
-- rows below a class, a campaign's resolutions, a person's notifications and e-mail, and the
-- closure of the tree get it here, from the row they belong to. Written with the row from now on.
-- SQLite cannot add a NOT NULL column without a default to a table that has rows; the column
-- is filled here and by every insert (PostgreSQL's NOT NULL checks the same inserts in the tests).

ALTER TABLE campaign_resolutions ADD COLUMN province_id BIGINT;
UPDATE campaign_resolutions SET province_id = (SELECT s.province_id FROM campaigns s WHERE s.id = campaign_resolutions.campaign_id);

ALTER TABLE study_sessions ADD COLUMN province_id BIGINT;
UPDATE study_sessions SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = study_sessions.class_id);

ALTER TABLE bridge_points ADD COLUMN province_id BIGINT;
UPDATE bridge_points SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = bridge_points.class_id);

ALTER TABLE participants ADD COLUMN province_id BIGINT;
UPDATE participants SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = participants.class_id);

ALTER TABLE attendance ADD COLUMN province_id BIGINT;
UPDATE attendance SET province_id = (SELECT s.province_id FROM study_sessions s WHERE s.id = attendance.session_id);

ALTER TABLE checkins ADD COLUMN province_id BIGINT;
UPDATE checkins SET province_id = (SELECT s.province_id FROM study_sessions s WHERE s.id = checkins.session_id);

ALTER TABLE completions ADD COLUMN province_id BIGINT;
UPDATE completions SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = completions.class_id);

ALTER TABLE retakes ADD COLUMN province_id BIGINT;
UPDATE retakes SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = retakes.class_id);

ALTER TABLE seat_plans ADD COLUMN province_id BIGINT;
UPDATE seat_plans SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = seat_plans.class_id);

ALTER TABLE seat_assignments ADD COLUMN province_id BIGINT;
UPDATE seat_assignments SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = seat_assignments.class_id);

ALTER TABLE feedback ADD COLUMN province_id BIGINT;
UPDATE feedback SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = feedback.class_id);

ALTER TABLE class_changes ADD COLUMN province_id BIGINT;
UPDATE class_changes SET province_id = (SELECT s.province_id FROM classes s WHERE s.id = class_changes.class_id);

ALTER TABLE notifications ADD COLUMN province_id BIGINT;
UPDATE notifications SET province_id = (SELECT s.province_id FROM people s WHERE s.id = notifications.person_id);

ALTER TABLE email_outbox ADD COLUMN province_id BIGINT;
UPDATE email_outbox SET province_id = (SELECT s.province_id FROM people s WHERE s.id = email_outbox.person_id);

ALTER TABLE org_closure ADD COLUMN province_id BIGINT;
UPDATE org_closure SET province_id = (SELECT COALESCE(s.province_id, s.id) FROM orgs s WHERE s.id = org_closure.descendant_id);
