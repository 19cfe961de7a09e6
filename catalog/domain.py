"""The catalog's vocabulary: nodes, edges, and the batches ingesters hand to the write path.

Identity follows the OpenLineage naming rules: datasets and jobs are (namespace, name);
a column is its dataset's identity plus the column name. Everything a source says is an
*assertion* (a fact about a node, or an edge between two nodes) carried in that source's
snapshot; the write path turns snapshots into validity-stamped rows in a store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, model_validator

from catalog.errors import InvalidArgument

JsonObject = dict[str, Any]


class NodeKind(StrEnum):
    DATASET = "DATASET"
    COLUMN = "COLUMN"
    JOB = "JOB"
    CONSUMER = "CONSUMER"
    OWNER = "OWNER"
    RUN = "RUN"  # one execution of a job (OpenLineage runId)
    CHECK = "CHECK"  # a data test or quality assertion (dbt test, OpenLineage assertion)
    CONTRACT = "CONTRACT"  # one immutable version of a dataset's interface
    HANDOFF = "HANDOFF"  # a data product moving between stages or owners, behind a gate
    SIGNOFF = "SIGNOFF"  # one immutable decision on a handoff
    ALERT = "ALERT"  # an incident or notice Baton raised, as its lifecycle records it
    SUBSCRIPTION = "SUBSCRIPTION"  # a route alerts take besides their owners (or a mute)


class EdgeKind(StrEnum):
    HAS_COLUMN = "HAS_COLUMN"  # Dataset -> Column
    READS = "READS"  # Job -> Dataset it reads
    WRITES = "WRITES"  # Job -> Dataset it writes
    FEEDS = "FEEDS"  # Dataset -> Dataset, derived from a job's reads and writes
    DERIVES = "DERIVES"  # Column -> Column, upstream to downstream
    INFLUENCES = "INFLUENCES"  # Column -> Dataset whose rows it decides (join, filter, ...)
    USES = "USES"  # Consumer -> Dataset | Column
    OWNS = "OWNS"  # Owner -> anything
    HAS_RUN = "HAS_RUN"  # Job -> Run
    PART_OF = "PART_OF"  # Run -> parent Run, Job -> parent Job (a task in its DAG)
    CHECKS = "CHECKS"  # Check -> Dataset | Column it tests
    HAS_CONTRACT = "HAS_CONTRACT"  # Dataset -> Contract version it publishes
    ALIAS_OF = "ALIAS_OF"  # Dataset | Column -> the same data under its canonical name
    DEPENDS_ON = "DEPENDS_ON"  # Job | Consumer | Dataset -> Contract version it relies on
    COVERS = "COVERS"  # Handoff -> Dataset of the product it moves
    SIGNS = "SIGNS"  # SignOff -> Handoff it decides
    ALERTS = "ALERTS"  # Alert -> the asset it is about


FACT = "FACT"
"""Assertion kind for node facts (attributes), stored beside edge kinds."""

LINEAGE_EDGE_KINDS: dict[NodeKind, tuple[EdgeKind, ...]] = {
    NodeKind.DATASET: (EdgeKind.FEEDS, EdgeKind.ALIAS_OF),
    NodeKind.COLUMN: (EdgeKind.DERIVES, EdgeKind.INFLUENCES, EdgeKind.ALIAS_OF),
}
"""Which edge kinds carry lineage from a node of a kind; all point downstream. An alias
(an OpenLineage symlink: the same data under another name) is walked like a copy, so
lineage recorded under either name connects whichever order the events came in."""


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)
"""One encoder, built once: `json.dumps` with options builds a new one per call, a cost
the write path paid for every node key and digest."""


def canonical_json(value: Any) -> str:
    """The one serialization used for digests and hashes: sorted keys, no spaces."""
    return _CANONICAL.encode(value)


_json_string: Callable[[str], str] = json.encoder.encode_basestring
"""A string as `canonical_json` writes it (the encoder's own, non-ASCII kept)."""

EMPTY_ATTRS_JSON = "{}"
EMPTY_ATTRS_DIGEST = hashlib.sha256(EMPTY_ATTRS_JSON.encode()).hexdigest()
"""Most edges carry no attributes: their digest is known."""

T = TypeVar("T")


Derived = Annotated[T, Field(exclude=True)]
"""A value a frozen dataclass derives from its fields and keeps in a slot of its own (a
field neither initialised, compared nor shown): pydantic neither dumps it nor reads it
from input."""


class InvalidNode(InvalidArgument, ValueError):
    """A node or assertion no catalog can hold (an empty name, a column on a dataset, an
    edge without its far end): a caller's argument, or an input a reader refuses."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRef:
    """The identity of a node. `column` is set only for columns.

    A frozen dataclass with slots, not a pydantic model: a large ingest holds hundreds of
    thousands of refs and assertions (GitLab's: 105,000 and 300,000), at 220 bytes each
    with what they derive, against 630 and 700 as models, built in a fifth to a third
    less time. Pydantic models that hold one still validate it from JSON and dump its
    four fields."""

    kind: NodeKind
    namespace: str
    name: str
    column: str | None = None
    key: Derived[str] = field(init=False, repr=False, compare=False)
    """Unambiguous string identity (a JSON array), stable across stores: every ref is
    named by it at once, so it is made with the ref."""

    def __post_init__(self) -> None:
        # Spelled out for speed: a walk's first visit builds a ref per node reached.
        kind, namespace, name, column = self.kind, self.namespace, self.name, self.column
        if type(kind) is not NodeKind:  # a kind read from JSON or a key
            kind = _node_kind(kind)
            object.__setattr__(self, "kind", kind)
        if not (isinstance(namespace, str) and namespace and isinstance(name, str) and name):
            for part, value in (("namespace", namespace), ("name", name)):
                if not isinstance(value, str) or not value:
                    raise InvalidNode(f"a node's {part} must be a non-empty string, not {value!r}")
        if (kind is NodeKind.COLUMN) != (column is not None):
            raise InvalidNode("column is required for COLUMN nodes and forbidden on others")
        # canonical_json([...]), spelled out: a list of strings needs no encoder
        key = f"[{_json_string(kind)},{_json_string(namespace)},{_json_string(name)}"
        if column is not None:
            if not isinstance(column, str):
                raise InvalidNode(f"a column's name must be a string, not {column!r}")
            key += "," + _json_string(column)
        object.__setattr__(self, "key", key + "]")

    @classmethod
    def from_key(cls, key: str) -> NodeRef:
        return _ref_from_key(key)

    @property
    def dataset_key(self) -> str:
        """`dataset.key`, without building the dataset's ref (the write path and alert
        events name the dataset of every column a write touches)."""
        return dataset_key(self.namespace, self.name) if self.kind is NodeKind.COLUMN else self.key

    @property
    def dataset(self) -> NodeRef:
        """The dataset a column belongs to; a non-column is its own dataset."""
        if self.kind is not NodeKind.COLUMN:
            return self
        return dataset_ref(self.namespace, self.name)

    def __str__(self) -> str:
        suffix = f".{self.column}" if self.column is not None else ""
        return f"{self.namespace}/{self.name}{suffix}"


def _node_kind(value: object) -> NodeKind:
    kind = _KINDS.get(value) if isinstance(value, str) else None
    if kind is None:
        known = ", ".join(NodeKind)
        raise InvalidNode(f"no node kind {value!r} (the kinds are {known})")
    return kind


_KINDS = {kind.value: kind for kind in NodeKind}
"""Node kinds by name: a dictionary lookup, where `NodeKind(name)` costs a call."""


@lru_cache(maxsize=1 << 16)
def _ref_from_key(key: str) -> NodeRef:
    kind, namespace, name, *column = json.loads(key)
    return NodeRef(kind=kind, namespace=namespace, name=name, column=column[0] if column else None)


@lru_cache(maxsize=1 << 16)
def dataset_key(namespace: str, name: str) -> str:
    """`dataset_ref(namespace, name).key`, without building the ref (the write path names
    the dataset of every column it touches)."""
    return canonical_json([NodeKind.DATASET.value, namespace, name])


def dataset_ref(namespace: str, name: str) -> NodeRef:
    return NodeRef(kind=NodeKind.DATASET, namespace=namespace, name=name)


def column_ref(namespace: str, name: str, column: str) -> NodeRef:
    return NodeRef(kind=NodeKind.COLUMN, namespace=namespace, name=name, column=column)


def job_ref(namespace: str, name: str) -> NodeRef:
    return NodeRef(kind=NodeKind.JOB, namespace=namespace, name=name)


PERSON = "person"
TEAM = "team"
"""Owner namespaces: a person is named by email where known, a team by its name."""


def owner_ref(namespace: str, name: str) -> NodeRef:
    return NodeRef(kind=NodeKind.OWNER, namespace=namespace, name=name)


_OWNER_PREFIXES = {"user": PERSON, "person": PERSON, "team": TEAM, "group": TEAM}


def owner_named(name: str) -> NodeRef:
    """An owner from how tools write one: `user:jdoe` / `team:data` (OpenLineage's URN
    style, or `team/data` as Baton displays owners), an email (a person, case-folded), or
    a bare name (a team)."""
    separator = ":" if ":" in name or "/" not in name else "/"
    prefix, _, rest = name.strip().partition(separator)
    if rest and prefix.lower() in _OWNER_PREFIXES:
        namespace, name = _OWNER_PREFIXES[prefix.lower()], rest.strip()
    else:
        namespace, name = (PERSON if "@" in name else TEAM), name.strip()
    return owner_ref(namespace, name.lower() if "@" in name else name)


def owner_key(owner: NodeRef) -> str:
    """An owner as maps and tokens write it: `person:<email>` or `team:<name>`."""
    return f"{owner.namespace}:{owner.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assertion:
    """One thing a source says: a fact about `subject`, or an edge `subject -kind-> object`.
    A frozen dataclass for the reason `NodeRef` is one; it holds its own copy of `attrs`."""

    kind: str  # FACT or an EdgeKind value
    subject: NodeRef
    object: NodeRef | None = None
    attrs: JsonObject = field(default_factory=dict)
    identity: Derived[tuple[str, str, str]] = field(init=False, repr=False, compare=False)
    """What makes two assertions of one source 'the same' (attrs may still differ)."""
    _stored: Derived[tuple[str, str] | None] = field(
        default=None, init=False, repr=False, compare=False
    )
    """`attrs_json` and `attrs_digest`, made when first read: the write path reads them, a
    lookup does not."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "attrs", dict(self.attrs))
        if self.kind == FACT:
            if self.object is not None:
                raise InvalidNode("a FACT has no object")
        elif self.kind not in _EDGE_KINDS:
            raise InvalidNode(f"unknown assertion kind {self.kind!r}")
        elif self.object is None:
            raise InvalidNode(f"a {self.kind} edge needs an object")
        identity = (self.kind, self.subject.key, self.object.key if self.object else "")
        object.__setattr__(self, "identity", identity)

    @property
    def attrs_json(self) -> str:
        """The attributes as stored and digested."""
        return self._stored_attrs()[0]

    @property
    def attrs_digest(self) -> str:
        return self._stored_attrs()[1]

    def _stored_attrs(self) -> tuple[str, str]:
        stored = self._stored
        if stored is None:
            stored = attrs_as_stored(self.attrs)
            object.__setattr__(self, "_stored", stored)
        return stored


_EMPTY_ATTRS_STORED = (EMPTY_ATTRS_JSON, EMPTY_ATTRS_DIGEST)


def attrs_as_stored(attrs: Mapping[str, Any]) -> tuple[str, str]:
    """An assertion's attributes as stored and digested: their canonical JSON and its
    SHA-256. A large ingest says the same ones over and over (each column a model passes
    through as is carries the model's job, model and transformation: 51,000 of GitLab's
    300,000 assertions), so attributes of plain values are encoded once, and their
    assertions share the text."""
    if not attrs:
        return _EMPTY_ATTRS_STORED
    values = tuple(attrs.values())
    try:  # typed: True == 1 == 1.0, but each is its own JSON
        return _plain_attrs_as_stored(tuple(attrs), tuple(map(type, values)), values)
    except TypeError:  # a list or an object among the values: not hashable
        text = canonical_json(attrs)
        return text, sha256_hex(text)


@lru_cache(maxsize=1 << 12)
def _plain_attrs_as_stored(
    keys: tuple[str, ...], types: tuple[type, ...], values: tuple[Any, ...]
) -> tuple[str, str]:
    text = canonical_json(dict(zip(keys, values, strict=True)))
    return text, sha256_hex(text)


_EDGE_KINDS = frozenset(EdgeKind.__members__)  # (the enum builds that mapping per read)


class IngestError(BaseModel):
    """A problem in the input, located precisely enough to fix it."""

    source: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}"
        if self.field is not None:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class SourceSnapshot(BaseModel):
    """Everything one source (a SQL file, a manifest, an OpenLineage job) asserts now.

    A complete snapshot replaces what the source asserted before: what it no longer says
    is ended. An incomplete one (the source had errors, or is provisional like an
    OpenLineage START) only adds new assertions, so a typo in one statement never retires
    the lineage the rest of the file established earlier.
    """

    source: str = Field(min_length=1)
    assertions: list[Assertion] = Field(default_factory=list)
    complete: bool = True

    @model_validator(mode="after")
    def _edges_join_asserted_nodes(self) -> SourceSnapshot:
        facts = {a.subject.key for a in self.assertions if a.kind == FACT}
        for a in self.assertions:
            for end in (a.subject, a.object):
                if end is not None and end.key not in facts:
                    raise ValueError(f"{self.source}: {a.kind} refers to {end} with no FACT")
        return self


class Scope(BaseModel):
    """Every source under `prefix` that exists now is in `present` (read or not): any
    other source under it is gone, and what it asserted ends."""

    prefix: str = Field(min_length=1)
    present: frozenset[str] = frozenset()


class Batch(BaseModel):
    """What an ingester returns: snapshots to write, errors to report, and counts (e.g.
    statements seen and understood) for the ingest summary."""

    snapshots: list[SourceSnapshot] = Field(default_factory=list)
    errors: list[IngestError] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    scopes: list[Scope] = Field(default_factory=list)
    """What the batch speaks for whole (a folder ingested): a source in a scope that no
    longer exists (a deleted file) is retired."""

    @model_validator(mode="after")
    def _one_snapshot_per_source(self) -> Batch:
        seen: set[str] = set()
        for snapshot in self.snapshots:
            if snapshot.source in seen:
                raise ValueError(f"source {snapshot.source!r} appears twice in one batch")
            seen.add(snapshot.source)
        return self


class SnapshotBuilder:
    """Collects one source's assertions, declaring each node once (FACT) as it is used.
    Every edge's ends are declared by construction, so its snapshot is built without
    checking that again (a scan of every assertion)."""

    def __init__(self, source: str) -> None:
        if not source:
            raise ValueError("a snapshot needs a source")
        self.source = source
        self._facts: dict[str, Assertion] = {}
        self._edges: dict[tuple[str, str, str], Assertion] = {}

    def node(self, ref: NodeRef, **attrs: Any) -> NodeRef:
        """Declare `ref` (with `attrs` merged into what was said of it); returns the one
        instance this builder uses for that node, so a large snapshot holds each node
        once however many edges name it."""
        known = self._facts.get(ref.key)
        if known is not None:
            ref = known.subject
        if known is None or attrs:
            merged = {**known.attrs, **attrs} if known else attrs
            self._facts[ref.key] = Assertion(kind=FACT, subject=ref, attrs=merged)
        return ref

    def edge(self, kind: EdgeKind, subject: NodeRef, obj: NodeRef, **attrs: Any) -> None:
        """Assert `subject -kind-> obj`; the first assertion of an edge stands (a source
        says an edge once), so a repeat is dropped before it is built."""
        subject, obj = self._declared(subject), self._declared(obj)
        identity = (kind.value, subject.key, obj.key)
        if identity not in self._edges:
            edge = Assertion(kind=kind.value, subject=subject, object=obj, attrs=attrs)
            self._edges[identity] = edge

    def _declared(self, ref: NodeRef) -> NodeRef:
        known = self._facts.get(ref.key)
        return known.subject if known is not None else self.node(ref)

    def owns(self, owner: NodeRef, target: NodeRef, role: str, **terms: Any) -> None:
        """`owner` holds `role` on `target`. One OWNS edge per pair carries every role the
        owner holds there, each with its terms (`via`, effective dates): `{"roles": {...}}`."""
        owner, target = self._declared(owner), self._declared(target)
        identity = (EdgeKind.OWNS.value, owner.key, target.key)
        known = self._edges.get(identity)
        roles = {**known.attrs["roles"]} if known is not None else {}
        roles[role] = {**roles.get(role, {}), **terms}
        self._edges[identity] = Assertion(
            kind=EdgeKind.OWNS.value, subject=owner, object=target, attrs={"roles": roles}
        )

    def declared(self) -> Iterator[NodeRef]:
        """The nodes declared so far, in the order they were first declared."""
        return (fact.subject for fact in self._facts.values())

    def build(self, *, complete: bool = True) -> SourceSnapshot:
        return SourceSnapshot.model_construct(
            source=self.source,
            assertions=[*self._facts.values(), *self._edges.values()],
            complete=complete,
        )


WRITTEN_SOURCE_PREFIX = "written:"


def last_write(dataset: NodeRef, at: str, by: NodeRef) -> SourceSnapshot:
    """A dataset's last successful write (an OpenLineage COMPLETE, a dbt run result) as
    the dataset's own source `written:<namespace>/<name>`: each one replaces the one
    before, so the dataset holds one `last_written_at` however often it runs (freshness
    reads it)."""
    builder = SnapshotBuilder(f"{WRITTEN_SOURCE_PREFIX}{dataset.namespace}/{dataset.name}")
    builder.node(dataset, last_written_at=at, written_by=str(by))
    return builder.build()
