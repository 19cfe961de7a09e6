"""Signing in, and signing a handoff, from the console."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_signing_in_leaves_only_an_http_only_strict_session_cookie(
    page: Page, approver_token: str
) -> None:
    sign_in(page, approver_token)
    cookies = page.context.cookies()
    assert [(c["name"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("baton_session", True, "Strict")
    ]
    assert approver_token not in str(cookies)
    stored = page.evaluate("() => JSON.stringify([{...localStorage}, {...sessionStorage}])")
    assert approver_token not in stored
    assert page.evaluate("() => localStorage.length") == 0
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_token_is_refused_with_a_reason(page: Page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Token").fill("baton_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    assert page.context.cookies() == [] or all(
        c["name"] != "baton_session" for c in page.context.cookies()
    )


def test_signing_out_ends_the_session(page: Page, approver_token: str) -> None:
    sign_in(page, approver_token)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_an_approver_signs_a_handoff_from_the_page_and_the_gate_opens(
    page: Page, approver_token: str, engineering_handoff: str
) -> None:
    sign_in(page, approver_token, then=f"/handoffs/{engineering_handoff}")
    expect(page.get_by_role("status")).to_contain_text("Gate closed")
    page.get_by_label("Sign-off", exact=True).select_option("engineering")
    page.get_by_label("Comment").fill("pipeline and tests reviewed")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("Gate open")
    expect(page.locator("td.signoff-current")).to_have_text("CURRENT")


def test_a_sign_without_the_forms_csrf_secret_is_refused(
    page: Page, approver_token: str, engineering_handoff: str
) -> None:
    sign_in(page, approver_token)
    forged = page.request.post(
        f"/handoffs/{engineering_handoff}/sign",
        form={"signoff": "engineering", "decision": "reject", "comment": "forged"},
    )
    assert forged.status == 403


def test_a_reader_sees_no_sign_form_but_a_way_to_sign_in(
    page: Page, engineering_handoff: str
) -> None:
    page.goto(f"/handoffs/{engineering_handoff}")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in").last).to_be_visible()
