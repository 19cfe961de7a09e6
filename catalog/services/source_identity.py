"""Moving SQL lineage written before sources had stable identities to the identities it
would have now (`sql:/abs/checkout/examples/warehouse/marts/x.sql` becomes
`sql:warehouse:marts/x.sql`, and its jobs with it), in one ledger entry.

Which part of an old path is the project comes from the ledger: each SQL ingest recorded
the folders it was given (`sql examples/warehouse`), so a file under one of them belongs
to that folder's project. The old sources end (their history stays readable); the same
assertions start under the new identities, so re-ingesting the folder from anywhere
afterwards changes nothing.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from catalog.domain import Assertion, Batch, NodeKind, NodeRef, SourceSnapshot
from catalog.ledger import ChangeOp
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters.sql.files import SOURCE_PREFIX, identity, is_project_identity

INGEST_LABEL = "sql "
"""How SQL ingests label their ledger entries, followed by the paths they were given."""


def legacy_sources(store: Store) -> list[str]:
    """Open `sql:` sources still named by the path as typed."""
    opened = store.write(lambda tx: tx.open_sources(SOURCE_PREFIX))
    return [s for s in opened if not is_project_identity(s.removeprefix(SOURCE_PREFIX))]


def migrate(store: Store, *, actor: str) -> WriteResult | None:
    """Rewrite every legacy SQL source to its project identity; None when there is none."""
    legacy = legacy_sources(store)
    if not legacy:
        return None
    roots = _ingested_roots(store)
    renamed = {
        s: SOURCE_PREFIX + _identity_of(s.removeprefix(SOURCE_PREFIX), roots) for s in legacy
    }
    rewritten: dict[str, dict[tuple[str, str, str], Assertion]] = {}
    for source, assertions in _open_assertions(store, set(legacy)).items():
        old_path, new_path = source.removeprefix(SOURCE_PREFIX), renamed[source]
        new_path = new_path.removeprefix(SOURCE_PREFIX)
        moved = rewritten.setdefault(renamed[source], {})
        for assertion in assertions:
            copy = _moved(assertion, old_path, new_path)
            moved[copy.identity] = copy
    snapshots = [SourceSnapshot(source=s, assertions=[], complete=True) for s in legacy]
    snapshots += [
        SourceSnapshot(source=source, assertions=list(found.values()), complete=True)
        for source, found in rewritten.items()
    ]
    request = WriteRequest(
        actor, "migration:sql-source-identity", "SQL sources named by project and path"
    )
    return write_batch(store, Batch(snapshots=snapshots), request)


def _ingested_roots(store: Store) -> list[str]:
    """Every path SQL ingests were given, longest first (the most specific root wins)."""
    roots = {
        path
        for entry in store.ledger_entries()
        if entry.source.startswith(INGEST_LABEL)
        for path in entry.source.removeprefix(INGEST_LABEL).split(" ")
        if path
    }
    return sorted(roots, key=len, reverse=True)


def _identity_of(path: str, roots: list[str]) -> str:
    for root in roots:
        if path.startswith(root.rstrip("/") + "/"):
            return identity(PurePosixPath(root).name, path[len(root.rstrip("/")) + 1 :])
    file = PurePosixPath(path)
    return identity(file.parent.name or "sql", file.name)


def _open_assertions(store: Store, sources: set[str]) -> dict[str, list[Assertion]]:
    """The assertions of `sources` valid now, with their attributes, by replaying the
    entries that changed them."""
    valid: dict[tuple[str, str, str, str], Assertion] = {}
    for entry in store.ledger_entries():
        if not any(c.source in sources for c in entry.changes):
            continue
        for change in store.entry_changes(entry.seq, len(entry.changes) + 1):
            if change.source not in sources:
                continue
            obj = change.object.key if change.object else ""
            key = (change.source, change.kind, change.subject.key, obj)
            if change.op == ChangeOp.ENDED.value:
                valid.pop(key, None)
            else:
                valid[key] = Assertion(
                    kind=change.kind, subject=change.subject, object=change.object,
                    attrs=change.attrs,
                )  # fmt: skip
    found: dict[str, list[Assertion]] = {}
    for (source, *_), assertion in valid.items():
        found.setdefault(source, []).append(assertion)
    return found


def _moved(assertion: Assertion, old: str, new: str) -> Assertion:
    return Assertion(
        kind=assertion.kind,
        subject=_moved_ref(assertion.subject, old, new),
        object=_moved_ref(assertion.object, old, new) if assertion.object else None,
        attrs=_moved_value(assertion.attrs, old, new),
    )


def _moved_ref(ref: NodeRef, old: str, new: str) -> NodeRef:
    """A job named after its file (`path#table`) is renamed with the file."""
    if ref.kind is NodeKind.JOB and ref.name.startswith(old + "#"):
        name = new + ref.name[len(old) :]
        return NodeRef(kind=ref.kind, namespace=ref.namespace, name=name, column=ref.column)
    return ref


def _moved_value(value: Any, old: str, new: str) -> Any:
    """Attributes that name the file (`dropped_at: path:line`, a job's key) follow it."""
    if isinstance(value, str):
        return value.replace(old + "#", new + "#").replace(old + ":", new + ":")
    if isinstance(value, dict):
        return {k: _moved_value(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_moved_value(v, old, new) for v in value]
    return value
