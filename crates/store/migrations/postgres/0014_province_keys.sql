-- Issue 13.6: every organization-owned table carries the province key it is sharded by on Citus
-- (docs/decisions/0016-sharding-by-province.md). orgs, people, campaigns and classes had it; the
-- rows below a class, a campaign's resolutions, a person's notifications and e-mail, and the
-- closure of the tree get it here, from the row they belong to. Written with the row from now on.

ALTER TABLE campaign_resolutions ADD COLUMN province_id BIGINT;
UPDATE campaign_resolutions x SET province_id = s.province_id FROM campaigns s WHERE s.id = x.campaign_id;
ALTER TABLE campaign_resolutions ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE study_sessions ADD COLUMN province_id BIGINT;
UPDATE study_sessions x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE study_sessions ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE bridge_points ADD COLUMN province_id BIGINT;
UPDATE bridge_points x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE bridge_points ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE participants ADD COLUMN province_id BIGINT;
UPDATE participants x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE participants ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE attendance ADD COLUMN province_id BIGINT;
UPDATE attendance x SET province_id = s.province_id FROM study_sessions s WHERE s.id = x.session_id;
ALTER TABLE attendance ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE checkins ADD COLUMN province_id BIGINT;
UPDATE checkins x SET province_id = s.province_id FROM study_sessions s WHERE s.id = x.session_id;
ALTER TABLE checkins ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE completions ADD COLUMN province_id BIGINT;
UPDATE completions x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE completions ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE retakes ADD COLUMN province_id BIGINT;
UPDATE retakes x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE retakes ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE seat_plans ADD COLUMN province_id BIGINT;
UPDATE seat_plans x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE seat_plans ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE seat_assignments ADD COLUMN province_id BIGINT;
UPDATE seat_assignments x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE seat_assignments ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE feedback ADD COLUMN province_id BIGINT;
UPDATE feedback x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE feedback ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE class_changes ADD COLUMN province_id BIGINT;
UPDATE class_changes x SET province_id = s.province_id FROM classes s WHERE s.id = x.class_id;
ALTER TABLE class_changes ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE notifications ADD COLUMN province_id BIGINT;
UPDATE notifications x SET province_id = s.province_id FROM people s WHERE s.id = x.person_id;
ALTER TABLE notifications ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE email_outbox ADD COLUMN province_id BIGINT;
UPDATE email_outbox x SET province_id = s.province_id FROM people s WHERE s.id = x.person_id;
ALTER TABLE email_outbox ALTER COLUMN province_id SET NOT NULL;

ALTER TABLE org_closure ADD COLUMN province_id BIGINT;
UPDATE org_closure x SET province_id = COALESCE(s.province_id, s.id) FROM orgs s WHERE s.id = x.descendant_id;
ALTER TABLE org_closure ALTER COLUMN province_id SET NOT NULL;
