"""The alert pages in a real browser, over the demo catalog (whose next-day run fails a
`unique` check), with the network cut."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import baton_in, serious_violations, sign_in

FAILED_CHECK = "Check unique failed on snowflake://acme-xy12345/ANALYTICS.RAW.ORDERS.ORDER_ID"


@pytest.fixture(scope="session")
def editor_token(demo_home: Path) -> str:
    return baton_in(demo_home, "token", "create", "ops-editor", "--role", "editor")


def open_failed_check(page: Page) -> None:
    page.goto("/alerts")
    page.get_by_role("link", name=FAILED_CHECK).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FAILED_CHECK)


def test_the_demos_failed_check_is_a_firing_alert_with_what_was_seen(page: Page) -> None:
    open_failed_check(page)
    expect(page.locator(".lead")).to_contain_text("firing")
    expect(page.get_by_role("row", name="status fail")).to_be_visible()
    page.get_by_role("link", name="snowflake://acme-xy12345/ANALYTICS.RAW.ORDERS.ORDER_ID").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ANALYTICS.RAW.ORDERS")


def test_the_alert_page_has_no_serious_accessibility_violations(page: Page) -> None:
    open_failed_check(page)
    assert serious_violations(page) == []


def test_a_reader_sees_no_acknowledge_button(page: Page) -> None:
    open_failed_check(page)
    expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)


def test_an_editor_acknowledges_an_alert_from_its_page(page: Page, editor_token: str) -> None:
    sign_in(page, editor_token)
    open_failed_check(page)
    page.get_by_role("button", name="Acknowledge as token:ops-editor").click()
    expect(page.locator(".lead")).to_contain_text("acknowledged by token:ops-editor")


def test_the_dataset_page_shows_its_firing_alerts(page: Page) -> None:
    page.goto("/datasets/ANALYTICS.RAW.ORDERS?namespace=snowflake://acme-xy12345")
    alerts = page.get_by_role("region", name="Firing alerts")
    expect(alerts.get_by_role("link", name=FAILED_CHECK)).to_be_visible()
