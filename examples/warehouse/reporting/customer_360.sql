-- Reporting: one wide row per customer for the CRM sync.
CREATE VIEW reporting.customer_360 AS
SELECT
    d.customer_id,
    d.full_name,
    d.email,
    d.loyalty_tier,
    d.lifetime_value,
    d.number_of_orders,
    s.sessions_30d,
    s.last_seen_at
FROM marts.dim_customers AS d
LEFT JOIN (
    SELECT customer_id, count(*) AS sessions_30d, max(ended_at) AS last_seen_at
    FROM marts.fct_sessions
    WHERE started_at >= now() - interval '30 days'
    GROUP BY customer_id
) AS s ON s.customer_id = d.customer_id;
