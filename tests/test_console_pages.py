"""Console routes over plain HTTP: errors are pages for people and JSON for scripts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from catalog.api.app import create_app
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import run_sql, running


@pytest.fixture
def console(demo_store: EmbeddedStore) -> Iterator[str]:
    with running(create_app(demo_store)) as url:
        yield url


def test_a_near_miss_dataset_name_is_a_404_page_naming_the_nearest(console: str) -> None:
    answer = httpx.get(f"{console}/datasets/fct_ordrs")
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]
    assert "did you mean" in answer.text and "analytics.marts.fct_orders" in answer.text


def test_a_search_matching_nothing_links_the_names_it_may_have_meant(console: str) -> None:
    answer = httpx.get(f"{console}/search", params={"q": "fct_ordrs"})
    assert answer.status_code == 200
    assert "Nothing matches" in answer.text and "Did you mean" in answer.text
    assert '<a href="/datasets/analytics.marts.fct_orders?namespace=' in answer.text


def test_the_explorers_json_routes_answer_errors_in_json(console: str) -> None:
    answer = httpx.get(f"{console}/lineage.json", params={"namespace": "x", "name": "y"})
    assert answer.status_code == 404
    assert answer.json() == {"error": "no dataset x/y in the catalog"}
    assert httpx.get(f"{console}/columns.json", params={"namespace": "x"}).status_code == 400


def test_a_bad_parameter_is_a_400_page_naming_it(console: str) -> None:
    answer = httpx.get(f"{console}/ledger", params={"before": "abc"})
    assert answer.status_code == 400
    assert "before:" in answer.text


@pytest.fixture
def garbled_ledger(demo_store: EmbeddedStore) -> EmbeddedStore:
    """The demo store with its first ledger entry's changes overwritten by other means."""
    run_sql(demo_store.path, "DROP TRIGGER ledger_no_update",
            "UPDATE ledger SET changes = 'not json' WHERE seq = 1")  # fmt: skip
    return demo_store


def test_the_ledger_page_lists_an_entry_edited_outside_baton_as_where_tampering_starts(
    garbled_ledger: EmbeddedStore, console: str
) -> None:
    answer = httpx.get(f"{console}/ledger")
    assert answer.status_code == 200
    assert "Tampering detected" in answer.text and "entry 1 cannot be read" in answer.text


def test_the_changes_of_an_entry_edited_outside_baton_are_data_loss_over_graphql(
    garbled_ledger: EmbeddedStore, console: str
) -> None:
    query = "{ ledger(first: 5) { entries { seq changes { op } } } }"
    answer = httpx.post(f"{console}/graphql", json={"query": query})
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "DATA_LOSS"
    assert error["message"].startswith("entry 1 cannot be read")


@pytest.mark.parametrize("path", ["/", "/ledger", "/datasets/analytics.marts.fct_orders"])
def test_pages_listing_entries_show_them_without_reading_their_changes(
    path: str, garbled_ledger: EmbeddedStore, console: str
) -> None:
    answer = httpx.get(f"{console}{path}")
    assert answer.status_code == 200
    assert '<a href="/ledger/1">1</a>' in answer.text


def test_a_listed_entry_whose_changes_and_summary_cannot_be_read_is_a_500_page_naming_it(
    garbled_ledger: EmbeddedStore, console: str
) -> None:
    run_sql(garbled_ledger.path, "DROP TRIGGER ledger_summaries_no_delete",
            "DELETE FROM ledger_summaries WHERE seq = 1")  # fmt: skip
    answer = httpx.get(f"{console}/ledger")
    assert answer.status_code == 500
    assert "Stored data is damaged" in answer.text and "entry 1 cannot be read" in answer.text
