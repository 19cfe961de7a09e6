-- Nodes by their last name part (a column's name, a dataset's last dotted part, a
-- contract's id), lower-cased, as search's `leaf`: search finds the exact and suffix hits
-- of what was typed by looking it up here. Through the full-text index it read every name
-- holding the word and kept those equal to it: typing `col` read ten million columns in
-- the 10x catalog (19 s), `table` a million tables (8.6 s). The expression is
-- `_SEARCH_LEAF` in catalog/stores/embedded.py, which must stay the same for SQLite to
-- use this index.
CREATE INDEX nodes_by_leaf ON nodes (
    CASE kind WHEN 'CONTRACT' THEN lower(namespace)
        ELSE lower(coalesce(column_name, substr(name, length(rtrim(name, replace(name, '.', ''))) + 1)))
    END
);
