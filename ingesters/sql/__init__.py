"""SQL ingester: SQL scripts in, one source snapshot per file out.

`parse` is pure over file texts. Statements are analysed in dependency order across all
files, so a table created by one statement lends its columns to the statements that read
it (that is how `SELECT *` over an upstream model still gets column lineage).
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.collector import collector_paused
from catalog.domain import (
    Batch,
    EdgeKind,
    IngestError,
    NodeRef,
    SnapshotBuilder,
    column_ref,
    dataset_ref,
    job_ref,
)
from ingesters.sql.files import SOURCE_PREFIX, SqlFiles, read_sql_files
from ingesters.sql.lineage import StatementLineage, statement_lineage, target_and_reads
from ingesters.sql.names import Defaults, Schema, TableName, dotted
from ingesters.sql.script import StatementError, expressions_of, parse_statements
from ingesters.sql.statements import Statement
from ingesters.sql.steps import StepTracker, collapse_steps


@dataclass(frozen=True)
class SqlOptions:
    dialect: str
    namespace: str
    """OpenLineage dataset namespace of the warehouse, e.g. `postgres://host:5432`."""
    job_namespace: str = "baton.sql"
    defaults: Defaults = field(default_factory=Defaults)


@dataclass(frozen=True)
class _Parsed:
    """A statement seen in the first pass: where it is and what it writes and reads.

    Its syntax tree is dropped and parsed again when its turn comes, so memory stays flat
    however many statements a batch holds.
    """

    path: str
    statement: Statement
    part: int  # which expression of the statement (procedures hold several)
    target: TableName | None
    reads: frozenset[TableName]


def default_namespace(dialect: str) -> str:
    return f"{dialect}://default"


Progress = Callable[[int, int], None]
"""Called with (statements analysed, statements in all) as analysis advances."""


KnownColumns = Callable[[set[TableName]], Schema]
"""Looks up the columns already known (e.g. to the catalog) of the tables a batch reads."""


def parse(
    texts: Mapping[str, str],
    options: SqlOptions,
    progress: Progress | None = None,
    known_columns: KnownColumns | None = None,
) -> Batch:
    """Lineage of every statement in `texts` (path -> SQL), as one snapshot per file.

    Two passes: the first parses every file in order (noting what each statement writes
    and reads, and each file's step tables); the second analyses statements in dependency
    order across files, parsing each again, so memory stays flat. Tables read but not
    written by the batch get their columns from `known_columns`, to expand `*` and place
    unqualified columns.
    """
    parsed: list[_Parsed] = []
    trackers: dict[str, StepTracker] = {}
    errors: list[IngestError] = []
    statements = 0
    dialect = options.dialect or "generic"
    for path, text in texts.items():
        problems: list[StatementError] = []
        parts: dict[int, int] = {}
        tracker = trackers[path] = StepTracker()
        for statement, expression in parse_statements(
            text, options.dialect, options.defaults, problems
        ):
            statements += 1
            part = parts[statement.index] = parts.get(statement.index, -1) + 1
            if isinstance(expression, exp.Command):  # syntax sqlglot keeps opaque
                problems.append(
                    StatementError(statement.line, f"not understood: {expression.sql()[:80]}")
                )
                continue
            tracker.see(expression, statement.line)
            target, reads = target_and_reads(expression)
            parsed.append(_Parsed(path, statement, part, target, frozenset(reads)))
        statements += sum(1 for p in problems if p.unparsed)
        errors += [
            IngestError(source=path, line=p.line, message=f"{p.message} (dialect {dialect})")
            for p in problems
        ]
    failed_files = {e.source for e in errors}
    understood = len(parsed)

    schema: dict[TableName, dict[str, str]] = {}
    if known_columns is not None:
        written = {item.target for item in parsed}
        outside = {table for item in parsed for table in item.reads if table not in written}
        schema.update({table: dict(columns) for table, columns in known_columns(outside).items()})
    results: dict[str, list[tuple[_Parsed, StatementLineage]]] = {path: [] for path in texts}
    for done, item in enumerate(_in_dependency_order(parsed), start=1):
        if progress is not None:
            progress(done, len(parsed))
        try:
            result = _lineage_of(item, options, schema)
        except (SqlglotError, RecursionError) as error:
            errors.append(_error(item, f"cannot analyse lineage: {error}"))
            failed_files.add(item.path)
            understood -= 1
            continue
        if result is None or result.target is None:
            continue
        if result.columns and result.target not in schema:
            schema[result.target] = {
                c: result.column_types.get(c, "UNKNOWN") for c in result.columns
            }
        results[item.path].append((item, result))

    snapshots = [
        _snapshot(path, results[path], trackers[path], options).build(
            complete=path not in failed_files
        )
        for path in texts
    ]
    return Batch(
        snapshots=[s for s in snapshots if s.assertions or s.complete],
        errors=errors,
        counts={"statements": statements, "understood": understood},
    )


def _snapshot(
    path: str,
    results: list[tuple[_Parsed, StatementLineage]],
    tracker: StepTracker,
    options: SqlOptions,
) -> SnapshotBuilder:
    """One file's assertions, its step tables collapsed, its statements in file order."""
    builder = SnapshotBuilder(SOURCE_PREFIX + path)
    results = sorted(results, key=lambda pair: (pair[0].statement.index, pair[0].part))
    collapsed = collapse_steps(
        [result for _, result in results],
        tracker.steps_of([result for _, result in results]),
    )
    job_names: dict[str, int] = {}
    for (item, _), result in zip(results, collapsed, strict=True):
        if result is not None:
            _assert_statement(builder, item, result, options, job_names)
    for table, line in tracker.dropped.items():
        builder.node(_dataset(options.namespace, table), dropped=True, dropped_at=f"{path}:{line}")
    for old, new in tracker.renamed.items():
        builder.node(
            _dataset(options.namespace, old), renamed_to=str(_dataset(options.namespace, new))
        )
    return builder


@collector_paused()
def _lineage_of(item: _Parsed, options: SqlOptions, schema: Schema) -> StatementLineage | None:
    """A statement parsed again and analysed."""
    expressions = expressions_of(item.statement, options.dialect, options.defaults, [])
    return statement_lineage(expressions[item.part], options.dialect, schema)


def _error(item: _Parsed, message: str) -> IngestError:
    return IngestError(source=item.path, line=item.statement.line, message=message)


def _in_dependency_order(parsed: list[_Parsed]) -> list[_Parsed]:
    """Writers of a table before its readers; file order where there is no dependency."""
    writers: dict[TableName, list[int]] = {}
    for position, item in enumerate(parsed):
        if item.target is not None:
            writers.setdefault(item.target, []).append(position)
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for position, item in enumerate(parsed):
        sorter.add(position, *{w for t in item.reads for w in writers.get(t, []) if w != position})
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError:
        order = list(range(len(parsed)))
    return [parsed[position] for position in order]


def _dataset(namespace: str, name: TableName) -> NodeRef:
    return dataset_ref(namespace, dotted(name))


def _assert_columns(builder: SnapshotBuilder, target: NodeRef, result: StatementLineage) -> None:
    builder.node(target, **({"type": result.target_type} if result.target_type else {}))
    for ordinal, column in enumerate(result.columns, start=1):
        declared = result.column_types.get(column)
        attrs = {"ordinal": ordinal, **({"data_type": declared} if declared else {})}
        col = builder.node(column_ref(target.namespace, target.name, column), **attrs)
        builder.edge(EdgeKind.HAS_COLUMN, target, col)


def _assert_statement(
    builder: SnapshotBuilder,
    item: _Parsed,
    result: StatementLineage,
    options: SqlOptions,
    job_names: dict[str, int],
) -> None:
    assert result.target is not None
    target = _dataset(options.namespace, result.target)
    if not result.moves_data:
        _assert_columns(builder, target, result)
        return
    base_name = f"{item.path}#{target.name}"
    job_names[base_name] = job_names.get(base_name, 0) + 1
    name = base_name if job_names[base_name] == 1 else f"{base_name}#{job_names[base_name]}"
    where = {"line": item.statement.line, "statement": item.statement.index}
    job = builder.node(
        job_ref(options.job_namespace, name),
        type="SQL",
        dialect=options.dialect,
        sql=item.statement.text,
        **where,
        # What the analysis could not attribute (an ambiguous column, an unexpanded `*`):
        # the lineage is partial, and the job says where and why.
        **({"lineage_notes": list(result.notes)} if result.notes else {}),
    )
    builder.node(target)
    builder.edge(EdgeKind.WRITES, job, target, **where)
    for read in result.reads:
        upstream = builder.node(_dataset(options.namespace, read))
        builder.edge(EdgeKind.READS, job, upstream, **where)
        if upstream == target:
            continue  # a table reading itself (e.g. NOT EXISTS guards) feeds nothing new
        builder.edge(
            EdgeKind.FEEDS,
            upstream,
            target,
            job=job.key,
            column_lineage=result.coverage.value,
            **where,
        )
    assert_column_lineage(builder, job, target, result, **where)


def assert_column_lineage(
    builder: SnapshotBuilder,
    job: NodeRef,
    target: NodeRef,
    result: StatementLineage,
    **where: Any,
) -> None:
    """The target's columns, and the DERIVES and INFLUENCES edges `job` creates into it;
    upstream tables are named in the target's namespace."""
    _assert_columns(builder, target, result)
    source_column = _source_columns(builder, target.namespace)
    for table, column, subtype in result.influences:
        builder.edge(
            EdgeKind.INFLUENCES,
            source_column(table, column),
            target,
            subtype=subtype.value,
            job=job.key,
            **where,
        )
    outputs: dict[str, NodeRef] = {}
    for flow in result.flows:
        output = outputs.get(flow.target_column)
        if output is None:
            output = outputs[flow.target_column] = column_ref(
                target.namespace, target.name, flow.target_column
            )
        builder.edge(
            EdgeKind.DERIVES,
            source_column(flow.source_table, flow.source_column),
            output,
            transformation=flow.transformation.value,
            job=job.key,
            **where,
            **({"inferred": True} if flow.inferred else {}),  # only then: digests stay
        )


def _source_columns(
    builder: SnapshotBuilder, namespace: str
) -> Callable[[TableName, str], NodeRef]:
    """Declares a column of a read table (and that the table has it), once per column:
    a statement names the same source columns in many flows."""
    datasets: dict[TableName, NodeRef] = {}
    columns: dict[tuple[TableName, str], NodeRef] = {}

    def source_column(table: TableName, column: str) -> NodeRef:
        ref = columns.get((table, column))
        if ref is None:
            dataset = datasets.get(table)
            if dataset is None:
                dataset = datasets[table] = _dataset(namespace, table)
            ref = builder.node(column_ref(dataset.namespace, dataset.name, column))
            builder.edge(EdgeKind.HAS_COLUMN, dataset, ref)
            columns[(table, column)] = ref
        return ref

    return source_column


__all__ = [
    "KnownColumns",
    "Progress",
    "SqlFiles",
    "SqlOptions",
    "assert_column_lineage",
    "default_namespace",
    "parse",
    "read_sql_files",
]
