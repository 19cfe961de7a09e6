-- Store-level daily orders, used by operations dashboards.
CREATE TABLE intermediate.int_store_daily AS
SELECT
    s.store_id,
    s.store_name,
    s.region,
    o.order_date,
    count(*)                                        AS orders,
    count(*) FILTER (WHERE o.status = 'returned')   AS returned_orders
FROM staging.stg_orders AS o
JOIN staging.stg_stores AS s ON s.store_id = o.store_id
GROUP BY s.store_id, s.store_name, s.region, o.order_date;
