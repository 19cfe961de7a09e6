-- Refunds joined to the payments and orders they reverse.
CREATE TABLE marts.fct_refunds AS
SELECT
    r.refund_id,
    p.order_id,
    o.customer_id,
    o.order_date,
    p.payment_method,
    r.refund_amount,
    r.refund_amount / nullif(p.amount, 0) AS refunded_share,
    lower(trim(r.reason))                 AS reason
FROM staging.stg_refunds AS r
JOIN staging.stg_payments AS p ON p.payment_id = r.payment_id
JOIN staging.stg_orders AS o ON o.order_id = p.order_id;

CREATE VIEW marts.refund_reasons AS
SELECT reason, count(DISTINCT order_id) AS orders, sum(refund_amount) AS refunded
FROM marts.fct_refunds
GROUP BY reason;
