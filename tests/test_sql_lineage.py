"""Script-level SQL lineage, one behaviour per statement kind and dialect feature."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp

from ingesters.sql.lineage import syntactic_sources
from ingesters.sql.names import Defaults, normalize_schema
from ingesters.sql.script import ScriptLineage, analyse_script


def lineage(
    sql: str, dialect: str = "", schema: Mapping[str, Mapping[str, str | None]] | None = None
) -> ScriptLineage:
    return analyse_script(sql, dialect, normalize_schema(schema or {}, dialect, Defaults()))


def tables(result: ScriptLineage) -> tuple[set[str], set[str]]:
    data: dict[str, Any] = result.as_json()
    return set(data["in_tables"]), set(data["out_tables"])


def pairs(result: ScriptLineage) -> set[tuple[str, str, str]]:
    """(downstream, upstream, subtype) for every column edge."""
    data: dict[str, Any] = result.as_json()
    found = set()
    for edge in data["column_lineage"]:
        for upstream in edge["upstreams"]:
            found.add((edge["downstream"], upstream, edge["subtype"]))
    return found


def test_select_reads_tables_and_names_result_columns() -> None:
    result = lineage("SELECT o.id, upper(c.name) AS name FROM o JOIN c ON o.cid = c.id")
    assert tables(result) == ({"o", "c"}, set())
    assert pairs(result) == {("id", "o.id", "IDENTITY"), ("name", "c.name", "TRANSFORMATION")}


def test_insert_with_column_list_maps_by_position() -> None:
    result = lineage("INSERT INTO t (a, b) SELECT x, count(y) FROM s GROUP BY x")
    assert pairs(result) == {("t.a", "s.x", "IDENTITY"), ("t.b", "s.y", "AGGREGATION")}


def test_insert_without_column_list_fills_known_target_columns() -> None:
    result = lineage(
        "INSERT INTO t SELECT x AS whatever, y FROM s", schema={"t": {"a": None, "b": None}}
    )
    assert pairs(result) == {("t.a", "s.x", "IDENTITY"), ("t.b", "s.y", "IDENTITY")}


def test_insert_overwrite_skips_static_partition_columns() -> None:
    result = lineage(
        "INSERT OVERWRITE TABLE t PARTITION (dt='2024-01-01') SELECT x, y FROM s",
        "hive",
        schema={"t": {"a": None, "b": None, "dt": None}},
    )
    assert pairs(result) == {("t.a", "s.x", "IDENTITY"), ("t.b", "s.y", "IDENTITY")}


def test_create_table_as_select() -> None:
    result = lineage("CREATE TABLE t AS SELECT id, amount * 2 AS doubled FROM s")
    assert tables(result) == ({"s"}, {"t"})
    assert pairs(result) == {
        ("t.id", "s.id", "IDENTITY"),
        ("t.doubled", "s.amount", "TRANSFORMATION"),
    }


def test_create_view_with_column_list_renames_outputs() -> None:
    result = lineage("CREATE VIEW v (first, second) AS SELECT a, b FROM s")
    assert pairs(result) == {("v.first", "s.a", "IDENTITY"), ("v.second", "s.b", "IDENTITY")}


def test_select_into_creates_its_target() -> None:
    result = lineage("SELECT a, b INTO new_t FROM s", "tsql")
    assert tables(result) == ({"s"}, {"new_t"})
    assert ("new_t.a", "s.a", "IDENTITY") in pairs(result)


def test_merge_tracks_update_and_insert_branches() -> None:
    result = lineage(
        "MERGE INTO t USING s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET t.total = s.amount + 1 "
        "WHEN NOT MATCHED THEN INSERT (id, total) VALUES (s.id, s.amount)"
    )
    assert tables(result) == ({"s"}, {"t"})
    assert pairs(result) == {
        ("t.total", "s.amount", "TRANSFORMATION"),
        ("t.id", "s.id", "IDENTITY"),
    }


def test_update_from_another_table() -> None:
    result = lineage("UPDATE t SET price = s.price FROM s WHERE t.id = s.id", "postgres")
    assert tables(result) == ({"s"}, {"t"})
    assert pairs(result) == {("t.price", "s.price", "IDENTITY")}


def test_update_through_a_target_alias_writes_the_aliased_table() -> None:
    result = lineage("UPDATE t SET t.c = s.c FROM tab1 t JOIN tab2 s ON t.id = s.id", "tsql")
    assert tables(result) == ({"tab2"}, {"tab1"})
    assert pairs(result) == {("tab1.c", "tab2.c", "IDENTITY")}


def test_update_from_itself_keeps_the_self_pair() -> None:
    result = lineage("UPDATE t SET n = n + 1")
    assert pairs(result) == {("t.n", "t.n", "TRANSFORMATION")}


def test_delete_using_reads_the_other_table() -> None:
    result = lineage("DELETE FROM t USING s WHERE t.id = s.id", "postgres")
    assert tables(result) == ({"s"}, {"t"})


def test_ctes_resolve_to_base_tables() -> None:
    result = lineage("WITH c AS (SELECT id FROM base) INSERT INTO t SELECT id FROM c")
    assert pairs(result) == {("t.id", "base.id", "IDENTITY")}


def test_recursive_cte_terminates_and_keeps_its_base() -> None:
    result = lineage(
        "INSERT INTO t WITH RECURSIVE r AS (SELECT id, parent FROM nodes "
        "UNION ALL SELECT n.id, n.parent FROM nodes n JOIN r ON n.parent = r.id) "
        "SELECT id FROM r",
        "postgres",
    )
    assert ("t.id", "nodes.id", "IDENTITY") in pairs(result)


def test_union_takes_each_branch_by_position() -> None:
    result = lineage("INSERT INTO t SELECT a FROM x UNION ALL SELECT b FROM y")
    assert pairs(result) == {("t.a", "x.a", "IDENTITY"), ("t.a", "y.b", "IDENTITY")}


def test_window_functions_aggregate_their_inputs() -> None:
    result = lineage("INSERT INTO t SELECT sum(v) OVER (PARTITION BY k) AS running FROM s")
    assert ("t.running", "s.v", "AGGREGATION") in pairs(result)


def test_scalar_subquery_columns_flow_into_the_output() -> None:
    result = lineage("INSERT INTO t SELECT (SELECT max(v) FROM s) AS top, a FROM u")
    assert pairs(result) >= {("t.top", "s.v", "AGGREGATION"), ("t.a", "u.a", "IDENTITY")}


def test_star_expands_with_a_known_schema() -> None:
    result = lineage("INSERT INTO t SELECT * FROM s", schema={"s": {"a": None, "b": None}})
    assert pairs(result) == {("t.a", "s.a", "IDENTITY"), ("t.b", "s.b", "IDENTITY")}


def test_star_without_a_schema_invents_no_columns() -> None:
    result = lineage("INSERT INTO t SELECT * FROM s")
    assert tables(result) == ({"s"}, {"t"})
    assert pairs(result) == set()


def test_temporary_tables_collapse_onto_persistent_ones() -> None:
    result = lineage(
        "CREATE TEMPORARY TABLE tmp AS SELECT id, v FROM src;"
        "INSERT INTO final SELECT id, v * 2 AS v FROM tmp;",
        "postgres",
    )
    assert tables(result) == ({"src"}, {"final"})
    assert pairs(result) == {
        ("final.id", "src.id", "IDENTITY"),
        ("final.v", "src.v", "TRANSFORMATION"),
    }


def test_tables_created_then_dropped_are_intermediate() -> None:
    result = lineage(
        "CREATE TABLE stage AS SELECT id FROM src; INSERT INTO final SELECT id FROM stage;"
        "DROP TABLE stage;"
    )
    assert tables(result) == ({"src"}, {"final"})


def test_a_table_dropped_before_it_is_created_is_kept() -> None:
    result = lineage("DROP TABLE IF EXISTS t; CREATE TABLE t AS SELECT id FROM s;")
    assert tables(result) == ({"s"}, {"t"})


def test_column_lineage_runs_end_to_end_through_intermediate_tables() -> None:
    result = lineage(
        "CREATE TABLE mid AS SELECT id, amount FROM src;"
        "INSERT INTO final SELECT id, sum(amount) AS total FROM mid GROUP BY id;"
    )
    assert pairs(result) == {
        ("final.id", "src.id", "IDENTITY"),
        ("final.total", "src.amount", "AGGREGATION"),
    }


def test_procedure_bodies_are_analysed() -> None:
    result = lineage(
        "CREATE PROCEDURE p()\nBEGIN\nINSERT INTO t (c) SELECT c FROM s;\nEND", "bigquery"
    )
    assert pairs(result) == {("t.c", "s.c", "IDENTITY")}


def test_tsql_statements_without_semicolons_are_split() -> None:
    result = lineage("insert into a select * from x\ninsert into b select * from y", "tsql")
    assert tables(result) == ({"x", "y"}, {"a", "b"})


def test_create_table_clone_reads_its_source() -> None:
    result = lineage("CREATE TABLE t2 CLONE t1", "snowflake")
    assert tables(result) == ({"T1"}, {"T2"})


def test_insert_values_with_a_subquery_reads_it() -> None:
    result = lineage("INSERT INTO t VALUES (1, (SELECT max(id) FROM s))")
    assert tables(result) == ({"s"}, {"t"})


def test_quoted_bigquery_names_keep_their_parts() -> None:
    result = lineage("INSERT INTO `proj.ds.t` SELECT a.x FROM `proj.ds.s` AS a", "bigquery")
    assert tables(result) == ({"proj.ds.s"}, {"proj.ds.t"})


def test_snowflake_folds_unquoted_names_upper() -> None:
    result = lineage("INSERT INTO db.s.t SELECT x FROM db.s.src", "snowflake")
    assert pairs(result) == {("DB.S.T.X", "DB.S.SRC.X", "IDENTITY")}


def test_unparsable_statements_are_reported_and_the_rest_kept() -> None:
    result = lineage("INSERT INTO t SELECT a FROM s;\nSELECT FROM WHERE (;\n")
    assert tables(result) == ({"s"}, {"t"})
    assert [(e.line, e.message.startswith("cannot parse")) for e in result.errors] == [(2, True)]
    assert (result.statements, result.understood) == (2, 1)


def test_joins_filters_and_grouping_are_indirect_lineage_of_the_target() -> None:
    result = lineage(
        "INSERT INTO t SELECT o.id, sum(p.amount) AS paid FROM o JOIN p ON p.oid = o.id "
        "WHERE o.status = 'done' GROUP BY o.id"
    )
    data: dict[str, Any] = result.as_json()
    indirect = {(e["downstream"], e["upstream"], e["subtype"]) for e in data["indirect_lineage"]}
    assert indirect == {
        ("t", "p.oid", "JOIN"),
        ("t", "o.id", "JOIN"),
        ("t", "o.status", "FILTER"),
        ("t", "o.id", "GROUP_BY"),
    }
    assert ("t.paid", "p.amount", "AGGREGATION") in pairs(result)


def test_unnest_derives_from_the_array_column() -> None:
    result = lineage(
        "INSERT INTO t SELECT o.id, item FROM orders o, UNNEST(o.items) AS item", "bigquery"
    )
    assert ("t.item", "orders.items", "TRANSFORMATION") in pairs(result)


def test_lateral_flatten_derives_from_its_input() -> None:
    result = lineage(
        "INSERT INTO t SELECT f.value AS v FROM orders o, LATERAL FLATTEN(input => o.items) f",
        "snowflake",
    )
    assert pairs(result) == {("T.V", "ORDERS.ITEMS", "TRANSFORMATION")}


def test_lateral_subquery_columns_resolve_through_it() -> None:
    result = lineage(
        "INSERT INTO t SELECT a.id, l.x FROM a CROSS JOIN LATERAL (SELECT a.v * 2 AS x) l",
        "postgres",
    )
    assert pairs(result) == {("t.id", "a.id", "IDENTITY"), ("t.x", "a.v", "TRANSFORMATION")}


def test_struct_field_access_derives_from_the_struct_column() -> None:
    result = lineage("INSERT INTO t SELECT s.payload.user.id AS uid FROM events s", "bigquery")
    assert pairs(result) == {("t.uid", "events.payload", "TRANSFORMATION")}


def test_pathologically_deep_nesting_is_reported_not_fatal() -> None:
    deep = "SELECT " + "(" * 3000 + "1" + ")" * 3000 + " AS x FROM s"
    result = lineage("INSERT INTO t SELECT a FROM s;\nINSERT INTO u " + deep + ";")
    assert ("t.a", "s.a", "IDENTITY") in pairs(result)
    assert [e.line for e in result.errors] == [2]


def test_rename_carries_columns_to_the_new_name() -> None:
    result = lineage(
        "CREATE TABLE s.a AS SELECT id FROM src; ALTER TABLE s.a RENAME TO b;", "postgres"
    )
    assert pairs(result) == {("s.b.id", "src.id", "IDENTITY")}


def test_a_schema_table_is_found_by_fewer_name_parts() -> None:
    schema = {"shop.public.orders": {"id": None, "amount": None}}
    for name in ("orders", "public.orders"):
        result = lineage(f"INSERT INTO t SELECT * FROM {name}", schema=schema)
        assert pairs(result) == {
            ("t.id", f"{name}.id", "IDENTITY"), ("t.amount", f"{name}.amount", "IDENTITY"),
        }, name  # fmt: skip


def test_a_schema_table_is_found_by_more_name_parts() -> None:
    result = lineage(
        "INSERT INTO t SELECT * FROM shop.public.orders", schema={"public.orders": {"id": None}}
    )
    assert pairs(result) == {("t.id", "shop.public.orders.id", "IDENTITY")}


def test_a_name_several_schema_tables_end_in_stays_unresolved() -> None:
    schema = {"a.orders": {"id": None}, "b.orders": {"code": None}}
    result = lineage("INSERT INTO t SELECT * FROM orders", schema=schema)
    assert pairs(result) == set()


def test_a_schema_table_matches_unquoted_names_as_the_dialect_folds_them() -> None:
    for dialect, sql, schema, expected in (
        ("snowflake", "INSERT INTO t SELECT * FROM sales.orders",
         {"SALES.ORDERS": {"ID": None}}, ("T.ID", "SALES.ORDERS.ID")),
        ("snowflake", "INSERT INTO t SELECT * FROM SALES.ORDERS",
         {"sales.orders": {"id": None}}, ("T.ID", "SALES.ORDERS.ID")),
        ("tsql", "INSERT INTO t SELECT * FROM [dbo].[Orders]",
         {"dbo.orders": {"Id": None}}, ("t.id", "dbo.orders.id")),
    ):  # fmt: skip
        assert {(d, u) for d, u, _ in pairs(lineage(sql, dialect, schema))} == {expected}, sql


def test_a_quoted_lower_case_output_read_unquoted_is_the_same_column() -> None:
    sql = 'INSERT INTO t SELECT loaded_at FROM (SELECT "loaded_at", "LOADED" FROM src) s'
    assert pairs(lineage(sql, "snowflake")) == {("T.LOADED_AT", "SRC.loaded_at", "IDENTITY")}


def test_outputs_differing_only_in_case_are_not_guessed_between() -> None:
    sql = 'INSERT INTO t SELECT ab FROM (SELECT "ab", "aB" FROM src) s'
    assert pairs(lineage(sql, "snowflake")) == set()


def test_a_bigquery_project_with_dashes_names_the_same_schema_table() -> None:
    schema = {"my-project.ds.orders": {"id": None}}
    for name in ("`my-project.ds.orders`", "`my-project`.ds.orders"):
        result = lineage(f"INSERT INTO ds.t SELECT * FROM {name}", "bigquery", schema)
        assert {(d, u) for d, u, _ in pairs(result)} == {("ds.t.id", "my-project.ds.orders.id")}, (
            name
        )


def test_default_database_and_schema_qualify_names_to_meet_the_schema() -> None:
    defaults = Defaults("analytics", "marts")
    schema = normalize_schema({"analytics.marts.orders": {"id": None}}, "snowflake", defaults)
    result = analyse_script("INSERT INTO t SELECT * FROM orders", "snowflake", schema, defaults)
    assert {(d, u) for d, u, _ in pairs(result)} == {
        ("ANALYTICS.MARTS.T.ID", "ANALYTICS.MARTS.ORDERS.ID")
    }


def test_tsql_compound_assignment_reads_the_target_and_the_value() -> None:
    result = lineage(
        "UPDATE t SET t.total += s.amount, hits *= 2 FROM t JOIN s ON t.id = s.id", "tsql"
    )
    assert not result.errors
    assert ("t.total", "s.amount", "TRANSFORMATION") in pairs(result)
    assert tables(result) == ({"s"}, {"t"})


def test_a_temporary_table_written_by_a_lone_statement_keeps_its_lineage() -> None:
    result = lineage("CREATE TEMPORARY TABLE tmp AS SELECT a FROM src", "postgres")
    assert tables(result) == ({"src"}, {"tmp"})
    assert pairs(result) == {("tmp.a", "src.a", "IDENTITY")}


def test_a_hash_temp_table_no_statement_reads_is_an_output() -> None:
    result = lineage("CREATE TABLE #t AS SELECT a FROM src", "redshift")
    assert tables(result) == ({"src"}, {"#t"})


def test_a_temporary_table_read_later_in_the_script_still_collapses() -> None:
    result = lineage(
        "CREATE TEMP TABLE tmp AS SELECT a FROM src; INSERT INTO final SELECT a FROM tmp",
        "postgres",
    )
    assert tables(result) == ({"src"}, {"final"})
    assert pairs(result) == {("final.a", "src.a", "IDENTITY")}


def test_a_scalar_subquery_contributes_its_selected_column_not_its_filter() -> None:
    result = lineage(
        "UPDATE t SET x = (SELECT max(s.v) FROM s WHERE s.k = t.k AND s.flag = 1)", "postgres"
    )
    assert pairs(result) == {("t.x", "s.v", "AGGREGATION")}
    data: dict[str, Any] = result.as_json()
    indirect = {(e["upstream"], e["subtype"]) for e in data["indirect_lineage"]}
    assert indirect == {("s.k", "FILTER"), ("t.k", "FILTER"), ("s.flag", "FILTER")}


def test_a_scalar_subquery_in_a_projection_filters_indirectly() -> None:
    result = lineage("INSERT INTO t SELECT (SELECT s.v FROM s WHERE s.k = u.k) AS v FROM u")
    assert pairs(result) == {("t.v", "s.v", "TRANSFORMATION")}


def test_a_column_the_given_schema_lacks_is_unresolved_not_an_edge() -> None:
    result = lineage(
        "INSERT INTO t SELECT s.a, s.ghost FROM s", schema={"s": {"a": None, "b": None}}
    )
    assert pairs(result) == {("t.a", "s.a", "IDENTITY")}
    assert any("s.ghost is not in the given schema" in e.message for e in result.errors)


def test_columns_inferred_inside_a_script_are_not_a_schema_to_enforce() -> None:
    result = lineage("INSERT INTO t2 (c1) SELECT c1 FROM t1; INSERT INTO t3 (c2) SELECT c2 FROM t2")
    assert ("t3.c2", "t2.c2", "IDENTITY") in pairs(result)


def indirect(result: ScriptLineage) -> set[tuple[str, str]]:
    data: dict[str, Any] = result.as_json()
    return {(e["upstream"], e["subtype"]) for e in data["indirect_lineage"]}


def test_window_specifications_are_direct_and_also_marked_window() -> None:
    result = lineage(
        "INSERT INTO t SELECT row_number() OVER (PARTITION BY g ORDER BY ts) AS n FROM s"
    )
    assert {("t.n", "s.g", "TRANSFORMATION"), ("t.n", "s.ts", "TRANSFORMATION")} <= pairs(result)
    assert {("s.g", "WINDOW"), ("s.ts", "WINDOW")} <= indirect(result)


def test_case_conditions_are_direct_and_also_marked_conditional() -> None:
    result = lineage("INSERT INTO t SELECT CASE WHEN kind = 1 THEN v END AS x FROM s")
    assert ("t.x", "s.kind", "TRANSFORMATION") in pairs(result)
    assert ("s.kind", "CONDITIONAL") in indirect(result)
    assert ("s.v", "CONDITIONAL") not in indirect(result)


def test_columns_named_over_a_star_of_one_source_come_from_that_source() -> None:
    for sql in (
        "INSERT INTO t WITH a AS (SELECT * FROM src) SELECT x, y FROM a",
        "INSERT INTO t SELECT x, y FROM (SELECT * FROM src) d",
        "INSERT INTO t SELECT d.x, d.y FROM (SELECT s.* FROM src s) d",
    ):
        assert pairs(lineage(sql)) == {
            ("t.x", "src.x", "IDENTITY"), ("t.y", "src.y", "IDENTITY"),
        }, sql  # fmt: skip


def test_a_star_over_several_sources_infers_nothing_without_a_schema() -> None:
    result = lineage("INSERT INTO t SELECT x FROM (SELECT * FROM s1 JOIN s2 ON s1.k = s2.k) d")
    assert pairs(result) == set()


def test_a_star_over_several_sources_stands_for_the_one_whose_columns_may_hold_the_name() -> None:
    sql = "INSERT INTO t SELECT x FROM (SELECT * FROM s1 JOIN (SELECT k FROM s2) b USING (k)) d"
    assert pairs(lineage(sql)) == {("t.x", "s1.x", "IDENTITY")}


def test_a_bare_column_goes_to_the_one_source_whose_columns_may_hold_it() -> None:
    sql = "INSERT INTO t SELECT name, d.total FROM (SELECT id, sum(v) AS total FROM o) d, c"
    assert {(d, u) for d, u, _ in pairs(lineage(sql))} == {("t.name", "c.name"),
                                                           ("t.total", "o.v")}  # fmt: skip


def test_a_table_function_names_its_own_columns_so_other_names_are_from_elsewhere() -> None:
    sql = "SELECT student, score FROM tests CROSS JOIN UNNEST(scores) AS u (score)"
    assert {(d, u) for d, u, _ in pairs(lineage(sql, "presto"))} == {
        ("student", "tests.student"), ("score", "tests.scores"),
    }  # fmt: skip


def test_a_lateral_functions_bare_argument_comes_from_the_items_before_it() -> None:
    sql = (
        "CREATE TABLE t AS WITH src AS (SELECT * FROM raw.events) "
        "SELECT f.value:kind::VARCHAR AS kind, loaded_at "
        "FROM src, LATERAL FLATTEN(input => PARSE_JSON(payload)) f"
    )
    result = lineage(sql, "snowflake")
    assert {(d, u) for d, u, _ in pairs(result)} == {
        ("T.KIND", "RAW.EVENTS.PAYLOAD"), ("T.LOADED_AT", "RAW.EVENTS.LOADED_AT"),
    }  # fmt: skip
    assert result.as_json()["notes"] == []


def test_a_subquery_reads_a_bare_name_from_its_own_source_first() -> None:
    sql = "INSERT INTO t SELECT id FROM s, (SELECT 1 AS one) x WHERE ts > (SELECT max(ts) FROM t)"
    result = lineage(sql, "snowflake")
    assert {(d, u) for d, u, _ in pairs(result)} == {("T.ID", "S.ID")}
    assert ("T.TS", "FILTER") in indirect(result)


def test_a_name_the_select_gives_an_output_is_not_placed_by_elimination() -> None:
    sql = "INSERT INTO t SELECT a AS x FROM s, (SELECT b FROM u) d QUALIFY x > 1"
    assert ("S.X", "FILTER") not in indirect(lineage(sql, "snowflake"))


def test_a_query_sqlglot_cannot_qualify_is_still_walked_through_its_ctes() -> None:
    # sqlglot's optimizer asserts on ORDER BY 1 over a star
    sql = "INSERT INTO t WITH c AS (SELECT * FROM src ORDER BY 1) SELECT a, b FROM c"
    assert pairs(lineage(sql)) == {("t.a", "src.a", "IDENTITY"), ("t.b", "src.b", "IDENTITY")}


def test_the_syntactic_reading_never_takes_a_cte_for_a_table() -> None:
    query = sqlglot.parse_one("WITH c AS (SELECT x FROM src) SELECT c.x, s.y FROM c, s")
    assert isinstance(query, exp.Query)
    assert [(name, [(t, c) for t, c, _ in found]) for name, found in syntactic_sources(query)] == [
        ("x", []), ("y", [(("s",), "y")]),
    ]  # fmt: skip


AMBIGUOUS = "INSERT INTO t SELECT id, a.x, y FROM a JOIN b USING (id)"


def test_a_using_key_comes_from_both_joined_tables() -> None:
    assert {(d, u) for d, u, _ in pairs(lineage(AMBIGUOUS, "postgres"))} >= {
        ("t.id", "a.id"), ("t.id", "b.id"),
    }  # fmt: skip


def test_an_unqualified_column_several_sources_could_hold_is_reported_not_guessed() -> None:
    result = lineage(AMBIGUOUS, "postgres")
    assert not [p for p in pairs(result) if p[0] == "t.y"]
    data: dict[str, Any] = result.as_json()
    assert data["notes"] == [
        {
            "line": 1,
            "message": "unresolved column y (any of a, b could hold it; no schema says which)",
        }
    ]


def test_a_schema_resolves_what_would_be_ambiguous() -> None:
    result = lineage(AMBIGUOUS, "postgres", {"a": {"id": "int", "x": "int"},
                                             "b": {"id": "int", "y": "int"}})  # fmt: skip
    assert ("t.y", "b.y", "IDENTITY") in pairs(result)
    assert result.as_json()["notes"] == []


def test_teradata_title_and_format_phrases_leave_the_column_as_it_is() -> None:
    sql = "CREATE VIEW v AS SELECT name, dob (FORMAT 'YYYY-MM-DD', TITLE 'Birthdate') FROM emp"
    assert pairs(lineage(sql, "teradata")) == {
        ("v.name", "emp.name", "IDENTITY"), ("v.dob", "emp.dob", "IDENTITY"),
    }  # fmt: skip


def test_a_teradata_named_phrase_is_an_alias() -> None:
    sql = "CREATE VIEW v AS SELECT salary * 12 (NAMED yearly) FROM emp"
    assert pairs(lineage(sql, "teradata")) == {("v.yearly", "emp.salary", "TRANSFORMATION")}


def test_hive_exchange_partition_moves_the_other_tables_data_into_the_first() -> None:
    result = lineage(
        "ALTER TABLE tab1 EXCHANGE PARTITION (pt='part1') WITH TABLE tab2", "hive",
        {"tab1": {"id": "int", "pt": "string"}, "tab2": {"id": "int", "pt": "string"}},
    )  # fmt: skip
    assert tables(result) == ({"tab2"}, {"tab1"})
    assert ("tab1.id", "tab2.id", "IDENTITY") in pairs(result)


def test_natural_join_keys_come_from_both_sides_when_a_schema_names_them() -> None:
    schema = {"a": {"id": "int", "v": "int"}, "b": {"id": "int", "w": "int"}}
    result = lineage("INSERT INTO t SELECT id, v FROM a NATURAL JOIN b", "postgres", schema)
    assert {(d, u) for d, u, _ in pairs(result)} == {("t.id", "a.id"), ("t.id", "b.id"),
                                                     ("t.v", "a.v")}  # fmt: skip
