-- Issue 12: word search with an index, and member counts kept on write.

-- The folded names and card numbers, indexed by word (FTS5, external content): a search for
-- "nguyen an" is `"nguyen"* "an"*`, every word as a prefix, in any order.
CREATE VIRTUAL TABLE people_words USING fts5(
    name_folded, party_card_number,
    content = 'people', content_rowid = 'id', tokenize = 'unicode61'
);
INSERT INTO people_words(people_words) VALUES ('rebuild');
CREATE TRIGGER people_words_ai AFTER INSERT ON people BEGIN
    INSERT INTO people_words(rowid, name_folded, party_card_number)
    VALUES (new.id, new.name_folded, new.party_card_number);
END;
CREATE TRIGGER people_words_ad AFTER DELETE ON people BEGIN
    INSERT INTO people_words(people_words, rowid, name_folded, party_card_number)
    VALUES ('delete', old.id, old.name_folded, old.party_card_number);
END;
CREATE TRIGGER people_words_au AFTER UPDATE OF name_folded, party_card_number ON people BEGIN
    INSERT INTO people_words(people_words, rowid, name_folded, party_card_number)
    VALUES ('delete', old.id, old.name_folded, old.party_card_number);
    INSERT INTO people_words(rowid, name_folded, party_card_number)
    VALUES (new.id, new.name_folded, new.party_card_number);
END;

-- How many people each organization's subtree holds, kept by every write of `people` in the
-- same transaction (the organization pages counted the whole subtree on every view).
ALTER TABLE orgs ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE orgs SET member_count = (
    SELECT COUNT(*) FROM people p JOIN org_closure c ON c.descendant_id = p.org_id
    WHERE c.ancestor_id = orgs.id
);
CREATE TRIGGER people_count_ai AFTER INSERT ON people BEGIN
    UPDATE orgs SET member_count = member_count + 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = new.org_id);
END;
CREATE TRIGGER people_count_ad AFTER DELETE ON people BEGIN
    UPDATE orgs SET member_count = member_count - 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = old.org_id);
END;
CREATE TRIGGER people_count_au AFTER UPDATE OF org_id ON people WHEN old.org_id <> new.org_id BEGIN
    UPDATE orgs SET member_count = member_count - 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = old.org_id);
    UPDATE orgs SET member_count = member_count + 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = new.org_id);
END;
