-- Full-text search over what the catalog holds now: one row per node with a valid fact,
-- its name split into words by the tokenizer (dots and underscores separate them, so
-- `fct_orders` finds `analytics.marts.fct_orders`), its last name part (`leaf`, for
-- exact and suffix matches), its kind as one token (`kindtag`, so a search by kind is an
-- index intersection, not a filter), description and tags. The write path rewrites the
-- rows of the nodes each write touches (catalog/stores/embedded.py, `_SEARCH_ROWS`).
-- Runs, checks and sign-offs are not searched: they are reached through what they are of.
CREATE VIRTUAL TABLE node_search USING fts5(
    name, leaf, kindtag, description, tags,
    key UNINDEXED, kind UNINDEXED, exact_namespace UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO node_search
    (name, leaf, kindtag, description, tags, key, kind, exact_namespace)
SELECT
    n.name || coalesce('.' || n.column_name, ''),
    lower(coalesce(n.column_name, substr(n.name, length(rtrim(n.name, replace(n.name, '.', ''))) + 1))),
    'k' || lower(n.kind),
    (SELECT group_concat(json_extract(a.attrs, '$.description'), ' ') FROM assertions a
     WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    (SELECT group_concat(t.value, ' ') FROM assertions a, json_each(a.attrs, '$.tags') t
     WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL),
    n.key, n.kind, n.namespace
FROM nodes n
WHERE n.kind IN ('DATASET', 'COLUMN', 'JOB', 'CONSUMER', 'OWNER', 'CONTRACT', 'HANDOFF')
  AND EXISTS (SELECT 1 FROM assertions a
              WHERE a.subject_id = n.id AND a.kind = 'FACT' AND a.to_seq IS NULL);
