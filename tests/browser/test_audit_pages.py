"""Time travel in the explorer, and the audit browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

NODE_NAMES = "() => batonExplorer.nodes().map(n => n.data('name')).sort()"


def test_moving_as_of_to_before_an_edit_shows_the_old_edge(page: Page, edited_project: str) -> None:
    page.goto(f"/lineage?namespace={edited_project}&name=t_out&column=x&direction=UPSTREAM")
    page.wait_for_function("() => window.batonExplorer")
    assert page.evaluate(NODE_NAMES) == ["t_in.b", "t_out.x"]
    before_edit = page.locator("#as_of option", has_text="before the edit").get_attribute("value")
    assert before_edit
    page.get_by_label("As of").select_option(before_edit)
    page.wait_for_url("**as_of=*")
    page.wait_for_function("() => window.batonExplorer")
    assert page.evaluate(NODE_NAMES) == ["t_in.a", "t_out.x"]
    expect(page.locator("#graph-status")).to_contain_text("as the catalog knew it")


def test_the_audit_browser_lists_entries_newest_first_and_filters_them(page: Page) -> None:
    page.goto("/ledger")
    expect(page.get_by_role("status")).to_contain_text("Chain intact")
    expect(page.get_by_role("status")).to_contain_text("Every entry hashed at")
    numbers = [
        int(n) for n in page.locator("table.entries tbody tr td:first-child").all_inner_texts()
    ]
    assert numbers == sorted(numbers, reverse=True)
    page.get_by_label("Owner").fill("team:finance-data")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile("owner=team%3Afinance-data"))
    expect(page.locator("table.entries tbody tr")).not_to_have_count(0)


def test_an_entry_page_shows_each_assertion_before_and_after(page: Page) -> None:
    page.goto("/ledger/2")
    expect(page.get_by_role("heading", level=1)).to_have_text("Entry #2")
    expect(page.locator("tbody tr").first).to_contain_text("added")
