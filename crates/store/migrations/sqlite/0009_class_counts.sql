-- Issue 12.B: how many participants each class lists, kept by every write of `participants` in
-- the same transaction (every class read counted its participants). Row triggers: SQLite has no
-- statement triggers; each is one update of the class's row by its key.
ALTER TABLE classes ADD COLUMN participant_count INTEGER NOT NULL DEFAULT 0;
UPDATE classes SET participant_count = (
    SELECT COUNT(*) FROM participants pt WHERE pt.class_id = classes.id AND pt.removed_at IS NULL
);
CREATE TRIGGER participants_count_ai AFTER INSERT ON participants WHEN NEW.removed_at IS NULL
BEGIN
    UPDATE classes SET participant_count = participant_count + 1 WHERE id = NEW.class_id;
END;
CREATE TRIGGER participants_count_ad AFTER DELETE ON participants WHEN OLD.removed_at IS NULL
BEGIN
    UPDATE classes SET participant_count = participant_count - 1 WHERE id = OLD.class_id;
END;
CREATE TRIGGER participants_count_au AFTER UPDATE OF removed_at, class_id ON participants
BEGIN
    UPDATE classes SET participant_count = participant_count - 1
        WHERE id = OLD.class_id AND OLD.removed_at IS NULL;
    UPDATE classes SET participant_count = participant_count + 1
        WHERE id = NEW.class_id AND NEW.removed_at IS NULL;
END;
