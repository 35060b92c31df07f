-- Issue 5: a re-import matches members without a card or record number by name and birth date,
-- a chunk of rows at a time, through this index instead of holding the register in memory.
CREATE INDEX people_name_birth ON people(name_folded, birth_date, id);
