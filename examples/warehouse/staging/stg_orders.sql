-- Staging: orders with statuses mapped to the reporting vocabulary.
CREATE VIEW staging.stg_orders AS
SELECT
    o.id            AS order_id,
    o.customer_id,
    o.ordered_at::date AS order_date,
    CASE o.status
        WHEN 'placed'   THEN 'open'
        WHEN 'shipped'  THEN 'open'
        WHEN 'returned' THEN 'returned'
        ELSE o.status
    END             AS status,
    o.store_id
FROM raw.orders AS o;

CREATE VIEW staging.stg_order_items AS
SELECT
    i.id          AS order_item_id,
    i.order_id,
    i.product_id,
    i.quantity,
    i.unit_price_cents / 100.0 AS unit_price
FROM raw.order_items AS i;
