-- Order lines priced and costed.
CREATE TABLE intermediate.int_order_items AS
SELECT
    i.order_item_id,
    i.order_id,
    i.product_id,
    pr.category,
    i.quantity,
    i.quantity * i.unit_price AS line_revenue,
    i.quantity * pr.unit_cost AS line_cost
FROM staging.stg_order_items AS i
JOIN staging.stg_products AS pr ON pr.product_id = i.product_id;

CREATE TABLE intermediate.int_order_totals AS
SELECT
    order_id,
    count(*)            AS item_count,
    sum(line_revenue)   AS revenue,
    sum(line_cost)      AS cost
FROM intermediate.int_order_items
GROUP BY order_id;
