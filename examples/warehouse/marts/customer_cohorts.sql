-- Monthly signup cohorts and their revenue by months since signup.
CREATE TABLE marts.customer_cohorts AS
SELECT
    date_trunc('month', c.signed_up_at)::date                         AS cohort_month,
    (extract(year FROM age(o.order_date, c.signed_up_at)) * 12
        + extract(month FROM age(o.order_date, c.signed_up_at)))::int AS months_since_signup,
    count(DISTINCT c.customer_id)                                     AS customers,
    sum(o.revenue)                                                    AS revenue
FROM staging.stg_customers AS c
JOIN marts.fct_orders AS o ON o.customer_id = c.customer_id
GROUP BY 1, 2;
