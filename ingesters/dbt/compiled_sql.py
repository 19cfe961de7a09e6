"""Column lineage of dbt models from their compiled SQL, through the SQL ingester.

Models are analysed in the order of dbt's own DAG, so a model's output columns are known
(and expand `SELECT *`) by the time its children are analysed. Columns known before any
SQL is read come from the caller: catalog.json and contracts are authoritative, documented
columns only fill gaps.
"""

from __future__ import annotations

import graphlib
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.collector import collector_paused
from ingesters.dbt.artifacts import ManifestNode
from ingesters.dbt.relations import Relations
from ingesters.sql.lineage import Coverage, StatementLineage, statement_lineage
from ingesters.sql.names import Defaults, TableName
from ingesters.sql.script import StatementError, parse_statements
from ingesters.workers import die_with_parent

Columns = Mapping[str, str]
"""Column name -> type ("UNKNOWN" where no type is known)."""


PARALLEL_FROM = 200
"""Projects with at least this many models are analysed by a pool of processes."""


@dataclass(frozen=True)
class ModelSql:
    """What the compiled SQL of one model says, or why it says nothing."""

    node: ManifestNode
    lineage: StatementLineage | None
    problem: str | None = None


@dataclass(frozen=True)
class _Task:
    """One model's analysis, in the picklable form a worker process needs."""

    sql: str
    table: TableName
    defaults: Defaults
    parents: dict[TableName, Columns]
    """Columns of the model's parents learnt from their SQL (beyond the base schema)."""


def analyse_models(
    models: list[ManifestNode],
    relations: Relations,
    authoritative: Mapping[TableName, Columns],
    documented: Mapping[TableName, Columns],
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Iterator[ModelSql]:
    """Lineage of each model with compiled SQL, in waves of dbt's DAG: a wave's models
    depend only on earlier waves, so their parents' output columns are known (and expand
    `SELECT *`), and a wave can be analysed in parallel with the same result."""
    base: dict[TableName, Columns] = {**documented, **authoritative}
    learnt: dict[TableName, Columns] = {}
    analysable = [n for n in models if n.compiled_code and n.unique_id in relations.tables]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(analysable) >= PARALLEL_FROM else 1
    inlined = {n.unique_id: n.depends_on.nodes for n in models if n.materialized == "ephemeral"}
    done = 0
    with _executor(workers, relations.dialect, base) as run:
        for wave in _waves(analysable):
            tasks = [_task(node, relations, learnt, inlined) for node in wave]
            for node, task, lineage in zip(wave, tasks, run(tasks), strict=True):
                done += 1
                if progress is not None:
                    progress(done, len(analysable))
                found = ModelSql(node, *lineage)
                if _improves(found.lineage, task.table, authoritative, base | learnt):
                    assert found.lineage is not None
                    learnt[task.table] = dict.fromkeys(found.lineage.columns, "UNKNOWN")
                yield found


Outcome = tuple[StatementLineage | None, str | None]
Runner = Callable[[list[_Task]], Iterable[Outcome]]
SPAWN = multiprocessing.get_context("spawn")


@contextmanager
def _executor(workers: int, dialect: str, base: dict[TableName, Columns]) -> Iterator[Runner]:
    if workers <= 1:
        yield lambda tasks: (_analyse(task, dialect, base) for task in tasks)
        return
    # Spawned, not forked: a forked worker shares the parent's heap (the parsed manifest,
    # GitLab's 170 MB and more) and counts it in its own RSS (290 MB each; 920 MB summed
    # with the parent against 540 spawned), and its full collections walk those objects,
    # copying the pages they touch. A fresh interpreter costs 0.4 s of imports (67 MB).
    # The base schema goes by file: sent with the worker (GitLab's: 560 KB), it would
    # overfill the pipe, and a worker that died starting (a script run without a
    # `__main__` guard) would leave the pool waiting for it to read, for ever.
    with tempfile.NamedTemporaryFile(prefix="baton-schema-") as schema:
        pickle.dump(base, schema)
        schema.flush()
        started = (os.getpid(), dialect, schema.name)
        with ProcessPoolExecutor(
            workers, SPAWN, initializer=_start_worker, initargs=started
        ) as pool:
            # Chunks small enough that a wave's last ones spread over the workers: the
            # next wave waits for the slowest (a wave of 8 models was one worker's chunk).
            yield lambda tasks: pool.map(
                _analyse_in_worker, tasks, chunksize=max(1, min(8, len(tasks) // (workers * 4)))
            )


_worker_state: dict[str, object] = {}


def _start_worker(parent: int, dialect: str, schema: str) -> None:
    die_with_parent(parent)  # a killed `baton ingest dbt` leaves no worker behind
    with open(schema, "rb") as written_by_parent:
        base = pickle.load(written_by_parent)
    _worker_state.update(dialect=dialect, base=base)


def _analyse_in_worker(task: _Task) -> Outcome:
    dialect, base = _worker_state["dialect"], _worker_state["base"]
    assert isinstance(dialect, str) and isinstance(base, dict)
    return _analyse(task, dialect, base)


def _analyse(task: _Task, dialect: str, base: Mapping[TableName, Columns]) -> Outcome:
    schema = {**base, **task.parents} if task.parents else base
    return sql_lineage(task.sql, task.table, dialect, task.defaults, schema)


def _task(
    node: ManifestNode,
    relations: Relations,
    learnt: Mapping[TableName, Columns],
    inlined: Mapping[str, list[str]],
) -> _Task:
    parents = {
        table: learnt[table]
        for table in (relations.tables.get(p) for p in _read_relations(node, inlined))
        if table is not None and table in learnt
    }
    assert node.compiled_code is not None
    return _Task(
        node.compiled_code,
        relations.tables[node.unique_id],
        Defaults(database=node.database, schema=node.schema_),
        parents,
    )


def _read_relations(node: ManifestNode, inlined: Mapping[str, list[str]]) -> set[str]:
    """The nodes whose relations compiled SQL reads: parents, and through an ephemeral
    parent (inlined as a CTE) that parent's own parents."""
    found: set[str] = set()
    pending = list(node.depends_on.nodes)
    while pending:
        parent = pending.pop()
        if parent not in found:
            found.add(parent)
            pending += inlined.get(parent, [])
    return found


def _improves(
    lineage: StatementLineage | None,
    table: TableName,
    authoritative: Mapping[TableName, Columns],
    schema: Mapping[TableName, Columns],
) -> bool:
    """Whether a model's SQL output columns should replace what is known of its table:
    never over catalog or contract columns; over documented ones when fully resolved."""
    if lineage is None or not lineage.columns or table in authoritative:
        return False
    return lineage.coverage is Coverage.COMPLETE or table not in schema


@collector_paused()
def sql_lineage(
    sql: str,
    table: TableName,
    dialect: str,
    defaults: Defaults,
    schema: Mapping[TableName, Columns],
) -> Outcome:
    """Lineage of a model's compiled query, as if it were `CREATE TABLE <relation> AS`;
    or why there is none."""
    problems: list[StatementError] = []
    queries = [
        expression
        for _, expression in parse_statements(sql, dialect, defaults, problems)
        if isinstance(expression, exp.Query)
    ]
    if problems:
        where = f"line {problems[0].line}: " if problems[0].line else ""
        return None, f"compiled SQL does not parse ({where}{problems[0].message})"
    if not queries:
        return None, "compiled SQL holds no query"
    create = exp.Create(this=_table(table), kind="TABLE", expression=queries[-1])
    try:
        return statement_lineage(create, dialect, schema), None
    except (SqlglotError, RecursionError) as error:
        return None, f"cannot analyse lineage: {error}"


def _table(name: TableName) -> exp.Table:
    """A table expression for already-normalized name parts (quoted, so case is kept)."""
    *qualifiers, last = name
    catalog, db = ([None, None, *qualifiers])[-2:]
    return exp.table_(last, db=db, catalog=catalog, quoted=True)


def _waves(models: list[ManifestNode]) -> Iterator[list[ManifestNode]]:
    """Models grouped so each depends only on models of earlier groups (manifest order
    within a group; dbt forbids cycles, but a cycle would end in one last group)."""
    by_id = {node.unique_id: node for node in models}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node in models:
        sorter.add(node.unique_id, *(p for p in node.depends_on.nodes if p in by_id))
    try:
        sorter.prepare()
    except graphlib.CycleError:
        yield models
        return
    position = {uid: i for i, uid in enumerate(by_id)}
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        yield [by_id[uid] for uid in ready]
        sorter.done(*ready)
