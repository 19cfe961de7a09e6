"""Change sets Baton derives itself: from a proposed contract version, from the old and new
SQL of a job or model, and from two dbt manifests (before and after a pull request)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog import compatibility
from catalog.contracts import ContractVersion
from catalog.domain import column_ref, dataset_ref, job_ref
from catalog.errors import InvalidArgument
from catalog.impact import ChangeKind
from catalog.services import contracts
from catalog.services.impact import ChangeRequest
from catalog.services.ingestion import catalog_columns
from catalog.stores.protocol import Store
from ingesters import dbt
from ingesters.dbt.compiled_sql import sql_lineage
from ingesters.sql.dialects import known_dialect, unknown_dialect
from ingesters.sql.names import Defaults, TableName, dotted
from ingesters.sql.script import analyse_script

Outputs = dict[TableName, dict[str, frozenset[tuple[TableName | None, str]]]]
"""Output table -> column -> the source columns it derives from."""

_FROM_CONTRACT = {
    compatibility.ChangeKind.COLUMN_REMOVED: ChangeKind.DROP_COLUMN,
    compatibility.ChangeKind.COLUMN_RENAMED: ChangeKind.RENAME_COLUMN,
    compatibility.ChangeKind.TYPE_CHANGED: ChangeKind.RETYPE_COLUMN,
    compatibility.ChangeKind.TYPE_NARROWED: ChangeKind.RETYPE_COLUMN,
    compatibility.ChangeKind.TYPE_WIDENED: ChangeKind.RETYPE_COLUMN,
    compatibility.ChangeKind.DATASET_REMOVED: ChangeKind.DROP_DATASET,
}
"""Contract changes that change the data's shape; the others (nullability, keys, quality,
SLA) are promises, reported by the contract diff."""


def from_contract(store: Store, proposed: ContractVersion) -> list[ChangeRequest]:
    """The shape changes a proposed version makes to the latest published one below it;
    NOT_FOUND for a contract never published, INVALID_ARGUMENT when every published
    version is this one or newer (there is nothing to compare it with)."""
    known = contracts.published(store, proposed.contract_id)
    if not any(v.semver < proposed.semver for v in known):
        raise InvalidArgument(
            f"contract {proposed.contract_id} has no published version older than "
            f"{proposed.version} (published: {', '.join(v.version for v in known)}): "
            "nothing to compare it with"
        )
    return since_previous(store, proposed)


def since_previous(store: Store, version: ContractVersion) -> list[ChangeRequest]:
    """The shape changes `version` makes to the latest published version below it; none
    for a contract's first version."""
    published = [
        v for v in contracts.versions(store, version.contract_id) if v.semver < version.semver
    ]
    if not published:
        return []
    proposed, current = version, published[-1]
    tables = {d.object_name: d for d in current.datasets}
    requests = []
    for change in compatibility.diff(current, proposed):
        kind = _FROM_CONTRACT.get(change.kind)
        if kind is None:
            continue
        table, _, column = change.subject.partition(".")
        dataset = tables[table].ref
        target = column_ref(dataset.namespace, dataset.name, column) if column else dataset
        retype = kind is ChangeKind.RETYPE_COLUMN
        requests.append(
            ChangeRequest(
                kind,
                target,
                new_name=change.after if kind is ChangeKind.RENAME_COLUMN else None,
                new_type=change.after if retype else None,
                old_type=change.before if retype else None,
            )
        )
    return requests


@dataclass(frozen=True)
class SqlVersions:
    old: str
    new: str
    dialect: str
    namespace: str
    target: str | None = None
    """The table a bare query (a dbt model's compiled SQL) writes; None for scripts."""
    defaults: Defaults = field(default_factory=Defaults)
    schema: Mapping[TableName, Mapping[str, str]] = field(default_factory=dict)
    """Columns known outside the catalog (a manifest's), to expand `SELECT *`."""


def from_sql(store: Store, versions: SqlVersions) -> list[ChangeRequest]:
    """Compare the output columns and column lineage of two versions of a job's SQL:
    a column that disappears is dropped (renamed, when a new column derives from exactly
    the same sources), a column that now derives from different sources is changed, and
    an output table no longer written is dropped."""
    if not known_dialect(versions.dialect):
        raise InvalidArgument(unknown_dialect(versions.dialect))
    before = _outputs(store, versions.old, versions)
    after = _outputs(store, versions.new, versions)
    return _diff(before, after, versions.namespace)


def _outputs(store: Store, text: str, versions: SqlVersions) -> Outputs:
    from_catalog = catalog_columns(store, versions.namespace)

    def lookup(tables: set[TableName]) -> dict[TableName, Mapping[str, str]]:
        """The catalog's columns (what ingestion found) over the given ones."""
        known: dict[TableName, Mapping[str, str]] = {
            t: versions.schema[t] for t in tables if t in versions.schema
        }
        return known | dict(from_catalog(tables))

    if versions.target is not None:
        table = tuple(versions.target.split("."))
        first, _ = sql_lineage(text, table, versions.dialect, versions.defaults, {})
        reads = set(first.reads) if first else set()
        lineage, _ = sql_lineage(text, table, versions.dialect, versions.defaults, lookup(reads))
        if lineage is None:
            return {}
        columns: dict[str, set[tuple[TableName | None, str]]] = {c: set() for c in lineage.columns}
        for flow in lineage.flows:
            columns.setdefault(flow.target_column, set()).add(
                (flow.source_table, flow.source_column)
            )
        return {table: {c: frozenset(s) for c, s in columns.items()}}
    first_pass = analyse_script(text, versions.dialect, None, versions.defaults)
    script = analyse_script(
        text, versions.dialect, lookup(set(first_pass.in_tables)), versions.defaults
    )
    outputs: Outputs = {t: {} for t in script.out_tables}
    for (written, column), upstreams in script.column_lineage.items():
        if written is not None:
            outputs.setdefault(written, {})[column] = frozenset(upstreams)
    return outputs


def _diff(before: Outputs, after: Outputs, namespace: str) -> list[ChangeRequest]:
    requests = []
    for table in sorted(before.keys() - after.keys()):
        requests.append(
            ChangeRequest(ChangeKind.DROP_DATASET, dataset_ref(namespace, dotted(table)))
        )
    for table in sorted(before.keys() & after.keys()):
        name = dotted(table)
        old, new = before[table], after[table]
        added = {c: s for c, s in new.items() if c not in old}
        for column in sorted(old.keys() - new.keys()):
            renamed = [c for c, sources in added.items() if sources and sources == old[column]]
            target = column_ref(namespace, name, column)
            if len(renamed) == 1:
                requests.append(
                    ChangeRequest(ChangeKind.RENAME_COLUMN, target, new_name=renamed[0])
                )
            else:
                requests.append(ChangeRequest(ChangeKind.DROP_COLUMN, target))
        for column in sorted(old.keys() & new.keys()):
            if old[column] != new[column]:
                requests.append(
                    ChangeRequest(ChangeKind.CHANGE_COLUMN, column_ref(namespace, name, column))
                )
    return requests


def from_manifests(
    store: Store, before: dbt.DbtArtifacts, after: dbt.DbtArtifacts, options: dbt.DbtOptions
) -> list[ChangeRequest]:
    """What a pull request changes in a dbt project, like dbt's `state:modified`: removed
    models are dropped datasets; a model whose compiled SQL changed is compared column by
    column; a changed model without compiled SQL (or whose change shows in no column) is a
    changed job whose readers see new values."""
    old_nodes = _models(before)
    new_nodes = _models(after)
    relations = dbt.relations_of(after.manifest, options)
    old_relations = dbt.relations_of(before.manifest, options)
    authoritative, documented = dbt.known_columns(after, relations)
    requests = []
    for unique_id in sorted(old_nodes.keys() - new_nodes.keys()):
        dataset = old_relations.dataset(unique_id)
        if dataset is not None:
            requests.append(ChangeRequest(ChangeKind.DROP_DATASET, dataset))
    for unique_id in sorted(old_nodes.keys() & new_nodes.keys()):
        old, new = old_nodes[unique_id], new_nodes[unique_id]
        if (old.compiled_code, old.checksum) == (new.compiled_code, new.checksum):
            continue
        table = relations.tables.get(unique_id)
        column_changes: list[ChangeRequest] = []
        if table is not None and old.compiled_code and new.compiled_code:
            versions = SqlVersions(
                old.compiled_code,
                new.compiled_code,
                relations.dialect,
                relations.namespace,
                target=dotted(table),
                defaults=Defaults(new.database, new.schema_),
                schema={**documented, **authoritative},
            )
            column_changes = from_sql(store, versions)
        if column_changes:
            requests += column_changes
        elif old.compiled_code != new.compiled_code or old.checksum != new.checksum:
            job = job_ref(options.job_namespace, unique_id)
            requests.append(ChangeRequest(ChangeKind.CHANGE_JOB, job, compatible=True))
    return requests


def _models(artifacts: dbt.DbtArtifacts) -> Mapping[str, dbt.artifacts.ManifestNode]:
    return {
        uid: node
        for uid, node in artifacts.manifest.nodes.items()
        if node.resource_type in ("model", "snapshot", "seed")
    }
