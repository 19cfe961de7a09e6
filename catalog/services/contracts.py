"""Contract use cases: publish versions (immutable, semver-checked), read them back,
compare two, and compare one with what the catalog knows of its datasets (drift)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from catalog import compatibility
from catalog.compatibility import Change
from catalog.contracts import ContractVersion, contract_ref
from catalog.domain import Batch, EdgeKind, NodeKind, NodeRef, SnapshotBuilder
from catalog.errors import BatonError, InvalidArgument, NotFound
from catalog.services import catalog, suggestions
from catalog.services.limits import check_range
from catalog.services.scan import every
from catalog.stores.protocol import Direction, NodeView, Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import contracts as contract_ingester

_FIELDS = frozenset(ContractVersion.model_fields)
MAX_CONTRACT_ID_LENGTH = 1_000
"""Longer ids are refused before the store is searched (SQLite bounds LIKE patterns)."""


class ContractRejected(BatonError):
    """A publish that would break the rules; `problems` lists every reason."""

    code = "CONTRACT_REJECTED"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _version_of(view: NodeView) -> ContractVersion:
    return ContractVersion.model_validate({k: v for k, v in view.attrs.items() if k in _FIELDS})


def versions(
    store: Store, contract_id: str, as_of: datetime | None = None
) -> list[ContractVersion]:
    """Every version of a contract published (by `as_of`), oldest semantic version first."""
    check_range("contract id length", len(contract_id), MAX_CONTRACT_ID_LENGTH)
    seq = store.seq_at(as_of) if as_of else None
    found = store.find_nodes(NodeKind.CONTRACT, search=contract_id, limit=10_000, as_of=seq)
    published = [
        _version_of(v) for v in found if v.ref.namespace == contract_id and "version" in v.attrs
    ]
    return sorted(published, key=lambda v: v.semver)


def all_versions(store: Store) -> list[ContractVersion]:
    """Every version of every contract published."""
    return [_version_of(v) for v in every(store, NodeKind.CONTRACT) if "version" in v.attrs]


def published(
    store: Store, contract_id: str, as_of: datetime | None = None
) -> list[ContractVersion]:
    """`versions`, or NOT_FOUND (with the nearest ids) for a contract never published."""
    found = versions(store, contract_id, as_of)
    if not found:
        near = suggestions.near_contracts(store, contract_id)
        raise suggestions.not_found(f"no contract {contract_id} in the catalog", near)
    return found


def version(
    store: Store, contract_id: str, number: str | None = None, as_of: datetime | None = None
) -> ContractVersion:
    """One version; the latest (published by `as_of`) when `number` is None."""
    if number is not None:
        found = store.nodes(
            [contract_ref(contract_id, number)], store.seq_at(as_of) if as_of else None
        )
        if not found or "version" not in found[0].attrs:
            raise NotFound(f"no version {number} of contract {contract_id}")
        return _version_of(found[0])
    return published(store, contract_id, as_of)[-1]


def of_dataset(
    store: Store, dataset: NodeRef, as_of: datetime | None = None
) -> list[ContractVersion]:
    """The contract versions (ODCS and dbt) the dataset publishes (as of an instant)."""
    seq = store.seq_at(as_of) if as_of else None
    sub = store.subgraph(
        [dataset], kinds=[EdgeKind.HAS_CONTRACT.value], direction=Direction.DOWNSTREAM,
        depth=1, limit=10_000, as_of=seq,
    )  # fmt: skip
    refs = [e.object for e in sub.edges]
    views = [v for v in store.nodes(refs, seq) if v.attrs.keys() >= {"contract_id", "version"}]
    return sorted((_version_of(v) for v in views), key=lambda v: (v.contract_id, v.semver))


def publish(
    store: Store, published: Sequence[ContractVersion], *, actor: str, reason: str
) -> WriteResult:
    """Write new versions in one ledger entry, or none of them.

    Refused, with every reason: a published version whose content changed (versions are
    immutable), and a version with breaking changes from the version before it that keeps
    the major number. Re-publishing an identical version changes nothing.
    """
    problems: list[str] = []
    for contract_id in sorted({v.contract_id for v in published}):
        problems += _check(
            versions(store, contract_id), [v for v in published if v.contract_id == contract_id]
        )
    if problems:
        raise ContractRejected(problems)
    batch = Batch(snapshots=[contract_ingester.snapshot(v) for v in published])
    return write_batch(store, batch, WriteRequest(actor=actor, source="contracts", reason=reason))


def _check(known: list[ContractVersion], new: list[ContractVersion]) -> list[str]:
    problems: list[str] = []
    by_number = {v.version: v for v in known}
    for candidate in sorted(new, key=lambda v: v.semver):
        where = f"{candidate.source_file}: " if candidate.source_file else ""
        label = f"{candidate.contract_id} {candidate.version}"
        existing = by_number.get(candidate.version)
        if existing is not None:
            if existing.digest != candidate.digest:
                problems.append(
                    f"{where}{label} is already published with other content; "
                    "published versions are immutable, so publish a new version"
                )
            continue
        before = [v for v in by_number.values() if v.semver < candidate.semver]
        if before:
            previous = max(before, key=lambda v: v.semver)
            breaking = [c for c in compatibility.diff(previous, candidate) if c.breaking]
            if breaking and candidate.semver[0] == previous.semver[0]:
                problems.append(
                    f"{where}{label} has breaking changes from {previous.version} but keeps "
                    f"major version {candidate.semver[0]}: " + "; ".join(str(c) for c in breaking)
                )
        by_number[candidate.version] = candidate
    return problems


PIN_SOURCE_PREFIX = "contract-pin:"
PINNABLE = (NodeKind.JOB, NodeKind.CONSUMER, NodeKind.DATASET)


@dataclass(frozen=True)
class Pin:
    dependent: NodeRef
    contract_id: str
    version: str
    source: str


def _pin_source(dependent: NodeRef, contract_id: str) -> str:
    return f"{PIN_SOURCE_PREFIX}{dependent.key}->{contract_id}"


def pin(
    store: Store, dependent: NodeRef, contract_id: str, number: str, *, actor: str, reason: str
) -> WriteResult:
    """Declare that a job, consumer or dataset relies on one published version of a
    contract (replacing the version it relied on before: one pin per contract)."""
    if dependent.kind not in PINNABLE:
        raise InvalidArgument(
            f"only jobs, consumers and datasets depend on contracts, not {dependent.kind.value}"
        )
    if not store.nodes([dependent]):
        raise NotFound(f"no {dependent.kind.value.lower()} {dependent} in the catalog")
    contract = version(store, contract_id, number)
    builder = SnapshotBuilder(_pin_source(dependent, contract_id))
    builder.edge(EdgeKind.DEPENDS_ON, builder.node(dependent), builder.node(contract.ref))
    batch = Batch(snapshots=[builder.build()])
    return write_batch(
        store, batch, WriteRequest(actor=actor, source="contract pin", reason=reason)
    )


def unpin(
    store: Store, dependent: NodeRef, contract_id: str, *, actor: str, reason: str
) -> WriteResult:
    """End a dependent's pin on a contract (history keeps it)."""
    empty = SnapshotBuilder(_pin_source(dependent, contract_id)).build()
    return write_batch(
        store,
        Batch(snapshots=[empty]),
        WriteRequest(actor=actor, source="contract pin", reason=reason),
    )


def dependents(store: Store, contract_id: str) -> list[Pin]:
    """Who relies on which version of a contract."""
    pins = []
    for published in versions(store, contract_id):
        for edge in store.edge_history(published.ref):
            if edge.kind == EdgeKind.DEPENDS_ON.value and edge.valid_to is None:
                pins.append(Pin(edge.subject, contract_id, published.version, edge.source))
    return sorted(pins, key=lambda p: (str(p.dependent), p.version))


def compare(store: Store, contract_id: str, old: str, new: str) -> list[Change]:
    return compatibility.diff(version(store, contract_id, old), version(store, contract_id, new))


class DriftKind(StrEnum):
    MISSING = "MISSING"  # the contract declares a column the dataset does not have
    UNDECLARED = "UNDECLARED"  # the dataset has a column the contract does not declare
    TYPE_MISMATCH = "TYPE_MISMATCH"  # both have it, with types that differ
    UNKNOWN_DATASET = "UNKNOWN_DATASET"  # the catalog knows nothing of the dataset


@dataclass(frozen=True)
class Drift:
    kind: DriftKind
    dataset: NodeRef
    column: str | None = None
    contract_type: str | None = None
    catalog_type: str | None = None

    def __str__(self) -> str:
        where = f"{self.dataset}" + (f".{self.column}" if self.column else "")
        types = (
            f" (contract {self.contract_type}, catalog {self.catalog_type})"
            if self.kind is DriftKind.TYPE_MISMATCH
            else ""
        )
        return f"{self.kind.value} {where}{types}"


def drift(store: Store, contract_id: str, number: str | None = None) -> list[Drift]:
    """How the catalog's view of each dataset differs from the contract version."""
    contract = version(store, contract_id, number)
    found: list[Drift] = []
    for dataset in contract.datasets:
        view = store.nodes([dataset.ref])
        if not view or all(s.startswith(contract_ingester.SOURCE_PREFIX) for s in view[0].sources):
            found.append(Drift(DriftKind.UNKNOWN_DATASET, dataset.ref))
            continue
        known = {
            str(c.ref.column): c.attrs.get("data_type") for c in catalog.columns(store, dataset.ref)
        }
        declared = {c.name: c for c in dataset.columns}
        for name in declared.keys() - known.keys():
            found.append(Drift(DriftKind.MISSING, dataset.ref, name))
        for name in known.keys() - declared.keys():
            found.append(Drift(DriftKind.UNDECLARED, dataset.ref, name))
        for name in declared.keys() & known.keys():
            wanted, actual = declared[name].physical_type, known[name]
            if wanted and isinstance(actual, str) and not compatibility.same_type(wanted, actual):
                found.append(Drift(DriftKind.TYPE_MISMATCH, dataset.ref, name, wanted, actual))
    return sorted(found, key=lambda d: (str(d.dataset), d.column or "", d.kind.value))
