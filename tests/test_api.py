"""GraphQL and health endpoints, over a real HTTP server holding the demo project."""

from __future__ import annotations

from typing import Any

import httpx

from catalog.api.cost import MAX_COST, operation_cost
from catalog.api.schema import schema
from tests.conftest import NAMESPACE, PROJECT

FCT_ORDERS = "analytics.marts.fct_orders"


def graphql(server: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(f"{server}/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


LINEAGE = """
query($name: String!, $column: String, $direction: LineageDirection!, $depth: Int!) {
  lineage(namespace: "postgres://warehouse:5432", name: $name, column: $column,
          direction: $direction, depth: $depth) {
    rootId truncated
    nodes { name column depth }
    edges { kind toId transformation provenance { source line jobId } validTo }
    jobs { name sql }
  }
}
"""


def test_health_and_readiness_answer(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server}/readyz").json() == {"status": "ready"}


def test_graphiql_is_served_to_browsers(server: str) -> None:
    response = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_upstream_lineage_of_a_dataset_reaches_raw_sources(server: str) -> None:
    body = graphql(server, LINEAGE, name=FCT_ORDERS, direction="UPSTREAM", depth=3)
    nodes = {(n["name"], n["depth"]) for n in body["data"]["lineage"]["nodes"]}
    assert ("analytics.staging.stg_orders", -1) in nodes
    assert ("analytics.raw.orders", -2) in nodes
    assert all(depth <= 0 for _, depth in nodes)


def test_lineage_edges_name_the_statement_and_job_behind_them(server: str) -> None:
    body = graphql(server, LINEAGE, name=FCT_ORDERS, direction="UPSTREAM", depth=1)
    graph = body["data"]["lineage"]
    sources = {e["provenance"]["source"] for e in graph["edges"]}
    assert sources == {"sql:warehouse:marts/fct_orders.sql"}  # project and path inside it
    assert all(e["provenance"]["line"] == 14 for e in graph["edges"])
    assert any("INSERT INTO marts.fct_orders" in (j["sql"] or "") for j in graph["jobs"])


def test_column_lineage_follows_one_column_downstream(server: str) -> None:
    body = graphql(
        server, LINEAGE, name=FCT_ORDERS, column="net_paid", direction="DOWNSTREAM", depth=3
    )
    reached = {(n["name"], n["column"]) for n in body["data"]["lineage"]["nodes"]}
    assert ("analytics.marts.dim_customers", "lifetime_value") in reached
    assert ("analytics.reporting.customer_360", "lifetime_value") in reached


def test_column_lineage_reaches_datasets_whose_rows_the_column_decides(server: str) -> None:
    body = graphql(
        server,
        LINEAGE,
        name="analytics.marts.dim_customers",
        column="loyalty_tier",
        direction="DOWNSTREAM",
        depth=1,
    )
    graph = body["data"]["lineage"]
    influenced = {(e["kind"], e["toId"]) for e in graph["edges"] if e["kind"] == "INFLUENCES"}
    assert (
        "INFLUENCES",
        '["DATASET","postgres://warehouse:5432","analytics.reporting.gold_upgrades"]',
    ) in influenced


def test_lineage_depth_is_bounded_with_a_typed_error(server: str) -> None:
    body = graphql(server, LINEAGE, name=FCT_ORDERS, direction="BOTH", depth=500)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "depth" in error["message"]


def test_unknown_dataset_is_a_not_found_error(server: str) -> None:
    body = graphql(server, LINEAGE, name="no.such.table", direction="BOTH", depth=1)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


DATASETS = """
query($first: Int!, $after: String, $search: String) {
  datasets(first: $first, after: $after, search: $search) {
    edges { cursor node { name type columns { name ordinal dataType } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def test_datasets_paginate_with_cursors_without_overlap(server: str) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = graphql(server, DATASETS, first=7, after=after)["data"]["datasets"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) > 7
    assert seen == sorted(seen)


def test_datasets_search_and_columns(server: str) -> None:
    page = graphql(server, DATASETS, first=10, search="fct_orders")["data"]["datasets"]
    (edge,) = page["edges"]
    columns = edge["node"]["columns"]
    assert [c["name"] for c in columns][:3] == ["order_id", "customer_id", "order_date"]
    assert columns[0]["dataType"] == "BIGINT"


def test_page_size_is_bounded(server: str) -> None:
    body = graphql(server, DATASETS, first=100_000)
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"


def test_malformed_cursor_is_an_invalid_argument(server: str) -> None:
    body = graphql(server, DATASETS, first=5, after="not-a-cursor")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_ledger_lists_entries_and_verifies(server: str) -> None:
    body = graphql(
        server,
        "{ ledger(first: 5) { entries { seq actor reason hash summary { change count } } }"
        "  ledgerVerification { ok entriesChecked } }",
    )
    (entry,) = body["data"]["ledger"]["entries"]
    assert (entry["seq"], entry["actor"], entry["reason"]) == (1, "test:alice", "demo data")
    assert body["data"]["ledgerVerification"] == {"ok": True, "entriesChecked": 1}


def test_history_lists_the_entries_that_touched_a_dataset(server: str) -> None:
    body = graphql(
        server,
        "query($ns: String!, $name: String!) {"
        " history(namespace: $ns, name: $name) { entries { seq } edges { kind } } }",
        ns=NAMESPACE,
        name=FCT_ORDERS,
    )
    history = body["data"]["history"]
    assert [e["seq"] for e in history["entries"]] == [1]
    assert {e["kind"] for e in history["edges"]} >= {"FEEDS", "WRITES", "HAS_COLUMN"}


def test_oversized_queries_are_rejected(server: str) -> None:
    fields = " ".join(["seq"] * 2_500)
    body = graphql(server, "{ ledger { entries { " + fields + " } } }")
    assert "token" in body["errors"][0]["message"].lower()


def test_too_many_aliases_are_rejected(server: str) -> None:
    aliases = " ".join(f"a{i}: ledgerVerification {{ ok }}" for i in range(30))
    body = graphql(server, "{ " + aliases + " }")
    assert "aliases" in body["errors"][0]["message"]


COSTLY = "{ handoffs(first: 500) { evaluation { gateOpen } } }"


def test_a_query_whose_nested_lists_multiply_is_refused_before_running(server: str) -> None:
    body = graphql(server, COSTLY)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert "query cost 250,510 exceeds the limit of 200,000" in error["message"]
    assert graphql(server, "{ datasets(first: 1) { edges { cursor } } }")["data"]


def test_fragments_cost_what_their_fields_cost() -> None:
    spread = (
        "{ handoffs(first: 500) { ...gate } } fragment gate on Handoff { evaluation { gateOpen } }"
    )
    assert operation_cost(schema._schema, spread) == operation_cost(schema._schema, COSTLY)


def test_page_sizes_given_as_variables_count_with_their_values() -> None:
    query = "query($n: Int!) { handoffs(first: $n) { evaluation { gateOpen } } }"
    assert (
        operation_cost(schema._schema, query, {"n": 2}) == 10 + 2 * 500 + 2
    )  # handoffs, evaluations, fields
    assert operation_cost(schema._schema, query, {"n": 10**9}) == 250_510  # capped at 500


def test_every_example_operation_is_within_the_cost_limit() -> None:
    for path in sorted((PROJECT / "graphql").glob("*.graphql")):
        if path.name != "schema.graphql":
            assert operation_cost(schema._schema, path.read_text()) <= MAX_COST, path


def test_deeply_nested_queries_are_refused_with_a_typed_error(server: str) -> None:
    for levels in (13, 5_000):
        query = "{" + "a{" * levels + "b" + "}" * levels + "}"
        body = graphql(server, query)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (
        "depth" in graphql(server, "{" + "a{" * 13 + "b" + "}" * 13 + "}")["errors"][0]["message"]
    )
