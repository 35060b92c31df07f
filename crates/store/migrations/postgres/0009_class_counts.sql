-- Issue 12.B: how many participants each class lists, kept by every write of `participants` in
-- the same transaction (every class read counted its participants: 200,000 rows for a national
-- conference, on every page that names the class). Inserts and deletes count per statement (a
-- list generated for 200,000 people updates its class once); a removal or a return by row.
ALTER TABLE classes ADD COLUMN participant_count BIGINT NOT NULL DEFAULT 0;
UPDATE classes k SET participant_count = (
    SELECT COUNT(*) FROM participants pt WHERE pt.class_id = k.id AND pt.removed_at IS NULL
);
CREATE FUNCTION participants_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE classes k SET participant_count = k.participant_count + d.n
    FROM (SELECT class_id, COUNT(*) AS n FROM new_rows WHERE removed_at IS NULL GROUP BY class_id) d
    WHERE k.id = d.class_id;
    RETURN NULL;
END $$;
CREATE TRIGGER participants_count_ai AFTER INSERT ON participants
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION participants_count_inserted();
CREATE FUNCTION participants_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE classes k SET participant_count = k.participant_count - d.n
    FROM (SELECT class_id, COUNT(*) AS n FROM old_rows WHERE removed_at IS NULL GROUP BY class_id) d
    WHERE k.id = d.class_id;
    RETURN NULL;
END $$;
CREATE TRIGGER participants_count_ad AFTER DELETE ON participants
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION participants_count_deleted();
CREATE FUNCTION participants_count_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.removed_at IS NULL THEN
        UPDATE classes SET participant_count = participant_count - 1 WHERE id = OLD.class_id;
    END IF;
    IF NEW.removed_at IS NULL THEN
        UPDATE classes SET participant_count = participant_count + 1 WHERE id = NEW.class_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER participants_count_au AFTER UPDATE OF removed_at, class_id ON participants
    FOR EACH ROW WHEN ((OLD.removed_at IS NULL) IS DISTINCT FROM (NEW.removed_at IS NULL) OR OLD.class_id <> NEW.class_id)
    EXECUTE FUNCTION participants_count_changed();
