#!/bin/sh
# Loads the demo catalog `make demo` serves: the warehouse SQL, its owners, a contract,
# OpenLineage runs (one with a failed quality check), a dbt project and a handoff in
# progress, so every console page has something to show. Safe to run again: unchanged
# inputs record nothing new.
set -eu
BATON=${BATON:-.venv/bin/baton}
cd "$(dirname "$0")/.."

$BATON ingest sql examples/warehouse --dialect postgres \
    --namespace postgres://warehouse:5432 --default-database analytics --default-schema public \
    --reason "demo project"
$BATON ingest ownership examples/ownership/warehouse.yaml --reason "demo owners"
$BATON ingest contracts examples/contracts/fct_orders.v1.odcs.yaml --reason "demo contract"
$BATON ingest openlineage examples/openlineage/events.ndjson
# The next day's run of the same Airflow task: its `unique` check on ORDERS.ORDER_ID fails.
$BATON ingest openlineage examples/openlineage/next-day-failed-check.ndjson
$BATON ingest dbt examples/dbt/jaffle_shop --reason "demo dbt project"
shown=0
$BATON handoff show orders-prod >/dev/null 2>&1 || shown=$?
if [ "$shown" -eq 2 ]; then  # 2: no such handoff yet (1 would be: there, gate closed)
    $BATON handoff create --policy examples/handoffs/promote-to-prod.yaml \
        analytics.marts.fct_orders --from-stage dev --to-stage prod --id orders-prod \
        --reason "demo handoff"
fi
# Raise the alerts what was ingested calls for (the failed check above); `baton serve`
# does this by itself, and sends them when BATON_ALERTS says where (docs/alerts.md).
$BATON alerts deliver
