-- Staging: payments in dollars; refunds come from a separate feed.
CREATE VIEW staging.stg_payments AS
SELECT
    p.id             AS payment_id,
    p.order_id,
    p.payment_method,
    p.amount / 100.0 AS amount,
    p.created_at     AS paid_at
FROM raw.payments AS p
WHERE p.status = 'success';

CREATE VIEW staging.stg_refunds AS
SELECT
    r.id               AS refund_id,
    r.payment_id,
    r.amount / 100.0   AS refund_amount,
    r.reason
FROM raw.refunds AS r;
