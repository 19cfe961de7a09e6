CREATE TABLE marts.dim_products AS
SELECT
    p.product_id,
    p.sku,
    p.product_name,
    p.category,
    p.unit_cost,
    coalesce(sum(i.quantity), 0) AS units_sold
FROM staging.stg_products AS p
LEFT JOIN intermediate.int_order_items AS i ON i.product_id = p.product_id
GROUP BY p.product_id, p.sku, p.product_name, p.category, p.unit_cost;
