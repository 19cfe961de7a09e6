-- Marketing reporting: first-touch channel per customer and channel revenue.
CREATE TABLE reporting.first_touch AS
SELECT DISTINCT ON (e.customer_id)
    e.customer_id,
    e.event_type AS first_event_type,
    e.occurred_at AS first_seen_at
FROM staging.stg_web_events AS e
WHERE e.customer_id IS NOT NULL
ORDER BY e.customer_id, e.occurred_at;

CREATE VIEW reporting.channel_revenue AS
SELECT
    t.first_event_type        AS channel,
    count(*)                  AS customers,
    sum(d.lifetime_value)     AS revenue,
    avg(d.lifetime_value)     AS revenue_per_customer
FROM reporting.first_touch AS t
JOIN marts.dim_customers AS d ON d.customer_id = t.customer_id
GROUP BY t.first_event_type;

-- Daily append of the customers who became gold today.
CREATE TABLE reporting.gold_upgrades (customer_id bigint, email text, upgraded_on date);

INSERT INTO reporting.gold_upgrades (customer_id, email, upgraded_on)
SELECT d.customer_id, d.email, current_date
FROM marts.dim_customers AS d
WHERE d.loyalty_tier = 'gold'
  AND NOT EXISTS (SELECT 1 FROM reporting.gold_upgrades AS g WHERE g.customer_id = d.customer_id);
