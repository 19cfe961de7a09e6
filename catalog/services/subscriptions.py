"""Alert subscriptions kept in the graph: from subscription files (`baton ingest
subscriptions`) and GraphQL, each change a ledger entry naming who made it. Routing reads
them with the alerts file's own (docs/alerts.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from catalog.alerts.settings import Subscription
from catalog.domain import Batch, NodeKind, SourceSnapshot
from catalog.errors import InvalidArgument, NotFound
from catalog.services.scan import every
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import subscriptions as files

API_GROUP = "api"
"""The namespace of subscriptions set over GraphQL; each is its own source."""


def current(store: Store) -> list[Subscription]:
    """Every subscription the graph holds now, by group and name."""
    found = []
    for view in every(store, NodeKind.SUBSCRIPTION):
        try:
            found.append(Subscription.model_validate(view.attrs))
        except ValidationError:
            continue  # written by a newer Baton: not understood here, never half-applied
    return found


def ingest(store: Store, path: Path, *, actor: str, reason: str) -> WriteResult:
    """Replace what the file said before with what it says now."""
    parsed, errors = files.read_subscriptions(path)
    if parsed is None:
        raise InvalidArgument("; ".join(str(e) for e in errors))
    batch = Batch(snapshots=[files.snapshot(parsed.name, parsed.subscriptions)])
    source = f"subscriptions {path.as_posix()}"
    return write_batch(store, batch, WriteRequest(actor=actor, source=source, reason=reason))


def put(store: Store, subscription: Subscription, *, actor: str, reason: str) -> WriteResult:
    """Set one subscription over the API (replacing one of the same name)."""
    snapshot = files.snapshot(f"{API_GROUP}/{subscription.name}", [subscription])
    return _write(store, snapshot, actor, reason)


def remove(store: Store, name: str, *, actor: str, reason: str) -> WriteResult:
    """End a subscription set over the API; NOT_FOUND when there is none of that name."""
    if name not in {s.name for s in _api(store)}:
        known = ", ".join(sorted(s.name for s in _api(store))) or "none"
        raise NotFound(f"no subscription {name!r} was set over the API (set: {known})")
    empty = SourceSnapshot(source=_source(name), assertions=[], complete=True)
    return _write(store, empty, actor, reason)


def _api(store: Store) -> list[Subscription]:
    return [
        Subscription.model_validate(v.attrs)
        for v in every(store, NodeKind.SUBSCRIPTION)
        if v.ref.namespace.startswith(f"{API_GROUP}/")
    ]


def _source(name: str) -> str:
    """The source a subscription set over the API is (as `files.snapshot` names it)."""
    return f"{files.SOURCE_PREFIX}{API_GROUP}/{name}"


def _write(store: Store, snapshot: SourceSnapshot, actor: str, reason: str) -> WriteResult:
    request = WriteRequest(actor=actor, source="subscriptions", reason=reason)
    return write_batch(store, Batch(snapshots=[snapshot]), request)
