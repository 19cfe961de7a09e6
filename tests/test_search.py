"""Search: any part of a name as you type, descriptions and tags, exact names first, over
an index the write path keeps current (embedded store: SQLite FTS5)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest

from catalog.api.app import create_app
from catalog.domain import Batch, NodeKind, SnapshotBuilder, dataset_ref
from catalog.errors import InvalidArgument, NotFound
from catalog.services import catalog
from catalog.stores.embedded import _SEARCH_NAMED, EmbeddedStore
from catalog.stores.protocol import WriteTx
from catalog.write_path import WriteRequest, apply_batch, write_batch
from tests.conftest import NAMESPACE, baton, publish_contract, run_sql, running

WRITE = WriteRequest("t", "t", "t")


def labels(store: EmbeddedStore, text: str, **filters: object) -> list[str]:
    return [str(v.ref) for v in catalog.search(store, text, **filters)]  # type: ignore[arg-type]


def described(store: EmbeddedStore, source: str, dataset: str, **attrs: object) -> None:
    builder = SnapshotBuilder(source)
    builder.node(dataset_ref("pg://db", dataset), **attrs)
    write_batch(store, Batch(snapshots=[builder.build()]), WRITE)


def test_any_part_of_a_name_finds_it_in_any_case(demo_store: EmbeddedStore) -> None:
    for text in ("fct_orders", "FCT_ORDERS", "marts.fct_orders", "fct_ord"):
        assert labels(demo_store, text)[0] == f"{NAMESPACE}/analytics.marts.fct_orders", text


def test_words_before_the_last_are_whole_words_the_last_may_be_begun(
    demo_store: EmbeddedStore,
) -> None:
    assert labels(demo_store, "marts fct_ord")[0] == f"{NAMESPACE}/analytics.marts.fct_orders"
    assert f"{NAMESPACE}/analytics.marts.fct_orders" not in labels(demo_store, "mar fct_orders")


def test_an_exact_name_comes_before_names_that_only_contain_it(
    demo_store: EmbeddedStore,
) -> None:
    found = labels(demo_store, "analytics.raw.orders")
    assert found[0] == f"{NAMESPACE}/analytics.raw.orders"


def test_columns_are_found_by_name(demo_store: EmbeddedStore) -> None:
    found = labels(demo_store, "net_paid", kind=NodeKind.COLUMN)
    assert f"{NAMESPACE}/analytics.marts.fct_orders.net_paid" in found


def test_descriptions_and_tags_are_searched(embedded: EmbeddedStore) -> None:
    described(embedded, "a", "sales.t1", description="Refunds issued per store", tags=["pii"])
    assert labels(embedded, "refunds issued") == ["pg://db/sales.t1"]
    assert labels(embedded, "pii") == ["pg://db/sales.t1"]


def test_display_names_are_searched(embedded: EmbeddedStore) -> None:
    described(embedded, "a", "sales.t1", name="Store refunds")
    assert labels(embedded, "store refunds") == ["pg://db/sales.t1"]


def test_a_contract_is_found_by_its_id(owned_warehouse: EmbeddedStore) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    found = labels(owned_warehouse, "urn:acme:contract:fct-orders", kind=NodeKind.CONTRACT)
    assert found == ["urn:acme:contract:fct-orders/1.0.0"]
    assert labels(owned_warehouse, "fct-orders", kind=NodeKind.CONTRACT) == found


def test_an_owner_is_found_by_their_name(owned_warehouse: EmbeddedStore) -> None:
    assert labels(owned_warehouse, "maria lopez") == ["person/maria@acme.example"]


def test_an_owner_filter_keeps_what_the_owner_holds(owned_warehouse: EmbeddedStore) -> None:
    found = labels(owned_warehouse, "orders", owner="team:finance-data", kind=NodeKind.DATASET)
    assert f"{NAMESPACE}/analytics.marts.fct_orders" in found
    assert f"{NAMESPACE}/analytics.staging.stg_orders" not in found


def test_an_unknown_owner_filter_is_an_error_not_an_empty_answer(
    owned_warehouse: EmbeddedStore,
) -> None:
    with pytest.raises(NotFound, match="no owner team:nobody"):
        catalog.search(owned_warehouse, "orders", owner="team:nobody")


def test_filters_by_kind_and_namespace(demo_store: EmbeddedStore) -> None:
    assert all("/" in label for label in labels(demo_store, "orders", kind=NodeKind.DATASET))
    assert labels(demo_store, "orders", namespace="nowhere://x") == []


def test_the_index_follows_every_write(embedded: EmbeddedStore) -> None:
    described(embedded, "a", "sales.first_name")
    assert labels(embedded, "first_name") == ["pg://db/sales.first_name"]
    write_batch(embedded, Batch(snapshots=[SnapshotBuilder("a").build()]), WRITE)  # retired
    assert labels(embedded, "first_name") == []
    described(embedded, "a", "sales.second_name", description="renamed")
    assert labels(embedded, "renamed") == ["pg://db/sales.second_name"]


def test_nodes_a_write_inserts_have_no_search_rows_to_delete(embedded: EmbeddedStore) -> None:
    statements: list[str] = []
    embedded.connection().set_trace_callback(statements.append)
    try:
        described(embedded, "a", "sales.new_table", description="first said")
    finally:
        embedded.connection().set_trace_callback(None)
    assert not [s for s in statements if s.startswith("DELETE FROM node_search")]
    assert labels(embedded, "first said") == ["pg://db/sales.new_table"]


def test_a_node_written_twice_in_one_transaction_keeps_one_search_row(
    embedded: EmbeddedStore,
) -> None:
    def twice(tx: WriteTx) -> None:
        for description in ("first said", "then said"):
            builder = SnapshotBuilder("a")
            builder.node(dataset_ref("pg://db", "sales.orders"), description=description)
            apply_batch(tx, Batch(snapshots=[builder.build()]), WRITE)

    embedded.write(twice)
    assert labels(embedded, "then said") == ["pg://db/sales.orders"]
    assert labels(embedded, "first") == []


def test_a_store_migrated_to_search_is_indexed_whole(demo_store: EmbeddedStore) -> None:
    run_sql(demo_store.path, "DROP TABLE node_search",
            "DELETE FROM schema_migrations WHERE version = 3")  # fmt: skip
    demo_store.close()
    reopened = EmbeddedStore(demo_store.path)
    assert reopened.migrate() == ["0003_search"]
    assert labels(reopened, "fct_orders")[0] == f"{NAMESPACE}/analytics.marts.fct_orders"
    reopened.close()


def test_a_text_without_a_word_is_an_error_not_an_empty_answer(
    demo_store: EmbeddedStore,
) -> None:
    with pytest.raises(InvalidArgument, match="nothing to search for"):
        catalog.search(demo_store, " ._- ")


@pytest.fixture
def endpoint(demo_store: EmbeddedStore) -> Iterator[str]:
    with running(create_app(demo_store)) as url:
        yield url


def test_search_over_graphql(endpoint: str) -> None:
    query = 'query { search(text: "fct_orders", kind: "DATASET") { label kind } }'
    body = httpx.post(f"{endpoint}/graphql", json={"query": query}).json()
    assert body["data"]["search"][0] == {
        "label": f"{NAMESPACE}/analytics.marts.fct_orders",
        "kind": "DATASET",
    }


def test_an_unknown_kind_is_an_invalid_argument(endpoint: str) -> None:
    query = 'query { search(text: "x", kind: "TABLE") { label } }'
    body = httpx.post(f"{endpoint}/graphql", json={"query": query}).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_the_cli_searches_and_says_when_nothing_matches(demo_store: EmbeddedStore) -> None:
    home = Path(demo_store.path).parent
    found = json.loads(baton(home, "search", "fct_orders", "--json").stdout)
    assert found[0]["id"] == f"{NAMESPACE}/analytics.marts.fct_orders"
    nothing = baton(home, "search", "zzzqqq")
    assert nothing.exit_code == 1 and "nothing in the catalog matches" in nothing.output
    near = baton(home, "search", "fct_ordrs")
    assert near.exit_code == 1 and "did you mean" in near.output and "fct_orders" in near.output


_SEARCH_ROWS_WITH_IDS = """
SELECT s.rowid, n.id, s.name, s.leaf, s.kindtag, s.description, s.tags, s.key, s.kind,
       s.exact_namespace
FROM node_search s LEFT JOIN nodes n ON n.key = s.key ORDER BY s.key
"""


def _search_rows(store: EmbeddedStore) -> list[tuple[object, ...]]:
    """Every search row with its rowid and the id of the node its key names."""
    return store.connection().execute(_SEARCH_ROWS_WITH_IDS).fetchall()


def test_a_node_s_search_row_is_stored_under_the_node_s_id(demo_store: EmbeddedStore) -> None:
    rows = _search_rows(demo_store)
    assert rows
    assert [(rowid, node_id) for rowid, node_id, *_ in rows] == [(r[1], r[1]) for r in rows]


def test_a_store_whose_search_rows_predate_node_ids_is_renumbered_by_migration(
    demo_store: EmbeddedStore,
) -> None:
    before = _search_rows(demo_store)
    columns = "name, leaf, kindtag, description, tags, key, kind, exact_namespace"
    run_sql(
        demo_store.path,
        f"CREATE TABLE earlier AS SELECT rowid + 1000 AS id, {columns} FROM node_search",  # noqa: S608
        "DELETE FROM node_search",
        f"INSERT INTO node_search (rowid, {columns}) SELECT id, {columns} FROM earlier",  # noqa: S608
        "DROP TABLE earlier",
        "DELETE FROM schema_migrations WHERE version = 6",
    )
    demo_store.close()
    reopened = EmbeddedStore(demo_store.path)
    assert reopened.migrate() == ["0006_search_rows_by_node_id"]
    assert _search_rows(reopened) == before
    reopened.close()


def _steps_of(store: EmbeddedStore, unit: Callable[[], object]) -> int:
    """SQLite virtual-machine steps (in hundreds) `unit` takes on `store`'s connection."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store.connection().set_progress_handler(count, 100)
    try:
        unit()
    finally:
        store.connection().set_progress_handler(None, 0)
    return steps


@pytest.fixture
def small_and_large(embedded: EmbeddedStore, tmp_path: Path) -> Iterator[list[EmbeddedStore]]:
    """Two catalogs of described tables named `sales.table_N`: 10 and 2,000 of them."""
    large = EmbeddedStore(tmp_path / "large" / "baton.db")
    stores = [embedded, large]
    for store, datasets in zip(stores, (10, 2000), strict=True):
        store.migrate()
        builder = SnapshotBuilder("many")
        for i in range(datasets):
            builder.node(dataset_ref("pg://db", f"sales.table_{i}"), description=f"table {i}")
        write_batch(store, Batch(snapshots=[builder.build()]), WRITE)
    yield stores
    large.close()


def test_a_write_s_search_upkeep_does_not_grow_with_the_catalog(
    small_and_large: list[EmbeddedStore],
) -> None:
    small, large = (
        _steps_of(store, partial(described, store, "one", "sales.table_5", description="again"))
        for store in small_and_large
    )
    assert large <= 2 * small, (small, large)


def test_exact_name_candidates_are_looked_up_by_last_name_part_not_by_word(
    embedded: EmbeddedStore,
) -> None:
    """Through the word index, a common word (`col`, `table`) read every name holding it:
    19 s in the 10x catalog. The leaf index's expression must match the query's."""
    plan = embedded.connection().execute(
        "EXPLAIN QUERY PLAN " + _SEARCH_NAMED, {"leaf": "table", "namespace": None}
    )
    assert "SEARCH nodes USING INDEX nodes_by_leaf (<expr>=?)" in [step for *_, step in plan]
