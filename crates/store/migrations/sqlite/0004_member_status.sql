-- Member register changes (issue 5): moving away, passing away and leaving the Party are
-- statuses with dates, never deletions.
ALTER TABLE people ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE people ADD COLUMN status_on TEXT;
ALTER TABLE people ADD COLUMN status_note TEXT NOT NULL DEFAULT '';
