"""The SQL ingester: statements in, table- and column-level lineage out, errors located."""

from __future__ import annotations

from pathlib import Path

from catalog.domain import FACT, Assertion, Batch, EdgeKind
from ingesters import sql
from ingesters.sql.names import Defaults
from ingesters.sql.statements import split_statements
from tests.conftest import EXAMPLES

OPTIONS = sql.SqlOptions(dialect="postgres", namespace="postgres://db", defaults=Defaults())


def parse(options: sql.SqlOptions = OPTIONS, **files: str) -> Batch:
    return sql.parse({f"{name}.sql": text for name, text in files.items()}, options)


def edges(batch: Batch, kind: EdgeKind) -> set[tuple[str, str]]:
    return {
        (str(a.subject), str(a.object))
        for s in batch.snapshots
        for a in s.assertions
        if a.kind == kind.value and a.object is not None
    }


def assertions(batch: Batch, kind: str) -> list[Assertion]:
    return [a for s in batch.snapshots for a in s.assertions if a.kind == kind]


def test_statements_split_on_semicolons_outside_strings_with_start_lines() -> None:
    script = "select 1;\n-- note; not a split\ncreate table a as select 'x;y' as v from b;\n"
    statements = split_statements(script, "postgres")
    assert [(s.index, s.line) for s in statements] == [(1, 1), (2, 3)]
    assert statements[1].text == "create table a as select 'x;y' as v from b"


def test_create_table_as_select_links_tables_and_columns() -> None:
    batch = parse(m="CREATE TABLE mart AS SELECT o.id, o.amount * 2 AS doubled FROM src AS o")
    assert edges(batch, EdgeKind.FEEDS) == {("postgres://db/src", "postgres://db/mart")}
    assert edges(batch, EdgeKind.DERIVES) == {
        ("postgres://db/src.id", "postgres://db/mart.id"),
        ("postgres://db/src.amount", "postgres://db/mart.doubled"),
    }


def test_column_edges_carry_their_transformation_kind() -> None:
    batch = parse(
        m="CREATE TABLE t AS SELECT k, upper(name) AS n, sum(v) AS total FROM s GROUP BY k, name"
    )
    kinds = {
        a.object.column: a.attrs["transformation"]
        for a in assertions(batch, "DERIVES")
        if a.object is not None
    }
    assert kinds == {"k": "IDENTITY", "n": "TRANSFORMATION", "total": "AGGREGATION"}


def test_insert_with_a_column_list_maps_outputs_by_position() -> None:
    batch = parse(m="INSERT INTO t (a, b) SELECT x, sum(y) FROM s GROUP BY x")
    assert edges(batch, EdgeKind.DERIVES) == {
        ("postgres://db/s.x", "postgres://db/t.a"),
        ("postgres://db/s.y", "postgres://db/t.b"),
    }


def test_ctes_in_front_of_insert_resolve_to_their_base_tables() -> None:
    batch = parse(m="WITH c AS (SELECT id FROM base) INSERT INTO t SELECT id FROM c")
    assert edges(batch, EdgeKind.FEEDS) == {("postgres://db/base", "postgres://db/t")}
    assert edges(batch, EdgeKind.DERIVES) == {("postgres://db/base.id", "postgres://db/t.id")}


def test_views_are_typed_as_views() -> None:
    batch = parse(m="CREATE MATERIALIZED VIEW v AS SELECT a FROM s")
    facts = {str(a.subject): a.attrs for a in assertions(batch, FACT)}
    assert facts["postgres://db/v"]["type"] == "MATERIALIZED VIEW"


def test_names_are_normalized_and_qualified_with_defaults() -> None:
    options = sql.SqlOptions(
        dialect="postgres", namespace="postgres://db", defaults=Defaults("analytics", "public")
    )
    batch = parse(
        options,
        a="CREATE TABLE x AS SELECT id FROM ANALYTICS.PUBLIC.ORDERS",
        b="CREATE TABLE y AS SELECT id FROM orders",
    )
    upstreams = {up for up, _ in edges(batch, EdgeKind.FEEDS)}
    assert upstreams == {"postgres://db/analytics.public.orders"}


def test_snowflake_folds_unquoted_names_to_upper_case() -> None:
    options = sql.SqlOptions(dialect="snowflake", namespace="snowflake://acct")
    batch = parse(options, m="CREATE TABLE db.s.t AS SELECT id FROM db.s.src")
    assert edges(batch, EdgeKind.FEEDS) == {
        ("snowflake://acct/DB.S.SRC", "snowflake://acct/DB.S.T")
    }


def test_star_expands_from_columns_created_upstream_in_another_file() -> None:
    batch = parse(
        b_mart="CREATE TABLE mart AS SELECT * FROM stage",
        a_stage="CREATE TABLE stage AS SELECT id, name FROM raw",
    )
    assert edges(batch, EdgeKind.DERIVES) >= {
        ("postgres://db/stage.id", "postgres://db/mart.id"),
        ("postgres://db/stage.name", "postgres://db/mart.name"),
    }


def test_star_over_an_unknown_table_is_partial_and_invents_no_columns() -> None:
    batch = parse(m="CREATE TABLE mart AS SELECT * FROM unknown_source")
    (feeds,) = assertions(batch, "FEEDS")
    assert feeds.attrs["column_lineage"] == "PARTIAL"
    assert edges(batch, EdgeKind.DERIVES) == set()


def test_declared_columns_carry_their_types() -> None:
    batch = parse(m="CREATE TABLE t (id bigint, amount numeric(10, 2))")
    types = {
        a.subject.column: a.attrs.get("data_type")
        for a in assertions(batch, FACT)
        if a.subject.column
    }
    assert types == {"id": "BIGINT", "amount": "DECIMAL(10, 2)"}


def test_a_bad_statement_is_reported_with_file_and_line_and_the_rest_is_kept() -> None:
    batch = parse(
        m="CREATE TABLE a AS SELECT id FROM s;\n\nCREATE TABLE b AS SELECT FROM WHERE (;\n"
        "CREATE TABLE c AS SELECT id FROM s;"
    )
    (error,) = batch.errors
    assert (error.source, error.line) == ("m.sql", 3)
    assert "cannot parse" in error.message
    assert {down for _, down in edges(batch, EdgeKind.FEEDS)} == {
        "postgres://db/a",
        "postgres://db/c",
    }
    assert not batch.snapshots[0].complete


def test_a_parse_error_inside_a_later_statement_names_its_own_line() -> None:
    batch = parse(m="SELECT 1;\n\nCREATE TABLE b AS\nSELECT id\nFROM WHERE (;")
    (error,) = batch.errors
    assert (error.source, error.line) == ("m.sql", 5)


def test_statements_keep_the_lines_they_start_on_when_parsed_from_the_scripts_tokens() -> None:
    script = "SELECT 1;\n\nINSERT INTO t\nSELECT a FROM s;"
    (_, second) = split_statements(script, "postgres")
    assert (second.line, second.text) == (3, "INSERT INTO t\nSELECT a FROM s")
    assert second.tokens is not None and second.tokens.tokens[0].text == "INSERT"


def test_unreadable_files_are_errors_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.sql").write_bytes(b"\xff\xfe select")
    files = sql.read_sql_files([tmp_path])
    texts, errors = files.texts, files.errors
    assert texts == {}
    assert errors[0].source.endswith("bad.sql")


def test_each_file_is_its_own_source() -> None:
    batch = parse(a="CREATE TABLE x AS SELECT 1 AS one", b="CREATE TABLE y AS SELECT 2 AS two")
    assert [s.source for s in batch.snapshots] == ["sql:a.sql", "sql:b.sql"]


def test_the_result_does_not_depend_on_file_order() -> None:
    texts = sql.read_sql_files([EXAMPLES]).texts
    forward = sql.parse(texts, OPTIONS)
    backward = sql.parse(dict(reversed(texts.items())), OPTIONS)

    def signature(batch: Batch) -> set[tuple[str, tuple[str, str, str], str]]:
        return {
            (s.source, a.identity, a.attrs_digest) for s in batch.snapshots for a in s.assertions
        }

    assert signature(forward) == signature(backward)


def test_tpch_queries_parse_without_errors(shared_fixtures: Path) -> None:
    texts = sql.read_sql_files([shared_fixtures / "sql" / "tpch"]).texts
    batch = sql.parse(texts, OPTIONS)
    assert len(texts) == 22
    assert batch.errors == []


def test_real_snowflake_models_mostly_parse(shared_fixtures: Path) -> None:
    folder = shared_fixtures / "sql" / "mattermost_analytics"
    texts = sql.read_sql_files([folder]).texts
    batch = sql.parse(texts, sql.SqlOptions(dialect="snowflake", namespace="snowflake://acct"))
    assert len(texts) > 200
    assert len(batch.errors) <= len(texts) // 50, [str(e) for e in batch.errors]


def test_a_table_reading_itself_is_read_but_does_not_feed_itself() -> None:
    batch = parse(
        m="INSERT INTO t (id) SELECT s.id FROM s"
        " WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.id = s.id)"
    )
    assert edges(batch, EdgeKind.FEEDS) == {("postgres://db/s", "postgres://db/t")}
    reads = {down for _, down in edges(batch, EdgeKind.READS)}
    assert reads == {"postgres://db/s", "postgres://db/t"}


def test_temporary_tables_never_become_datasets() -> None:
    batch = parse(
        m="CREATE TEMP TABLE tmp AS SELECT id, v FROM src;\n"
        "INSERT INTO final SELECT id, v FROM tmp;"
    )
    datasets = {str(a.subject) for a in assertions(batch, FACT) if a.subject.column is None}
    assert "postgres://db/tmp" not in datasets
    assert edges(batch, EdgeKind.FEEDS) == {("postgres://db/src", "postgres://db/final")}
    assert edges(batch, EdgeKind.DERIVES) == {
        ("postgres://db/src.id", "postgres://db/final.id"),
        ("postgres://db/src.v", "postgres://db/final.v"),
    }


def test_a_dropped_table_is_marked_dropped_in_the_catalog() -> None:
    batch = parse(m="DROP TABLE legacy_orders;")
    facts = {str(a.subject): a.attrs for a in assertions(batch, FACT)}
    assert facts["postgres://db/legacy_orders"] == {"dropped": True, "dropped_at": "m.sql:1"}


def test_drop_then_create_keeps_the_table() -> None:
    batch = parse(m="DROP TABLE IF EXISTS t;\nCREATE TABLE t AS SELECT id FROM s;")
    facts = {str(a.subject): a.attrs for a in assertions(batch, FACT)}
    assert "dropped" not in facts["postgres://db/t"]


def test_joins_and_filters_become_influence_edges_on_the_target() -> None:
    batch = parse(m="INSERT INTO t SELECT o.id FROM o JOIN p ON p.oid = o.id WHERE o.ok")
    influences = {
        (str(a.subject), str(a.object), a.attrs["subtype"]) for a in assertions(batch, "INFLUENCES")
    }
    assert influences == {
        ("postgres://db/p.oid", "postgres://db/t", "JOIN"),
        ("postgres://db/o.id", "postgres://db/t", "JOIN"),
        ("postgres://db/o.ok", "postgres://db/t", "FILTER"),
    }


def test_a_renamed_table_feeds_its_new_name_and_records_the_rename() -> None:
    batch = parse(m="CREATE TABLE s.a AS SELECT id FROM src;\nALTER TABLE s.a RENAME TO b;")
    assert ("postgres://db/s.a", "postgres://db/s.b") in edges(batch, EdgeKind.FEEDS)
    assert ("postgres://db/s.a.id", "postgres://db/s.b.id") in edges(batch, EdgeKind.DERIVES)
    facts = {str(a.subject): a.attrs for a in assertions(batch, FACT)}
    assert facts["postgres://db/s.a"]["renamed_to"] == "postgres://db/s.b"


def test_opaque_commands_are_reported_with_line_and_dialect() -> None:
    options = sql.SqlOptions(dialect="hive", namespace="hive://db")
    batch = parse(
        options,
        m="INSERT INTO t SELECT a FROM s;\nMSCK REPAIR TABLE t;",
    )
    (error,) = batch.errors
    assert (error.source, error.line) == ("m.sql", 2)
    assert error.message.startswith("not understood") and error.message.endswith("(dialect hive)")
    assert batch.counts == {"statements": 2, "understood": 1}


def test_column_edges_inferred_through_a_star_are_marked_inferred() -> None:
    batch = parse(
        m="CREATE TABLE t AS WITH a AS (SELECT * FROM src) SELECT a.x FROM a",
        n="CREATE TABLE u AS SELECT s.x FROM src AS s",
    )
    marked = {
        (a.object.name, a.object.column): a.attrs.get("inferred", False)
        for a in assertions(batch, "DERIVES")
        if a.object is not None
    }
    assert marked == {("t", "x"): True, ("u", "x"): False}


def test_a_job_whose_lineage_is_partial_says_what_it_left_out_and_why() -> None:
    batch = parse(load="INSERT INTO t SELECT id, a.x, y FROM a JOIN b USING (id)")
    [job] = [a for a in assertions(batch, FACT) if a.attrs.get("type") == "SQL"]
    assert job.attrs["lineage_notes"] == [
        "unresolved column y (any of a, b could hold it; no schema says which)"
    ]
