-- Sessionized web events, deduplicated by event id.
CREATE VIEW staging.stg_web_events AS
WITH ranked AS (
    SELECT
        e.event_id,
        e.anonymous_id,
        e.customer_id,
        e.event_type,
        e.occurred_at,
        row_number() OVER (PARTITION BY e.event_id ORDER BY e.received_at DESC) AS copy_number
    FROM raw.web_events AS e
)
SELECT event_id, anonymous_id, customer_id, event_type, occurred_at
FROM ranked
WHERE copy_number = 1;
