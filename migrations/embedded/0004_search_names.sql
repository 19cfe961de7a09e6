-- Search finds contracts by their id (a contract version's node is named by its version
-- number, its id is the namespace), and anything by its display name (`name` facts: an
-- owner's "Maria Lopez", a contract's title), beside descriptions. The rows are rebuilt
-- whole with the expression the write path uses from now on (`_SEARCH_ROWS`).
DELETE FROM node_search;

INSERT INTO node_search
    (name, leaf, kindtag, description, tags, key, kind, exact_namespace)
SELECT
    CASE n.kind WHEN 'CONTRACT' THEN n.namespace ELSE n.name || coalesce('.' || n.column_name, '') END,
    CASE n.kind WHEN 'CONTRACT' THEN lower(n.namespace) ELSE
        lower(coalesce(n.column_name, substr(n.name, length(rtrim(n.name, replace(n.name, '.', ''))) + 1)))
    END,
    'k' || lower(n.kind),
    (SELECT group_concat(coalesce(json_extract(a.attrs, '$.name'), '') || ' '
                         || coalesce(json_extract(a.attrs, '$.description'), ''), ' ')
     FROM assertions a
     WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    (SELECT group_concat(t.value, ' ') FROM assertions a, json_each(a.attrs, '$.tags') t
     WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    n.key, n.kind, n.namespace
FROM nodes n
WHERE n.kind IN ('DATASET', 'COLUMN', 'JOB', 'CONSUMER', 'OWNER', 'CONTRACT', 'HANDOFF')
  AND EXISTS (SELECT 1 FROM assertions a
              WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL);
