-- Payments and refunds rolled up per order.
CREATE TABLE intermediate.int_order_payments AS
WITH refunds_per_payment AS (
    SELECT payment_id, sum(refund_amount) AS refunded
    FROM staging.stg_refunds
    GROUP BY payment_id
)
SELECT
    p.order_id,
    sum(p.amount)                                             AS gross_paid,
    sum(coalesce(r.refunded, 0))                              AS refunded,
    sum(p.amount) - sum(coalesce(r.refunded, 0))              AS net_paid,
    sum(CASE WHEN p.payment_method = 'credit_card' THEN p.amount ELSE 0 END) AS credit_card_amount,
    sum(CASE WHEN p.payment_method = 'gift_card' THEN p.amount ELSE 0 END)   AS gift_card_amount,
    max(p.paid_at)                                            AS last_paid_at
FROM staging.stg_payments AS p
LEFT JOIN refunds_per_payment AS r ON r.payment_id = p.payment_id
GROUP BY p.order_id;
