"""Warehouse relations of dbt nodes, named exactly as SQL ingestion of the same warehouse
names them (identifier case normalized for the adapter's dialect), so a model ingested
from its manifest and from its compiled SQL lands on one dataset node."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.domain import NodeRef, dataset_ref
from ingesters.dbt.artifacts import Manifest, ManifestNode, SourceDefinition
from ingesters.sql.names import TableName, dotted, normalized_column, normalized_table

RELATION_TYPES = frozenset({"model", "seed", "snapshot"})
"""Manifest node types that are warehouse relations (sources are listed apart)."""


@dataclass(frozen=True)
class Relations:
    """unique_id -> relation name, for every model, seed, snapshot and source."""

    dialect: str
    namespace: str
    tables: dict[str, TableName]

    @classmethod
    def of(cls, manifest: Manifest, dialect: str, namespace: str) -> Relations:
        tables: dict[str, TableName] = {}
        nodes: list[ManifestNode | SourceDefinition] = [*manifest.nodes.values()]
        for node in [*nodes, *manifest.sources.values()]:
            if isinstance(node, SourceDefinition) or node.resource_type in RELATION_TYPES:
                table = _relation(node, dialect)
                if table is not None:
                    tables[node.unique_id] = table
        return cls(dialect, namespace, tables)

    def dataset(self, unique_id: str) -> NodeRef | None:
        table = self.tables.get(unique_id)
        return None if table is None else self.dataset_of(table)

    def dataset_of(self, table: TableName) -> NodeRef:
        return dataset_ref(self.namespace, dotted(table))

    def column(self, name: str) -> str:
        return normalized_column(name, self.dialect)


def _relation(node: ManifestNode | SourceDefinition, dialect: str) -> TableName | None:
    """The relation dbt builds or reads: `relation_name` as dbt rendered it (quoting
    included), else database.schema.alias (ephemeral models, old manifests)."""
    if node.relation_name:
        try:
            table = exp.to_table(node.relation_name, dialect=dialect)
        except SqlglotError:
            table = None
        if table is not None:
            return normalized_table(table, dialect)
    if isinstance(node, SourceDefinition):
        identifier = node.identifier or node.name
    else:
        identifier = node.alias or node.name
    table = exp.table_(identifier, db=node.schema_, catalog=node.database)
    return normalized_table(table, dialect)
