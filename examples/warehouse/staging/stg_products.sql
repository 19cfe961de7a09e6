CREATE VIEW staging.stg_products AS
SELECT
    p.id         AS product_id,
    p.sku,
    p.name       AS product_name,
    p.category,
    p.cost_cents / 100.0 AS unit_cost
FROM raw.products AS p;

CREATE VIEW staging.stg_stores AS
SELECT s.id AS store_id, s.name AS store_name, s.region, s.opened_on
FROM raw.stores AS s;
