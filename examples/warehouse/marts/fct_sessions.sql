-- Web sessions attributed to customers (30 minutes of inactivity ends a session).
CREATE TABLE marts.fct_sessions AS
WITH flagged AS (
    SELECT
        anonymous_id,
        customer_id,
        occurred_at,
        CASE
            WHEN occurred_at - lag(occurred_at) OVER (PARTITION BY anonymous_id ORDER BY occurred_at)
                 > interval '30 minutes' THEN 1
            ELSE 0
        END AS starts_session
    FROM staging.stg_web_events
),
numbered AS (
    SELECT *, sum(starts_session) OVER (PARTITION BY anonymous_id ORDER BY occurred_at) AS session_number
    FROM flagged
)
SELECT
    anonymous_id || '-' || session_number AS session_id,
    anonymous_id,
    max(customer_id)                      AS customer_id,
    min(occurred_at)                      AS started_at,
    max(occurred_at)                      AS ended_at,
    count(*)                              AS events
FROM numbered
GROUP BY anonymous_id, session_number;
