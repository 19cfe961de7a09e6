"""OpenLineage: validation, mapping to the graph, idempotency, and the HTTP endpoint with the
real openlineage-python client."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.api.app import create_app
from catalog.domain import EdgeKind, column_ref, dataset_ref, job_ref
from catalog.handoffs import Criterion, CriterionSpec
from catalog.services import catalog, criteria, lineage
from catalog.services.ingestion import ingest_openlineage_event, ingest_openlineage_files
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Direction
from ingesters.openlineage import InvalidEvent, parse_event
from ingesters.openlineage.events import run_ref
from tests.conftest import FIXTURES, running

EVENTS = FIXTURES / "openlineage"
TOKEN = "test-token-123"
SNOWFLAKE = "snowflake://acme-xy12345"


def generated() -> list[dict[str, Any]]:
    lines = (EVENTS / "generated_events.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines]


def load(store: EmbeddedStore, events: list[dict[str, Any]]) -> None:
    for event in events:
        ingest_openlineage_event(store, event, actor="test:alice")


def upstream(store: EmbeddedStore, ref: Any) -> set[str]:
    result = lineage.lineage(store, ref, direction=lineage.LineageDirection.UPSTREAM, depth=1)
    return {str(n.node.ref) for n in result.nodes if n.depth == -1}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("event_invalid_dataset_facet.json", "$.outputs[0].facets.ownership.owners[0]"),
        ("event_invalid_input_dataset_facet.json", "$.inputs[0].inputFacets.dataQualityMetrics"),
        ("event_invalid_job_facet.json", "$.job.facets.ownership.owners[0]"),
        (
            "event_invalid_output_dataset_facet.json",
            "$.outputs[0].outputFacets.outputStatistics.rowCount",
        ),
        ("event_invalid_run_facet.json", "$.run.facets.parent.run"),
        ("event_no_run_id.json", "$.run"),
        # Called "full", but its dataQualityMetrics lacks the required columnMetrics, the
        # same defect as event_invalid_input_dataset_facet; fluentd's proxy accepts it only
        # because it skips input-facet validation unless asked.
        ("event_full.json", "$.inputs[0].inputFacets.dataQualityMetrics"),
    ],
)
def test_invalid_events_are_rejected_naming_the_json_path(name: str, path: str) -> None:
    with pytest.raises(InvalidEvent) as rejected:
        parse_event(json.loads((EVENTS / name).read_text()))
    assert any(problem.startswith(f"{path}: ") for problem in rejected.value.problems)


def test_events_from_the_real_client_are_valid() -> None:
    for event in generated():
        parse_event(event)


def test_a_complete_run_records_table_and_column_lineage(embedded: EmbeddedStore) -> None:
    load(embedded, generated())
    orders = dataset_ref(SNOWFLAKE, "ANALYTICS.MARTS.FCT_ORDERS")
    assert upstream(embedded, orders) == {
        f"{SNOWFLAKE}/ANALYTICS.RAW.ORDERS",
        f"{SNOWFLAKE}/ANALYTICS.RAW.CUSTOMERS",
    }
    amount = column_ref(SNOWFLAKE, "ANALYTICS.MARTS.FCT_ORDERS", "AMOUNT_USD")
    assert upstream(embedded, amount) == {f"{SNOWFLAKE}/ANALYTICS.RAW.ORDERS.AMOUNT_CENTS"}


def test_indirect_column_lineage_becomes_influence_edges(embedded: EmbeddedStore) -> None:
    load(embedded, generated())
    status = column_ref(SNOWFLAKE, "ANALYTICS.RAW.ORDERS", "STATUS")
    found = embedded.subgraph(
        [status],
        kinds=[EdgeKind.INFLUENCES.value],
        direction=Direction.DOWNSTREAM,
        depth=1,
        limit=10,
    )
    assert [(e.object.name, e.attrs["subtype"]) for e in found.edges] == [
        ("ANALYTICS.MARTS.FCT_ORDERS", "FILTER")
    ]


def test_schema_facets_become_columns(embedded: EmbeddedStore) -> None:
    load(embedded, generated())
    columns = catalog.columns(embedded, dataset_ref(SNOWFLAKE, "ANALYTICS.MARTS.FCT_ORDERS"))
    assert [c.ref.column for c in columns][:2] == ["ORDER_ID", "CUSTOMER_ID"]


def test_a_symlink_joins_lineage_recorded_under_either_name(embedded: EmbeddedStore) -> None:
    load(embedded, generated())  # extract writes s3 raw/shop/orders; build reads its symlink
    result = lineage.lineage(
        embedded,
        dataset_ref(SNOWFLAKE, "ANALYTICS.MARTS.FCT_ORDERS"),
        direction=lineage.LineageDirection.UPSTREAM,
        depth=4,
    )
    reached = {str(n.node.ref) for n in result.nodes}
    assert "postgres://orders-db.prod.acme.internal:5432/shop.public.orders" in reached
    assert any(e.kind == EdgeKind.ALIAS_OF.value for e in result.edges)


def test_ownership_facets_become_owners_in_their_role(embedded: EmbeddedStore) -> None:
    load(embedded, generated())
    dataset = dataset_ref(SNOWFLAKE, "ANALYTICS.MARTS.FCT_ORDERS")
    owners = {
        (str(e.subject), role)
        for e in embedded.edge_history(dataset)
        if e.kind == EdgeKind.OWNS.value and e.valid_to is None
        for role in e.attrs["roles"]
    }
    assert owners == {
        ("team/analytics-engineering", "owner"),
        ("person/bob@acme.com", "maintainer"),
    }


def test_a_failed_run_records_its_error_and_keeps_earlier_lineage(
    embedded: EmbeddedStore,
) -> None:
    events = generated()
    load(embedded, events)
    failed = next(
        e for e in events if e["eventType"] == "FAIL" and "spark" in e["job"]["namespace"]
    )
    job = job_ref(failed["job"]["namespace"], failed["job"]["name"])
    (run,) = embedded.nodes([run_ref(job, failed["run"]["runId"])])
    assert run.attrs["fail_at"] == failed["eventTime"]
    assert "start_at" in run.attrs
    assert run.attrs["error_message"]


def test_a_complete_run_records_when_it_wrote_each_output(embedded: EmbeddedStore) -> None:
    events = generated()
    load(embedded, events)
    complete = next(e for e in events if e.get("eventType") == "COMPLETE" and e.get("outputs"))
    output = complete["outputs"][0]
    (written,) = embedded.nodes([dataset_ref(output["namespace"], output["name"])])
    last = max(
        e["eventTime"] for e in events if e.get("eventType") == "COMPLETE"
        and any(o["name"] == output["name"] for o in e.get("outputs") or [])
    )  # fmt: skip
    assert written.attrs["last_written_at"] == last


def test_a_failed_run_records_no_write(embedded: EmbeddedStore) -> None:
    failed = next(e for e in generated() if e.get("eventType") == "FAIL" and e.get("outputs"))
    load(embedded, [failed])
    output = failed["outputs"][0]
    found = embedded.nodes([dataset_ref(output["namespace"], output["name"])])
    assert all("last_written_at" not in view.attrs for view in found)


def test_custom_facets_are_kept_raw(embedded: EmbeddedStore) -> None:
    event = json.loads((EVENTS / "event_simple.json").read_text())
    event["job"]["facets"] = {"myCompany_team": {"_producer": "x", "_schemaURL": "y", "team": "a"}}
    ingest_openlineage_event(embedded, event, actor="test:alice")
    (job,) = embedded.nodes([job_ref(event["job"]["namespace"], event["job"]["name"])])
    assert job.attrs["facets"]["myCompany_team"]["team"] == "a"


def test_resending_every_event_changes_nothing(embedded: EmbeddedStore) -> None:
    load(embedded, generated())
    entries = len(list(embedded.ledger_entries()))
    load(embedded, generated())
    assert len(list(embedded.ledger_entries())) == entries


def test_a_late_start_does_not_undo_a_complete(embedded: EmbeddedStore) -> None:
    events = generated()
    start = next(e for e in events if e["eventType"] == "START" and e["outputs"])
    complete = next(
        e
        for e in events
        if e["eventType"] == "COMPLETE" and e["run"]["runId"] == start["run"]["runId"]
    )
    load(embedded, [complete, start])
    job = job_ref(start["job"]["namespace"], start["job"]["name"])
    (run,) = embedded.nodes([run_ref(job, start["run"]["runId"])])
    assert {"start_at", "complete_at"} <= set(run.attrs)


def test_files_are_ingested_with_errors_naming_file_line_and_path(
    embedded: EmbeddedStore, tmp_path: Path
) -> None:
    events = tmp_path / "events.ndjson"
    invalid = (EVENTS / "event_no_run_id.json").read_text().replace("\n", " ")
    simple = (EVENTS / "event_simple.json").read_text().replace("\n", " ")
    events.write_text(f"{simple}\n{invalid}\n")
    read, results, errors = ingest_openlineage_files(embedded, [events], actor="test:alice")
    assert (read, len(results)) == (2, 1)
    (error,) = errors
    assert (error.line, error.field) == (2, "$.run")


@pytest.fixture
def endpoint(embedded: EmbeddedStore) -> Iterator[str]:
    with running(create_app(embedded, api_token=TOKEN)) as url:
        yield url


def post(url: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{url}/api/v1/lineage", content=body, headers=headers)


def test_endpoint_accepts_an_event_with_the_token(endpoint: str) -> None:
    body = (EVENTS / "event_simple.json").read_bytes()
    response = post(endpoint, body, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 201
    assert response.json()["changed"] is True


def test_endpoint_refuses_writes_without_the_token(endpoint: str) -> None:
    body = (EVENTS / "event_simple.json").read_bytes()
    assert post(endpoint, body).status_code == 401
    assert post(endpoint, body, authorization="Bearer wrong").status_code == 401


def test_endpoint_rejects_invalid_events_naming_the_path(
    endpoint: str, embedded: EmbeddedStore
) -> None:
    body = (EVENTS / "event_invalid_job_facet.json").read_bytes()
    response = post(endpoint, body, authorization=f"Bearer {TOKEN}")
    assert response.status_code == 400
    assert response.json()["problems"] == [
        "$.job.facets.ownership.owners[0]: 'name' is a required property"
    ]
    assert list(embedded.ledger_entries()) == []


def test_endpoint_accepts_gzip_bodies_on_v2(endpoint: str) -> None:
    body = gzip.compress((EVENTS / "event_simple.json").read_bytes())
    response = httpx.post(
        f"{endpoint}/api/v2/lineage",
        content=body,
        headers={"authorization": f"Bearer {TOKEN}", "content-encoding": "gzip"},
    )
    assert response.status_code == 201


def test_endpoint_refuses_bodies_that_inflate_too_far(endpoint: str) -> None:
    bomb = gzip.compress(b" " * (25 * 1024 * 1024))
    response = post(endpoint, bomb, authorization=f"Bearer {TOKEN}", **{"content-encoding": "gzip"})
    assert response.status_code == 413


def test_the_real_client_sends_events_that_land_in_the_graph(endpoint: str) -> None:
    pytest.importorskip("openlineage.client")
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import (
        InputDataset,
        Job,
        OutputDataset,
        Run,
        RunEvent,
        RunState,
    )
    from openlineage.client.facet_v2 import column_lineage_dataset as lineage_facet
    from openlineage.client.facet_v2 import schema_dataset
    from openlineage.client.transport.http import (
        ApiKeyTokenProvider,
        HttpCompression,
        HttpConfig,
        HttpTransport,
    )

    config = HttpConfig(
        url=endpoint, auth=ApiKeyTokenProvider({"apiKey": TOKEN}), compression=HttpCompression.GZIP
    )
    client = OpenLineageClient(transport=HttpTransport(config))
    columns = lineage_facet.ColumnLineageDatasetFacet(
        fields={
            "total": lineage_facet.Fields(
                inputFields=[lineage_facet.InputField("pg://db", "public.orders", "amount")]
            )
        }
    )
    schema = schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name="total", type="numeric")]
    )
    run = Run(runId="0193a1b2-0000-7000-8000-000000000001")
    job = Job(namespace="airflow", name="daily.totals")
    for state, time in (
        (RunState.START, "2026-11-22T01:00:00Z"),
        (RunState.COMPLETE, "2026-11-22T01:05:00Z"),
    ):
        client.emit(
            RunEvent(
                eventType=state,
                eventTime=time,
                run=run,
                job=job,
                inputs=[InputDataset("pg://db", "public.orders")],
                outputs=[
                    OutputDataset(
                        "pg://db",
                        "public.totals",
                        facets={"columnLineage": columns, "schema": schema},
                    )
                ],
            )
        )
    query = (
        '{ lineage(namespace: "pg://db", name: "public.totals", column: "total", '
        "direction: UPSTREAM, depth: 1) { nodes { name column } } }"
    )
    body = httpx.post(f"{endpoint}/graphql", json={"query": query}).json()
    nodes = {(n["name"], n["column"]) for n in body["data"]["lineage"]["nodes"]}
    assert nodes == {("public.totals", "total"), ("public.orders", "amount")}


def test_every_shared_fixture_event_is_accepted(
    embedded: EmbeddedStore, shared_fixtures: Path
) -> None:
    folder = shared_fixtures / "openlineage"
    files = [
        *sorted((folder / "dbt_ol").glob("*.events.ndjson")),
        folder / "generated" / "file_transport" / "events.ndjson",
    ]
    read, results, errors = ingest_openlineage_files(embedded, files, actor="test:alice")
    assert (read, len(results), errors) == (105, 105, [])


def test_dbt_ol_lineage_includes_column_lineage_from_the_sql_facet(
    embedded: EmbeddedStore, shared_fixtures: Path
) -> None:
    events = shared_fixtures / "openlineage" / "dbt_ol" / "jaffle_shop_classic.events.ndjson"
    ingest_openlineage_files(embedded, [events], actor="test:alice")
    duckdb = "duckdb:///home/analyst/projects/jaffle-shop-classic/jaffle_shop.duckdb"
    customers = dataset_ref(duckdb, "jaffle_shop.main.customers")
    assert upstream(embedded, customers) == {
        f"{duckdb}/jaffle_shop.main.stg_{name}" for name in ("customers", "orders", "payments")
    }
    # dbt-ol's schema facets list only documented columns, so `select *` expands that far.
    customer_id = column_ref(duckdb, "jaffle_shop.main.customers", "customer_id")
    assert upstream(embedded, customer_id) == {
        f"{duckdb}/jaffle_shop.main.stg_customers.customer_id"
    }


def test_task_runs_are_part_of_their_dag_run(embedded: EmbeddedStore) -> None:
    events = generated()
    load(embedded, events)
    task = next(e for e in events if "parent" in (e["run"].get("facets") or {}) and "run" in e)
    parent = task["run"]["facets"]["parent"]
    task_run = run_ref(job_ref(task["job"]["namespace"], task["job"]["name"]), task["run"]["runId"])
    found = embedded.subgraph(
        [task_run], kinds=[EdgeKind.PART_OF.value], direction=Direction.DOWNSTREAM, depth=1, limit=5
    )
    assert {e.object.name for e in found.edges} == {parent["run"]["runId"]}


def test_data_quality_assertions_become_checks_with_their_outcome(
    embedded: EmbeddedStore,
) -> None:
    load(embedded, generated())
    orders = dataset_ref(SNOWFLAKE, "ANALYTICS.RAW.ORDERS")
    facts = criteria.facts_about(embedded, (orders,))
    spec = CriterionSpec(name=Criterion.CHECKS_PASSING)
    result = criteria.evaluate(embedded, spec, facts)
    assert result.passed
    assert result.evidence == (f"{orders}: 2 check(s) pass on their latest run",)


def test_a_failed_assertion_fails_the_checks_criterion(embedded: EmbeddedStore) -> None:
    complete = next(e for e in generated() if e.get("eventType") == "COMPLETE" and any(
        "dataQualityAssertions" in (d.get("inputFacets") or {}) for d in e.get("inputs", [])
    ))  # fmt: skip
    failed = json.loads(json.dumps(complete).replace('"success": true', '"success": false', 1))
    load(embedded, [failed])
    orders = dataset_ref(SNOWFLAKE, "ANALYTICS.RAW.ORDERS")
    result = criteria.evaluate(
        embedded, CriterionSpec(name=Criterion.CHECKS_PASSING),
        criteria.facts_about(embedded, (orders,)),
    )  # fmt: skip
    assert not result.passed
    assert f"{orders}: check not_null is fail" in result.evidence


def test_endpoint_refuses_a_ten_megabyte_body_and_keeps_serving(endpoint: str) -> None:
    response = post(endpoint, b" " * (10 * 1024 * 1024), authorization=f"Bearer {TOKEN}")
    assert response.status_code == 413


def test_endpoint_bounds_a_chunked_body_without_a_length(endpoint: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b" " * (512 * 1024)

    response = httpx.post(
        f"{endpoint}/api/v1/lineage", content=chunks(), headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 413
    again = post(
        endpoint, (EVENTS / "event_simple.json").read_bytes(), authorization=f"Bearer {TOKEN}"
    )
    assert again.status_code == 201
