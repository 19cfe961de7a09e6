"""Store adapters behind the `Store` protocol, and the one place that picks one."""

from __future__ import annotations

from catalog.config import Settings
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """Open the configured store, applying pending migrations unless told not to."""
    store: Store
    if settings.store == "neo4j":
        from catalog.stores.neo4j.store import Neo4jStore  # the driver only when used

        assert settings.neo4j is not None
        store = Neo4jStore(settings.neo4j, read_timeout=settings.query_timeout)
    else:
        store = EmbeddedStore(
            settings.database, read_timeout=settings.query_timeout, write_wait=settings.write_wait
        )
    if migrate:
        store.migrate()
    return store
