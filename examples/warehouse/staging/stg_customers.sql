-- Staging: one row per customer, cleaned names and normalized emails.
CREATE VIEW staging.stg_customers AS
SELECT
    c.id                         AS customer_id,
    initcap(trim(c.first_name))  AS first_name,
    initcap(trim(c.last_name))   AS last_name,
    lower(c.email)               AS email,
    c.country_code,
    c.created_at::timestamp      AS signed_up_at
FROM raw.customers AS c
WHERE c.deleted_at IS NULL;
