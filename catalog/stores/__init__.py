"""Store adapters behind the `Store` protocol, and the one place that picks one."""

from __future__ import annotations

from catalog.config import Settings
from catalog.errors import NotFound
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store


def open_store(
    settings: Settings, *, migrate: bool = True, create: bool = True, serving: bool = False
) -> Store:
    """Open the configured store, applying pending migrations unless told not to; with
    `create` off, an embedded store that does not exist yet is `NotFound`. `serving`:
    for a long-running server (the embedded store then walks over an in-memory index)."""
    store: Store
    if settings.store == "neo4j":
        from catalog.stores.neo4j.store import Neo4jStore  # the driver only when used

        assert settings.neo4j is not None
        store = Neo4jStore(settings.neo4j, read_timeout=settings.query_timeout)
    else:
        if not create and not settings.database.exists():
            raise NotFound(
                f"no Baton store at {settings.database} (from --home, BATON_HOME or the "
                "working directory): check the path, or create one by ingesting something "
                "or with `baton migrate`"
            )
        store = EmbeddedStore(
            settings.database,
            read_timeout=settings.query_timeout,
            write_wait=settings.write_wait,
            walk_index=serving,
        )
    if migrate:
        store.migrate()
    return store
