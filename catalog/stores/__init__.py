"""Store adapters behind the `Store` protocol, and the one place that picks one."""

from __future__ import annotations

from catalog.config import Settings
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """Open the configured store, applying pending migrations unless told not to."""
    store = EmbeddedStore(settings.database, read_timeout=settings.query_timeout)
    if migrate:
        store.migrate()
    return store
