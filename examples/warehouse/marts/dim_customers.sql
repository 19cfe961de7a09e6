-- Customer dimension with lifetime value and first/last order.
CREATE TABLE marts.dim_customers AS
WITH customer_orders AS (
    SELECT
        customer_id,
        min(order_date)  AS first_order_date,
        max(order_date)  AS most_recent_order_date,
        count(order_id)  AS number_of_orders,
        sum(net_paid)    AS lifetime_value
    FROM marts.fct_orders
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.first_name || ' ' || c.last_name      AS full_name,
    c.email,
    c.country_code,
    c.signed_up_at,
    co.first_order_date,
    co.most_recent_order_date,
    coalesce(co.number_of_orders, 0)        AS number_of_orders,
    coalesce(co.lifetime_value, 0)          AS lifetime_value,
    CASE
        WHEN co.lifetime_value >= 1000 THEN 'gold'
        WHEN co.lifetime_value >= 250  THEN 'silver'
        ELSE 'bronze'
    END                                     AS loyalty_tier
FROM staging.stg_customers AS c
LEFT JOIN customer_orders AS co ON co.customer_id = c.customer_id;
