-- Executive KPI snapshot, appended daily.
CREATE TABLE reporting.exec_kpis (
    kpi_date       date,
    revenue        numeric,
    gross_margin   numeric,
    active_customers bigint,
    gold_customers bigint
);

INSERT INTO reporting.exec_kpis (kpi_date, revenue, gross_margin, active_customers, gold_customers)
SELECT
    r.order_date,
    sum(r.revenue),
    sum(r.gross_margin),
    (SELECT count(*) FROM marts.dim_customers WHERE most_recent_order_date >= r.order_date - 90),
    (SELECT count(*) FROM marts.dim_customers WHERE loyalty_tier = 'gold')
FROM marts.fct_daily_revenue AS r
GROUP BY r.order_date;

CREATE VIEW reporting.category_performance AS
SELECT category, sum(line_revenue) AS revenue, sum(line_revenue - line_cost) AS margin
FROM intermediate.int_order_items
GROUP BY category
UNION ALL
SELECT 'all' AS category, sum(revenue), sum(revenue - cost)
FROM intermediate.int_order_totals;
