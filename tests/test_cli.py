"""The `baton` command line, end to end on a real embedded store in a temporary home."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from catalog.cli import app
from tests.conftest import EXAMPLES, PROJECT, baton, run_sql
from tests.conftest import OWNERSHIP_MAP as OWNERSHIP

DEMO_ARGS = [
    "--namespace",
    "postgres://warehouse:5432",
    "--default-database",
    "analytics",
    "--default-schema",
    "public",
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the demo SQL project that tests may edit."""
    copy = tmp_path / "warehouse"
    shutil.copytree(EXAMPLES, copy)
    return copy


def ingest(home: Path, *paths: Path) -> Result:
    return baton(home, "ingest", "sql", *map(str, paths), *DEMO_ARGS, "--json")


def test_migrate_applies_then_reports_up_to_date(home: Path) -> None:
    assert "applied 0001_initial" in baton(home, "migrate").output
    assert "up to date" in baton(home, "migrate").output


def test_ingesting_the_demo_writes_one_ledger_entry(home: Path, project: Path) -> None:
    result = ingest(home, project)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["changed"] and report["ledger_seq"] == 1 and report["errors"] == []


def test_ingesting_the_same_files_again_reports_no_changes(home: Path, project: Path) -> None:
    ingest(home, project)
    again = baton(home, "ingest", "sql", str(project), *DEMO_ARGS)
    assert again.exit_code == 0
    assert "no changes" in again.output
    log = json.loads(baton(home, "ledger", "log", "--json").stdout)
    assert [e["seq"] for e in log] == [1]


def test_editing_a_file_ends_the_edge_it_no_longer_asserts(home: Path, project: Path) -> None:
    ingest(home, project)
    model = project / "marts" / "fct_orders.sql"
    model.write_text(
        model.read_text()
        .replace("LEFT JOIN intermediate.int_order_payments AS p ON p.order_id = o.order_id", "")
        .replace("coalesce(p.net_paid, 0)", "0")
    )
    report = json.loads(ingest(home, project).stdout)
    assert report["summary"]["ended:FEEDS"] == 1

    lineage = json.loads(
        baton(
            home,
            "lineage",
            "analytics.marts.fct_orders",
            "--direction",
            "UPSTREAM",
            "--depth",
            "1",
            "--json",
        ).stdout
    )
    upstream = {n["node"] for n in lineage["nodes"]}
    assert "postgres://warehouse:5432/analytics.intermediate.int_order_payments" not in upstream

    log = json.loads(
        baton(
            home, "ledger", "log", "--entity", "analytics.intermediate.int_order_payments", "--json"
        ).stdout
    )
    assert [e["seq"] for e in log] == [2, 1]  # newest first


def test_a_bad_file_is_reported_by_line_and_the_rest_is_ingested(home: Path, project: Path) -> None:
    (project / "broken.sql").write_text("-- oops\nCREATE TABLE x AS SELECT FROM (;\n")
    result = ingest(home, project)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["changed"]
    (error,) = report["errors"]
    assert error.startswith(f"{(project / 'broken.sql').as_posix()}:2: cannot parse")


def test_lineage_of_an_unknown_dataset_fails_clearly(home: Path, project: Path) -> None:
    ingest(home, project)
    result = baton(home, "lineage", "no.such.table")
    assert result.exit_code == 2
    assert "no dataset named 'no.such.table'" in result.output


def test_ledger_verify_passes_then_names_a_tampered_entry(home: Path, project: Path) -> None:
    ingest(home, project)
    assert baton(home, "ledger", "verify").exit_code == 0
    run_sql(
        home / "baton.db",
        "DROP TRIGGER ledger_no_update",
        "UPDATE ledger SET reason = 'nothing to see' WHERE seq = 1",
    )
    result = baton(home, "ledger", "verify")
    assert result.exit_code == 1
    assert "ledger broken at entry 1" in result.output


def test_schema_export_check_accepts_the_checked_in_sdl() -> None:
    sdl = PROJECT / "graphql" / "schema.graphql"
    result = CliRunner().invoke(app, ["schema", "export", "--check", "--output", str(sdl)])
    assert result.exit_code == 0, result.output


def test_schema_export_check_rejects_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    result = CliRunner().invoke(app, ["schema", "export", "--check", "--output", str(stale)])
    assert result.exit_code == 1


def test_the_console_script_runs_as_a_process(home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "catalog", "--home", str(home), "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "0001_initial" in done.stdout


def test_sql_lineage_reads_standard_input_and_prints_json() -> None:
    result = CliRunner().invoke(
        app,
        ["sql", "lineage", "--dialect", "postgres"],
        input="INSERT INTO t (a) SELECT s.x FROM s",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["in_tables"], report["out_tables"]) == (["s"], ["t"])
    assert report["column_lineage"] == [
        {"downstream": "t.a", "upstreams": ["s.x"], "kind": "DIRECT", "subtype": "IDENTITY"}
    ]


def test_sql_lineage_uses_a_schema_file_to_resolve_columns(tmp_path: Path) -> None:
    (tmp_path / "q.sql").write_text("INSERT INTO t SELECT * FROM s")
    (tmp_path / "schema.json").write_text('{"s": {"a": "int", "b": null}}')
    result = CliRunner().invoke(
        app, ["sql", "lineage", str(tmp_path / "q.sql"), "--schema", str(tmp_path / "schema.json")]
    )
    downstream = [e["downstream"] for e in json.loads(result.stdout)["column_lineage"]]
    assert sorted(downstream) == ["t.a", "t.b"]


def test_ingest_reports_statement_coverage(home: Path, project: Path) -> None:
    (project / "broken.sql").write_text("SELECT FROM WHERE (;\n")
    report = json.loads(ingest(home, project).stdout)
    assert report["statements"] == {"statements": 30, "understood": 29}


def test_columns_known_to_the_catalog_expand_stars_in_later_ingests(
    home: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "stage.sql").write_text("CREATE TABLE stage AS SELECT id, name FROM raw;")
    (second / "mart.sql").write_text("CREATE TABLE mart AS SELECT * FROM stage;")
    baton(home, "ingest", "sql", str(first), "--json")
    baton(home, "ingest", "sql", str(second), "--json")
    lineage = json.loads(
        baton(
            home, "lineage", "mart", "--column", "name", "--direction", "UPSTREAM", "--json"
        ).stdout
    )
    assert "postgres://default/stage.name" in {n["node"] for n in lineage["nodes"]}


def test_an_unknown_dialect_is_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sql", "lineage", "--dialect", "bogus"], input="select 1")
    assert result.exit_code == 2
    assert "unknown SQL dialect 'bogus'" in result.output


def test_a_misspelt_dialect_suggests_the_near_one() -> None:
    for typed, meant in (
        ("snowflak", "snowflake"),
        ("sqlserver", "tsql"),
        ("Postgress", "postgres"),
    ):
        result = CliRunner().invoke(app, ["sql", "lineage", "--dialect", typed], input="select 1")
        assert result.exit_code == 2
        assert "did you mean" in result.output and meant in result.output, typed


def test_a_read_on_a_store_that_does_not_exist_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "typo"
    result = baton(missing, "lineage", "analytics.marts.fct_orders")
    assert result.exit_code == 2
    assert f"no Baton store at {missing / 'baton.db'}" in result.output
    assert not missing.exists()


def test_info_names_the_store_in_use(home: Path, project: Path) -> None:
    ingest(home, project)
    facts = json.loads(baton(home, "info", "--json").stdout)
    assert facts["location"] == str((home / "baton.db").resolve())
    assert facts["exists"] is True and facts["ledger_entries"] == 1
    assert json.loads(baton(home / "nowhere", "info", "--json").stdout)["exists"] is False


def test_the_ledger_log_shows_the_newest_first_and_how_to_page_back(
    home: Path, project: Path
) -> None:
    ingest(home, project)
    (project / "marts" / "extra.sql").write_text(
        "CREATE TABLE analytics.marts.extra AS SELECT 1 AS x"
    )
    ingest(home, project)
    newest = baton(home, "ledger", "log", "--first", "1")
    assert "older entries follow: --before 2" in newest.output
    older = json.loads(baton(home, "ledger", "log", "--before", "2", "--json").stdout)
    assert [e["seq"] for e in older] == [1]


def test_the_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("baton ")


def run_baton(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real `baton` entry point in its own process (the top-level error handling)."""
    return subprocess.run(
        [sys.executable, "-m", "catalog", *args],
        input=stdin, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_missing_input_file_is_one_line_and_exit_2(home: Path, project: Path) -> None:
    ingest(home, project)
    result = run_baton("--home", str(home), "impact", "--old-sql", "/nope.sql", "--new-sql", "/x")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: No such file or directory: /nope.sql"


def test_an_export_to_a_missing_folder_is_one_line_and_exit_2(home: Path, project: Path) -> None:
    ingest(home, project)
    target = home / "no" / "such" / "ledger.jsonl"
    result = run_baton("--home", str(home), "ledger", "export", str(target))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"cannot write {target}" in result.stderr


def test_serve_on_a_busy_port_fails_before_claiming_to_serve(home: Path, project: Path) -> None:
    ingest(home, project)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_baton("--home", str(home), "serve", "--port", port)
    assert result.returncode == 2
    assert "serving" not in result.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_sql_lineage_exits_1_when_it_understood_nothing_and_says_why_in_words() -> None:
    result = run_baton("sql", "lineage", "--dialect", "postgres", stdin="SELECT FROM (")
    assert result.returncode == 1
    [error] = json.loads(result.stdout)["errors"]
    assert error["message"] == "cannot parse: Expected table name but got the end of the statement"


def test_help_shows_flags_without_a_value() -> None:
    result = CliRunner().invoke(app, ["ledger", "verify", "--help"], env={"COLUMNS": "80"})
    assert "--deep " in result.stdout and "<bool>" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_lineage_text_says_which_node_feeds_which_without_cutting_names(
    home: Path, project: Path
) -> None:
    ingest(home, project)
    result = baton(home, "lineage", "fct_orders", "--direction", "UPSTREAM", "--depth", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "lineage of analytics.marts.fct_orders  in postgres://warehouse:5432"
    assert "  analytics.staging.stg_orders -> analytics.marts.fct_orders  (feeds)" in lines
    assert "…" not in result.stdout


def test_the_ledger_log_never_cuts_what_an_entry_did(home: Path, project: Path) -> None:
    ingest(home, project)
    result = baton(home, "ledger", "log")
    assert "…" not in result.stdout and "added:HAS_COLUMN" in result.stdout


def test_lineage_json_names_jobs_instead_of_nesting_their_json_keys(
    home: Path, project: Path
) -> None:
    ingest(home, project)
    found = json.loads(baton(home, "lineage", "fct_orders", "--depth", "1", "--json").stdout)
    jobs = {e["job"] for e in found["edges"] if "job" in e}
    assert jobs and all(not job.startswith("[") for job in jobs)
    assert "baton.sql/warehouse:marts/fct_orders.sql#analytics.marts.fct_orders" in jobs


def test_every_ingest_reports_its_write_the_same_way(home: Path, project: Path) -> None:
    sql_ingest = json.loads(ingest(home, project).stdout)
    owners = json.loads(baton(home, "ingest", "ownership", str(OWNERSHIP), "--json").stdout)
    for report in (sql_ingest, owners):
        assert {"changed", "ledger_seq", "summary"} <= report.keys()
    text = baton(home, "ingest", "ownership", str(OWNERSHIP)).stdout
    assert text.strip() == "no changes"


def test_impact_takes_json_like_every_command(home: Path, project: Path) -> None:
    ingest(home, project)
    report = baton(home, "impact", "--drop-column", "stg_orders.status", "--json")
    assert json.loads(report.stdout)["severity"] == "breaking"


def test_owners_read_whole_at_80_columns(home: Path, project: Path) -> None:
    ingest(home, project)
    baton(home, "ingest", "ownership", str(OWNERSHIP))
    shown = baton(home, "owners", "fct_orders", "--column", "net_paid").stdout
    assert "  steward   team:finance-data" in shown and "…" not in shown
    assert "(inherited from the dataset)" in shown
    held = baton(home, "owned-by", "team:finance-data").stdout
    assert "postgres://warehouse:5432/analytics.marts.fct_daily_revenue" in held


def test_history_reads_whole_at_80_columns(home: Path, project: Path) -> None:
    ingest(home, project)
    shown = baton(home, "history", "fct_orders").stdout
    assert shown.startswith("history of analytics.marts.fct_orders  in postgres://warehouse:5432")
    assert "  FEEDS analytics.marts.fct_orders -> analytics.marts.customer_cohorts" in shown
    assert "…" not in shown


def test_owners_as_of_before_any_record_explains_as_of_and_at(home: Path, project: Path) -> None:
    ingest(home, project)
    baton(home, "ingest", "ownership", str(OWNERSHIP))
    result = baton(home, "owners", "fct_orders", "--as-of", "2020-01-01T00:00:00Z")
    assert "nobody holds a role here" in result.output
    assert "--at DAY asks who owns it on a day" in result.output
