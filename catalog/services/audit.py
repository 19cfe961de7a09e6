"""The auditor's side of the ledger: browsing it and proving it intact."""

from __future__ import annotations

from dataclasses import replace

from catalog.ledger import LedgerEntry, Verification, verify
from catalog.services.limits import DEFAULT_LIMITS, Limits, check_range
from catalog.stores.protocol import LedgerQuery, Store


def ledger_page(
    store: Store, query: LedgerQuery, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[LedgerEntry], bool]:
    """Entries matching `query`, and whether more follow."""
    check_range("first", query.limit, limits.max_page_size)
    found = store.ledger(replace(query, limit=query.limit + 1))
    return found[: query.limit], len(found) > query.limit


def verify_ledger(store: Store) -> Verification:
    return verify(store.ledger_entries())
