"""What every GraphQL resolver reads from the request context."""

from __future__ import annotations

from strawberry.types import Info

from catalog.stores.protocol import Store


def store_of(info: Info) -> Store:
    store: Store = info.context["store"]
    return store
