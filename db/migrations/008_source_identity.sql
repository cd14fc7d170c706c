-- One upstream issue, one task (issue 13 §4): a source's issues are claimed under the repository's
-- identity, the same on every path. `repo_id` is GitHub's numeric id, read when the source is created
-- or first polled (it survives renames and transfers); until a source has one, its keys use the
-- lower-cased full name.
ALTER TABLE sources ADD COLUMN repo_id bigint;

-- Keys claimed before this were spelt as the source or the payload spelt the repository. Lower-case
-- them; where two spellings made two tasks of one issue, the older keeps the key and the later one's
-- claim is set aside (its task stays; its key gets a `~duplicate~<issue id>` suffix).
CREATE TEMP TABLE source_key_moves ON COMMIT DROP AS
  SELECT issue_id, CASE WHEN n = 1 THEN canonical ELSE canonical || '~duplicate~' || issue_id END AS key
  FROM (
    SELECT source_key, issue_id, lower(source_key) AS canonical,
           row_number() OVER (PARTITION BY lower(source_key) ORDER BY created_at, issue_id) AS n
    FROM source_items
  ) ranked
  WHERE source_key <> CASE WHEN n = 1 THEN canonical ELSE canonical || '~duplicate~' || issue_id END;

-- Two steps, so no key is briefly held twice.
UPDATE source_items s SET source_key = 'moving:' || s.issue_id FROM source_key_moves m WHERE s.issue_id = m.issue_id;
UPDATE source_items s SET source_key = m.key FROM source_key_moves m WHERE s.issue_id = m.issue_id;
