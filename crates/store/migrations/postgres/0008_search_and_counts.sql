-- Issue 12: word search with an index, and member counts kept on write.

-- The folded names and card numbers, indexed by word (full text, 'simple' configuration: no
-- stemming on folded Vietnamese): a search for "nguyen an" is 'nguyen:* & an:*', every word as a
-- prefix, in any order. The expression is the one `store::org` queries with.
CREATE INDEX people_words ON people
    USING gin (to_tsvector('simple', name_folded || ' ' || coalesce(party_card_number, '')));

-- How many people each organization's subtree holds, kept by every write of `people` in the
-- same transaction (the organization pages counted the whole subtree on every view). Inserts
-- and deletes count per statement (an import of 90,000 rows updates each ancestor once).
ALTER TABLE orgs ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0;
UPDATE orgs o SET member_count = (
    SELECT COUNT(*) FROM people p JOIN org_closure c ON c.descendant_id = p.org_id
    WHERE c.ancestor_id = o.id
);

CREATE FUNCTION people_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orgs o SET member_count = o.member_count + d.n
    FROM (SELECT c.ancestor_id, COUNT(*) AS n FROM new_rows r
          JOIN org_closure c ON c.descendant_id = r.org_id GROUP BY c.ancestor_id) d
    WHERE o.id = d.ancestor_id;
    RETURN NULL;
END $$;
CREATE TRIGGER people_count_ai AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION people_count_inserted();

CREATE FUNCTION people_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orgs o SET member_count = o.member_count - d.n
    FROM (SELECT c.ancestor_id, COUNT(*) AS n FROM old_rows r
          JOIN org_closure c ON c.descendant_id = r.org_id GROUP BY c.ancestor_id) d
    WHERE o.id = d.ancestor_id;
    RETURN NULL;
END $$;
CREATE TRIGGER people_count_ad AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION people_count_deleted();

CREATE FUNCTION people_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE orgs SET member_count = member_count - 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = OLD.org_id);
    UPDATE orgs SET member_count = member_count + 1
    WHERE id IN (SELECT ancestor_id FROM org_closure WHERE descendant_id = NEW.org_id);
    RETURN NULL;
END $$;
CREATE TRIGGER people_count_au AFTER UPDATE OF org_id ON people
    FOR EACH ROW WHEN (OLD.org_id IS DISTINCT FROM NEW.org_id) EXECUTE FUNCTION people_count_moved();
