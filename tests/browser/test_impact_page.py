"""The impact page: the CLI's report, in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect


def test_dropping_a_column_a_contract_depends_on_is_reported_breaking(page: Page) -> None:
    page.goto("/impact")
    page.get_by_label("Dataset or column").fill("staging.stg_orders.status")
    page.get_by_label("Change").select_option("DROP_COLUMN")
    page.get_by_role("button", name="Analyse", exact=True).click()
    report = page.locator("section.report")
    expect(report.locator(".severity")).to_have_text("BREAKING")
    expect(report).to_contain_text("urn:acme:contract:fct-orders")
    expect(report).to_contain_text("team/analytics-engineering")


def test_the_report_url_can_be_shared(page: Page) -> None:
    page.goto("/impact?target=staging.stg_orders.status&change=DROP_COLUMN")
    expect(page.locator(".severity")).to_have_text("BREAKING")


def test_the_markdown_of_the_report_is_offered_to_copy(page: Page) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/impact?target=staging.stg_orders.status&change=DROP_COLUMN")
    page.get_by_role("button", name="Copy as Markdown").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith("#") and "breaking" in copied.lower()


def test_an_unknown_column_is_an_error_naming_the_nearest(page: Page) -> None:
    response = page.goto("/impact?target=staging.stg_orders.statuz&change=DROP_COLUMN")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("status")
