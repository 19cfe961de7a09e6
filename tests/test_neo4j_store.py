"""The Neo4j store's own logic, without a server: the rows its statements take, the
parameters each statement declares, error mapping with the driver's real exception types,
migrations split into statements, and the Cypher linter CI runs. (The behaviour shared
with the embedded store is the conformance suite, run against Neo4j when
BATON_NEO4J_URI is set.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from neo4j.exceptions import AuthError, ClientError, Neo4jError, ServiceUnavailable

from catalog.config import Neo4jSettings
from catalog.domain import FACT, Assertion, EdgeKind, dataset_ref
from catalog.errors import QueryTimeout, StoreUnavailable
from catalog.ledger import GENESIS_HASH, Change, ChangeOp, LedgerDraft, seal, verify
from catalog.stores import migrations
from catalog.stores.neo4j import cypher, rows
from catalog.stores.neo4j.lint_manifest import manifest
from catalog.stores.neo4j.store import Neo4jStore, translated_errors
from tests.conftest import PROJECT

A, B = dataset_ref("pg://db", "a"), dataset_ref("pg://db", "b")
LINTER = PROJECT / "tools" / "cypher-lint"


def added() -> list[tuple[str, Assertion]]:
    return [
        ("s1", Assertion(kind=FACT, subject=A, attrs={"type": "TABLE"})),
        ("s1", Assertion(kind=FACT, subject=B)),
        ("s1", Assertion(kind=EdgeKind.FEEDS.value, subject=A, object=B, attrs={"job": "j"})),
    ]


def entry(seq: int = 1) -> object:
    draft = LedgerDraft("cli:ana", "sql", "demo", [Change(ChangeOp.ADDED, "s1", "FACT", A.key,
                        None, "d")], [A.key])  # fmt: skip
    return seal(draft, seq=seq, at=datetime(2026, 1, 1, tzinfo=UTC), prev_hash=GENESIS_HASH)


# -- rows -------------------------------------------------------------------------------------


def test_every_node_an_addition_touches_is_merged_once() -> None:
    assert [r["key"] for r in rows.node_rows(added())] == [A.key, B.key]
    assert rows.node_rows(added())[0] == {
        "key": A.key, "kind": "DATASET", "namespace": "pg://db", "name": "a", "column": None,
    }  # fmt: skip


def test_additions_split_into_facts_and_edges_keeping_their_order() -> None:
    facts, edges = rows.added_rows(added())
    assert [(f["subject"], f["ord"]) for f in facts] == [(A.key, 0), (B.key, 1)]
    [edge] = edges
    assert (edge["kind"], edge["object"], edge["ord"]) == ("FEEDS", B.key, 2)
    assert json.loads(edge["attrs"]) == {"job": "j"}
    assert edge["digest"] == added()[2][1].attrs_digest


def test_ended_identities_split_into_facts_and_edges() -> None:
    facts, edges = rows.ended_rows([("s1", (FACT, A.key, "")), ("s1", ("FEEDS", A.key, B.key))])
    assert facts == [{"source": "s1", "subject": A.key}]
    assert edges == [{"source": "s1", "kind": "FEEDS", "subject": A.key, "object": B.key}]


def test_open_assertions_read_back_as_the_write_path_compares_them() -> None:
    found = rows.open_identities(
        [{"source": "s1", "subject": A.key, "digest": "d1"}],
        [{"source": "s1", "kind": "FEEDS", "subject": A.key, "object": B.key, "digest": "d2"}],
    )
    assert found == {("s1", (FACT, A.key, "")): "d1", ("s1", ("FEEDS", A.key, B.key)): "d2"}


def test_a_ledger_entry_survives_the_round_trip_through_node_properties() -> None:
    original = entry()
    properties = rows.ledger_properties(original)  # type: ignore[arg-type]
    assert all(isinstance(v, str | int | list) for v in properties.values())
    restored = rows.ledger_entry(properties)
    assert restored == original
    assert verify([restored]).ok


def test_rows_are_sent_in_bounded_batches() -> None:
    assert [len(b) for b in rows.batches(list(range(12_001)), 5_000)] == [5_000, 5_000, 2_001]
    assert list(rows.batches([], 5_000)) == []


# -- statements -------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", list(cypher.STATEMENTS.values()), ids=lambda s: s.name)
def test_a_statement_uses_exactly_the_parameters_it_declares(
    statement: cypher.Statement,
) -> None:
    used = set(re.findall(r"\$(\w+)", statement.text))
    assert used == set(statement.example), statement.name
    assert statement.bind(**statement.example) == statement.example


def test_binding_refuses_missing_and_unknown_parameters() -> None:
    with pytest.raises(ValueError, match=r"missing parameters \['as_of'\], unknown \['asof'\]"):
        cypher.NODE_FACTS.bind(keys=[A.key], asof=1)


def test_statement_texts_hold_no_values() -> None:
    for statement in cypher.STATEMENTS.values():
        literals = re.findall(r"'([^']*)'", statement.text)
        assert set(literals) <= {"ended", "added", "FACT", "ledger"}, statement.name


def test_migrations_split_into_their_statements() -> None:
    [initial] = migrations.load("neo4j")
    statements = migrations.cypher_statements(initial.text)
    lines = [line.strip() for line in initial.text.splitlines() if line.strip()]
    assert len(statements) == sum(1 for line in lines if line.endswith(";"))
    assert all(s.startswith("CREATE ") and "//" not in s for s in statements)


def test_the_lint_manifest_lists_every_statement_and_migration() -> None:
    names = [s["name"] for s in manifest()["statements"]]
    assert set(cypher.STATEMENTS) <= set(names)
    assert any(name.startswith("migrations/neo4j/0001_initial.cypher") for name in names)


@pytest.fixture
def linter() -> Path:
    if shutil.which("node") is None or not (LINTER / "node_modules").is_dir():
        pytest.skip("the Cypher linter is not installed (make test runs npm ci first)")
    return LINTER / "lint.mjs"


def test_the_linter_passes_every_statement_baton_sends(linter: Path) -> None:
    done = subprocess.run(
        ["node", str(linter)], input=json.dumps(manifest()), capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert ", 0 problems" in done.stdout


def test_the_linter_fails_on_a_misspelt_label_or_an_undeclared_parameter(linter: Path) -> None:
    broken = manifest()
    broken["statements"] = [
        {"name": "typo", "text": "MATCH (n:Nod) RETURN n.key AS key", "parameters": {}},
        {"name": "param", "text": "MATCH (n:Node) WHERE n.key = $k RETURN n", "parameters": {}},
    ]
    done = subprocess.run(
        ["node", str(linter)], input=json.dumps(broken), capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "typo" in done.stderr and "Label Nod" in done.stderr
    assert "param" in done.stderr and "Parameter $k is not defined" in done.stderr


# -- errors and settings ----------------------------------------------------------------------


def test_refused_credentials_become_unavailable_without_the_password() -> None:
    with pytest.raises(StoreUnavailable) as refused, translated_errors(30):
        raise AuthError("The client is unauthorized due to authentication failure.")
    assert "BATON_NEO4J_PASSWORD" in str(refused.value)


SERVER_ERRORS = pytest.mark.filterwarnings("ignore:Neo4jError.hydrate is deprecated")
"""`hydrate` is how the driver builds an error from a server's failure message; it is the
only public way to make one with a given code (and warns that it is internal)."""


@SERVER_ERRORS
def test_a_server_side_timeout_becomes_a_timeout_error() -> None:
    timed_out = Neo4jError.hydrate(
        code="Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        message="The transaction has been terminated.",
    )
    assert isinstance(timed_out, ClientError)
    with pytest.raises(QueryTimeout, match="longer than 2 s"), translated_errors(2):
        raise timed_out


@SERVER_ERRORS
def test_other_client_errors_pass_through() -> None:
    syntax = Neo4jError.hydrate(code="Neo.ClientError.Statement.SyntaxError", message="bad")
    with pytest.raises(ClientError), translated_errors(2):
        raise syntax


def test_settings_never_show_the_password() -> None:
    assert "s3cret" not in repr(Neo4jSettings("bolt://neo4j:7687", "neo4j", "s3cret"))


def test_an_unreachable_server_is_unavailable_after_the_retry_budget() -> None:
    store = Neo4jStore(Neo4jSettings("bolt://127.0.0.1:1", "neo4j", "s3cret"), retry_seconds=0.2)
    try:
        with pytest.raises(StoreUnavailable, match="unavailable") as failed:
            store.seq_at(datetime.now(UTC))
        assert "s3cret" not in str(failed.value)
    finally:
        store.close()


def test_service_unavailable_maps_to_unavailable() -> None:
    with pytest.raises(StoreUnavailable), translated_errors(2):
        raise ServiceUnavailable("no route")  # type: ignore[no-untyped-call]
