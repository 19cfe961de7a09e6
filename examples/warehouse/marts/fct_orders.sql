-- The orders fact table: one row per order, revenue, payments and margin.
CREATE TABLE marts.fct_orders (
    order_id      bigint PRIMARY KEY,
    customer_id   bigint,
    order_date    date,
    status        text,
    store_id      bigint,
    item_count    integer,
    revenue       numeric,
    gross_margin  numeric,
    net_paid      numeric
);

INSERT INTO marts.fct_orders
    (order_id, customer_id, order_date, status, store_id, item_count, revenue, gross_margin, net_paid)
SELECT
    o.order_id,
    o.customer_id,
    o.order_date,
    o.status,
    o.store_id,
    t.item_count,
    t.revenue,
    t.revenue - t.cost            AS gross_margin,
    coalesce(p.net_paid, 0)       AS net_paid
FROM staging.stg_orders AS o
LEFT JOIN intermediate.int_order_totals AS t ON t.order_id = o.order_id
LEFT JOIN intermediate.int_order_payments AS p ON p.order_id = o.order_id;
