-- Version 2 stores first_name/last_name instead of name.
-- The split matches the service's own: at the first space; no space gives an empty last name.

-- handover:expand
-- Nullable columns: v1 keeps inserting rows without them while it serves.
ALTER TABLE people
  ADD COLUMN first_name VARCHAR(100) NULL,
  ADD COLUMN last_name VARCHAR(100) NULL,
  ALGORITHM=INSTANT;

UPDATE people
   SET first_name = SUBSTRING_INDEX(name, ' ', 1),
       last_name = IF(LOCATE(' ', name) > 0, SUBSTRING(name, LOCATE(' ', name) + 1), '')
 WHERE first_name IS NULL;

-- handover:expand-undo
-- Written to be safe after a partial expand.
ALTER TABLE people DROP COLUMN IF EXISTS first_name, DROP COLUMN IF EXISTS last_name;

-- handover:contract
-- Nothing writes now: catch up the rows v1 wrote after the expand, then drop the old column.
UPDATE people
   SET first_name = SUBSTRING_INDEX(name, ' ', 1),
       last_name = IF(LOCATE(' ', name) > 0, SUBSTRING(name, LOCATE(' ', name) + 1), '')
 WHERE first_name IS NULL;

ALTER TABLE people DROP COLUMN name;

-- handover:contract-undo
-- Before the point of no return only v1 has written, and every v1 row was split exactly:
-- joining the parts again gives back each name.
ALTER TABLE people ADD COLUMN IF NOT EXISTS name VARCHAR(200) NULL AFTER id;
UPDATE people SET name = TRIM(CONCAT(first_name, ' ', last_name)) WHERE name IS NULL;
ALTER TABLE people MODIFY name VARCHAR(200) NOT NULL;
