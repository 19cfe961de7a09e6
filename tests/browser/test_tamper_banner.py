"""The audit browser over a store whose ledger was edited behind Baton's back (its own
server: the shared demo must stay intact for the other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import copy_of
from tests.conftest import run_sql, serving


@pytest.fixture
def served(demo_home: Path, tmp_path: Path) -> Iterator[str]:
    """A copy of the demo whose ledger entry 2 was edited behind Baton's back."""
    home = copy_of(demo_home, tmp_path / "tampered")
    run_sql(
        home / "baton.db",
        "DROP TRIGGER ledger_no_update",
        "UPDATE ledger SET reason = 'nothing to see' WHERE seq = 2",
    )
    with serving(home) as url:
        yield url


def test_the_audit_browser_shows_the_tamper_banner_after_a_row_is_altered(page: Page) -> None:
    page.goto("/ledger")
    expect(page.get_by_role("status")).to_contain_text("Tampering detected at entry #2")
