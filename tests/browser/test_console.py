"""The console in a real browser, over the demo catalog, with the network cut."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Visit, serious_violations

ORDERS = "/datasets/analytics.marts.fct_orders?namespace=postgres://warehouse:5432"
NET_PAID = (
    "/lineage?namespace=postgres://warehouse:5432&name=analytics.marts.fct_orders"
    "&column=net_paid&direction=BOTH&depth=3"
)
PAGES = [
    "/", "/search?q=orders", ORDERS, NET_PAID, "/owners/team:finance-data",
    "/impact?target=staging.stg_orders.status&change=DROP_COLUMN", "/handoffs",
    "/handoffs/orders-prod", "/ledger", "/ledger/2", "/sign-in", "/alerts",
    "/alerts?status=all",
]  # fmt: skip


def test_search_finds_a_dataset_by_a_partial_lower_case_name_as_you_type(page: Page) -> None:
    page.goto("/")
    page.get_by_label("Name, description or tag").press_sequentially("fct_ord", delay=30)
    results = page.locator("#results")
    hit = results.get_by_role("link", name="dataset analytics.marts.fct_orders", exact=True)
    expect(hit).to_be_visible()
    expect(page).to_have_url(re.compile(r"/search\?q=fct_ord"))
    hit.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("analytics.marts.fct_orders")


def test_search_results_have_a_url_that_works_without_javascript(page: Page) -> None:
    page.goto("/search?q=PAYMENTS")
    expect(page.locator("#results")).to_contain_text("analytics.staging.stg_payments")


def test_a_search_matching_nothing_leads_to_what_it_may_have_meant(page: Page) -> None:
    page.goto("/search?q=fct_ordrs")
    expect(page.locator("#results")).to_contain_text("Did you mean")
    page.locator("#results").get_by_role("link", name="analytics.marts.fct_orders").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("analytics.marts.fct_orders")


def test_the_dataset_page_shows_owners_and_the_contract(page: Page) -> None:
    page.goto(ORDERS)
    owners = page.locator("section", has=page.get_by_role("heading", name="Owners"))
    expect(owners).to_contain_text("steward")
    expect(owners).to_contain_text("analytics-eng@acme.example")
    contracts = page.locator("section", has=page.get_by_role("heading", name="Contracts"))
    expect(contracts).to_contain_text("urn:acme:contract:fct-orders")
    expect(contracts).to_contain_text("UNDECLARED")


def test_an_unknown_dataset_page_is_a_404_naming_the_nearest(page: Page) -> None:
    response = page.goto("/datasets/fct_ordrs")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("did you mean")


VISIBLE_EDGES = "t => batonExplorer.edges(`[type = '${t}']`).filter(':visible').length"


def visible_edges(page: Page, edge_type: str) -> int:
    return int(page.evaluate(VISIBLE_EDGES, edge_type))


def wait_for_visible_edges(page: Page, edge_type: str, count: int) -> None:
    """Cytoscape restyles on its next frame: wait for it rather than read at once."""
    page.wait_for_function(
        f"([t, n]) => ({VISIBLE_EDGES})(t) === n", arg=[edge_type, count], timeout=5_000
    )


def test_the_explorer_draws_column_lineage_and_toggles_direct_and_indirect(page: Page) -> None:
    page.goto(NET_PAID)
    page.wait_for_function("() => window.batonExplorer && batonExplorer.nodes().length > 5")
    direct, indirect = visible_edges(page, "DIRECT"), visible_edges(page, "INDIRECT")
    assert direct > 0 and indirect > 0
    page.get_by_label("indirect").uncheck()
    wait_for_visible_edges(page, "INDIRECT", 0)
    assert visible_edges(page, "DIRECT") == direct
    page.get_by_label("indirect").check()
    wait_for_visible_edges(page, "INDIRECT", indirect)


def test_selecting_an_edge_shows_its_evidence(page: Page) -> None:
    page.goto(NET_PAID)
    page.wait_for_function("() => window.batonExplorer && batonExplorer.edges().length > 0")
    page.evaluate("() => batonExplorer.edges(`[type = 'DIRECT']`)[0].select()")
    expect(page.locator("#details")).to_contain_text(re.compile(r"sql:.*\.sql:\d+"))


def test_expanding_a_node_adds_the_next_hop(page: Page) -> None:
    page.goto(NET_PAID.replace("depth=3", "depth=1"))
    page.wait_for_function("() => window.batonExplorer && batonExplorer.nodes().length > 1")
    before = page.evaluate("() => batonExplorer.nodes().length")
    page.evaluate("() => batonExplorer.nodes().filter(n => n.data('depth') === -1)[0].select()")
    page.get_by_role("button", name="Expand upstream").click()
    expect(page.locator("#graph-status")).to_contain_text("added from")
    assert page.evaluate("() => batonExplorer.nodes().length") > before


def test_graphiql_runs_a_query_with_the_network_cut(page: Page) -> None:
    page.goto("/graphql?q=" + "{ search(text: %22fct_orders%22) { label } }")
    page.get_by_role("button", name=re.compile("Execute query")).click()
    expect(page.locator(".graphiql-response")).to_contain_text("analytics.marts.fct_orders")


def test_the_api_description_renders_with_the_network_cut(page: Page) -> None:
    page.goto("/docs")
    expect(page.get_by_text("/api/v1/lineage").first).to_be_visible()


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_serious_accessibility_violations(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert serious_violations(page) == []


@pytest.mark.parametrize("path", [*PAGES, "/graphql", "/docs"])
def test_pages_run_without_script_errors_or_policy_violations(
    page: Page, visit: Visit, path: str
) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert visit.errors == []


def test_the_dataset_page_shows_each_checks_latest_outcome(page: Page) -> None:
    page.goto("/datasets/ANALYTICS.RAW.ORDERS?namespace=snowflake://acme-xy12345")
    checks = page.locator("ul.checks")
    expect(checks.locator("li", has_text="unique")).to_contain_text("fail")
    expect(checks.locator("li", has_text="not_null")).to_contain_text("success")


def test_the_dataset_history_links_to_its_ledger_entries(page: Page) -> None:
    page.goto(ORDERS)
    history = page.locator("section", has=page.get_by_role("heading", name="History"))
    history.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Entry #\d+"))


TABLE_LEVEL = (
    "/lineage?namespace=postgres://warehouse:5432&name=analytics.marts.fct_orders"
    "&direction=UPSTREAM&depth=1"
)


def test_a_table_node_expands_to_its_columns(page: Page) -> None:
    page.goto(TABLE_LEVEL)
    page.wait_for_function("() => window.batonExplorer")
    page.evaluate("() => batonExplorer.nodes('[?root]').select()")
    net_paid = page.locator("ul.columns-of").get_by_role("link", name="net_paid")
    net_paid.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("fct_orders.net_paid")


def test_the_graph_can_be_walked_with_the_keyboard(page: Page) -> None:
    page.goto(TABLE_LEVEL)
    page.wait_for_function("() => window.batonExplorer")
    page.get_by_role("application").focus()
    page.keyboard.press("n")
    selected = page.evaluate("() => batonExplorer.nodes(':selected').map(n => n.data('name'))")
    assert len(selected) == 1
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(selected[0])
