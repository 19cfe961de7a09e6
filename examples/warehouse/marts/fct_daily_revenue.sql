-- Daily revenue by store region, with a 7-day moving average.
CREATE MATERIALIZED VIEW marts.fct_daily_revenue AS
WITH daily AS (
    SELECT
        o.order_date,
        s.region,
        sum(o.revenue)       AS revenue,
        sum(o.gross_margin)  AS gross_margin,
        count(*)             AS orders
    FROM marts.fct_orders AS o
    JOIN staging.stg_stores AS s ON s.store_id = o.store_id
    WHERE o.status <> 'returned'
    GROUP BY o.order_date, s.region
)
SELECT
    order_date,
    region,
    revenue,
    gross_margin,
    orders,
    avg(revenue) OVER (
        PARTITION BY region ORDER BY order_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
    ) AS revenue_7d_avg
FROM daily;
