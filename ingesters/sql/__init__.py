"""SQL ingester: SQL scripts in, one source snapshot per file out.

`parse` is pure over file texts. Statements are analysed in dependency order across all
files, so a table created by one statement lends its columns to the statements that read
it (that is how `SELECT *` over an upstream model still gets column lineage).
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import SqlglotError

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
from ingesters.sql.lineage import StatementLineage, statement_lineage, target_and_reads
from ingesters.sql.names import Defaults, TableName
from ingesters.sql.script import StatementError, parse_statements
from ingesters.sql.statements import Statement

SOURCE_PREFIX = "sql:"


@dataclass(frozen=True)
class SqlOptions:
    dialect: str
    namespace: str
    """OpenLineage dataset namespace of the warehouse, e.g. `postgres://host:5432`."""
    job_namespace: str = "baton.sql"
    defaults: Defaults = field(default_factory=Defaults)


@dataclass(frozen=True)
class _Parsed:
    path: str
    statement: Statement
    expression: exp.Expr


def default_namespace(dialect: str) -> str:
    return f"{dialect}://default"


def read_sql_files(paths: Iterable[Path]) -> tuple[dict[str, str], list[IngestError]]:
    """The text of every `.sql` file under `paths` (folders recursively), keyed by path."""
    texts: dict[str, str] = {}
    errors: list[IngestError] = []
    for root in paths:
        files = sorted(root.rglob("*.sql")) if root.is_dir() else [root]
        for file in files:
            try:
                texts[file.as_posix()] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                errors.append(IngestError(source=file.as_posix(), message=f"cannot read: {error}"))
    return texts, errors


Progress = Callable[[int, int], None]
"""Called with (statements analysed, statements in all) as analysis advances."""


def parse(texts: Mapping[str, str], options: SqlOptions, progress: Progress | None = None) -> Batch:
    """Lineage of every statement in `texts` (path -> SQL), as one snapshot per file."""
    parsed: list[_Parsed] = []
    errors: list[IngestError] = []
    failed_files: set[str] = set()
    for path, text in texts.items():
        for item in _parse_file(path, text, options, errors):
            parsed.append(item)
        if any(e.source == path for e in errors):
            failed_files.add(path)

    builders = {path: SnapshotBuilder(SOURCE_PREFIX + path) for path in texts}
    schema: dict[TableName, dict[str, str]] = {}
    job_names: dict[str, int] = {}
    for done, item in enumerate(_in_dependency_order(parsed), start=1):
        if progress is not None:
            progress(done, len(parsed))
        try:
            result = statement_lineage(item.expression, options.dialect, schema)
        except SqlglotError as error:
            errors.append(_error(item, f"cannot analyse lineage: {error}"))
            failed_files.add(item.path)
            continue
        if result is None or result.target is None:
            continue
        if result.columns and result.target not in schema:
            schema[result.target] = {
                c: result.column_types.get(c, "UNKNOWN") for c in result.columns
            }
        _assert_statement(builders[item.path], item, result, options, job_names)

    snapshots = [
        builder.build(complete=path not in failed_files) for path, builder in builders.items()
    ]
    return Batch(snapshots=[s for s in snapshots if s.assertions or s.complete], errors=errors)


def _parse_file(
    path: str, text: str, options: SqlOptions, errors: list[IngestError]
) -> Iterable[_Parsed]:
    problems: list[StatementError] = []
    for statement, expression in parse_statements(
        text, options.dialect, options.defaults, problems
    ):
        yield _Parsed(path, statement, expression)
    errors += [IngestError(source=path, line=p.line, message=p.message) for p in problems]


def _error(item: _Parsed, message: str) -> IngestError:
    return IngestError(source=item.path, line=item.statement.line, message=message)


def _in_dependency_order(parsed: list[_Parsed]) -> list[_Parsed]:
    """Writers of a table before its readers; file order where there is no dependency."""
    targets: dict[TableName, list[int]] = {}
    reads: dict[int, set[TableName]] = {}
    for position, item in enumerate(parsed):
        target, tables = target_and_reads(item.expression)
        reads[position] = tables
        if target is not None:
            targets.setdefault(target, []).append(position)
    sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
    for position in range(len(parsed)):
        writers = {w for t in reads[position] for w in targets.get(t, []) if w != position}
        sorter.add(position, *writers)
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError:
        order = list(range(len(parsed)))
    return [parsed[position] for position in order]


def _dataset(options: SqlOptions, name: TableName) -> NodeRef:
    return dataset_ref(options.namespace, ".".join(name))


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
    target = _dataset(options, result.target)
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
    )
    _assert_columns(builder, target, result)
    builder.edge(EdgeKind.WRITES, job, target, **where)
    for read in result.reads:
        upstream = builder.node(_dataset(options, read))
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
    for flow in result.flows:
        source_dataset = _dataset(options, flow.source_table)
        source_column = column_ref(
            source_dataset.namespace, source_dataset.name, flow.source_column
        )
        builder.node(source_column)
        builder.edge(EdgeKind.HAS_COLUMN, source_dataset, source_column)
        builder.edge(
            EdgeKind.DERIVES,
            source_column,
            column_ref(target.namespace, target.name, flow.target_column),
            transformation=flow.transformation.value,
            job=job.key,
            **where,
        )


__all__ = ["Progress", "SqlOptions", "default_namespace", "parse", "read_sql_files"]
