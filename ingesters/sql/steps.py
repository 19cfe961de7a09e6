"""Step tables: intermediate tables a script creates for itself, collapsed away.

A table is a step when it is temporary (`CREATE TEMP`, T-SQL `#t`) or created and later
dropped by the same script. Lineage through a step is composed onto the persistent tables
around it, so a step never appears as a dataset: its sources do. A table a script drops
without having created it is *dropped*, and one it renames is *renamed* (the catalog
records both); neither is a step.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from sqlglot import exp

from ingesters.sql.columns import Transformation, stronger
from ingesters.sql.lineage import ColumnFlow, StatementLineage
from ingesters.sql.movements import shape_of
from ingesters.sql.names import TableName, table_name

ColumnRef = tuple[TableName | None, str]
"""A column: its table (None for a SELECT's result) and its name."""


@dataclass
class StepTracker:
    """Watches a script's statements in textual order."""

    created: set[TableName] = field(default_factory=set)
    steps: set[TableName] = field(default_factory=set)
    """Tables created and dropped again by the script: always intermediate."""
    temporary: set[TableName] = field(default_factory=set)
    """TEMP / TEMPORARY / `#name` tables: intermediate when the script reads them later."""
    dropped: dict[TableName, int] = field(default_factory=dict)
    """Tables dropped and not created again afterwards, with the line of the DROP."""
    renamed: dict[TableName, TableName] = field(default_factory=dict)
    """Old name -> new name, for `ALTER TABLE ... RENAME`."""

    def see(self, expression: exp.Expr, line: int) -> None:
        if isinstance(expression, exp.Alter):
            shape = shape_of(expression)
            if shape is not None and shape.target is not None and shape.copies is not None:
                self.renamed[table_name(shape.copies)] = shape.target
            return
        if isinstance(expression, exp.Drop):
            for table in (table_name(t) for t in expression.find_all(exp.Table)):
                if table in self.created:
                    self.steps.add(table)
                else:
                    self.dropped[table] = line
            return
        if not isinstance(expression, exp.Create):
            return
        shape = shape_of(expression)
        if shape is None or shape.target is None:
            return
        self.created.add(shape.target)
        self.dropped.pop(shape.target, None)
        properties = expression.args.get("properties")
        temporary = properties is not None and properties.find(exp.TemporaryProperty)
        if temporary or shape.target[-1].startswith("#"):
            self.temporary.add(shape.target)

    def steps_of(self, analysed: list[StatementLineage]) -> set[TableName]:
        """The step tables to collapse: dropped ones, and temporary ones that another
        statement reads. A temporary table nothing reads is the script's result (a
        statement run on its own), and keeps its inputs and lineage."""
        read = {r for lineage in analysed for r in lineage.reads if r != lineage.target}
        return self.steps | (self.temporary & read)


def collapse_steps(
    analysed: list[StatementLineage], steps: set[TableName]
) -> list[StatementLineage | None]:
    """Each statement with reads and flows through step tables composed onto their
    sources; None for statements that only fill a step table (same order as given)."""
    if not steps:
        return list(analysed)
    into: dict[ColumnRef, list[tuple[ColumnRef, Transformation]]] = defaultdict(list)
    feeds: dict[TableName, set[TableName]] = defaultdict(set)
    for lineage in analysed:
        if lineage.target in steps:
            assert lineage.target is not None
            feeds[lineage.target].update(r for r in lineage.reads if r != lineage.target)
            for flow in lineage.flows:
                upstream = (flow.source_table, flow.source_column)
                into[(lineage.target, flow.target_column)].append((upstream, flow.transformation))

    def tables(table: TableName, seen: frozenset[TableName]) -> list[TableName]:
        if table not in steps:
            return [table]
        return [s for up in sorted(feeds[table] - seen) for s in tables(up, seen | {table})]

    def columns(
        ref: ColumnRef, kind: Transformation, seen: frozenset[ColumnRef]
    ) -> list[tuple[ColumnRef, Transformation]]:
        if ref[0] not in steps:
            return [(ref, kind)]
        return [
            found
            for up, step in into.get(ref, [])
            if up not in seen
            for found in columns(up, stronger(kind, step), seen | {ref})
        ]

    collapsed: list[StatementLineage | None] = []
    for lineage in analysed:
        if lineage.target in steps:
            collapsed.append(None)
            continue
        flows = [  # an inferred hop keeps its mark (the last hop's, through step tables)
            ColumnFlow(table, column, flow.target_column, kind, inferred=flow.inferred)
            for flow in lineage.flows
            for (table, column), kind in columns(
                (flow.source_table, flow.source_column), flow.transformation, frozenset()
            )
            if table is not None
        ]
        influences = [
            (table, column, subtype)
            for source_table, source_column, subtype in lineage.influences
            for (table, column), _ in columns(
                (source_table, source_column), Transformation.IDENTITY, frozenset()
            )
            if table is not None
        ]
        reads = [s for read in lineage.reads for s in tables(read, frozenset())]
        collapsed.append(
            replace(
                lineage,
                reads=tuple(dict.fromkeys(reads)),
                flows=tuple(dict.fromkeys(flows)),
                influences=tuple(dict.fromkeys(influences)),
            )
        )
    return collapsed
