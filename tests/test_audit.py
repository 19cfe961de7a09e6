"""The auditor's view: the ledger by entity, actor and source with before/after per change,
the catalog as of past instants, and an export that verifies offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog.api import auth
from catalog.api.app import create_app
from catalog.cli import app
from catalog.contracts import contract_ref
from catalog.domain import column_ref, owner_named
from catalog.errors import NotFound
from catalog.handoffs import HandoffState
from catalog.ledger import verify_export
from catalog.security import Role, TokenStore
from catalog.services import audit, contracts, handoffs, ownership
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from tests.conftest import (
    EDITOR,
    MARIA,
    NAMESPACE,
    ORDERS,
    SAM,
    approve,
    open_handoff,
    publish_contract,
    running,
)

ORDERS_ID = "urn:acme:contract:fct-orders"


def instant_after(store: EmbeddedStore, seq: int) -> datetime:
    [entry] = store.ledger(LedgerQuery(after_seq=seq - 1, limit=1))
    return entry.at


def export_lines(store: EmbeddedStore) -> list[str]:
    path = Path(store.path).parent / "export.jsonl"
    with path.open("w", encoding="utf-8") as sink:
        audit.export(store, sink)
    return path.read_text(encoding="utf-8").splitlines()


# -- browsing -------------------------------------------------------------------------------


def test_an_entry_shows_each_property_before_and_after(owned_warehouse: EmbeddedStore) -> None:
    open_handoff(owned_warehouse, "h")
    [created] = owned_warehouse.ledger(LedgerQuery(actor="token:ci", limit=5))
    detail = audit.entry_detail(owned_warehouse, created.seq)
    [handoff_fact] = [d for d in detail.diffs if d.kind == "FACT" and d.subject.name == "h"]
    assert handoff_fact.op == "added" and handoff_fact.after is not None
    assert handoff_fact.after["state"] == "open"


def test_a_changed_fact_is_one_diff_naming_the_changed_properties(
    owned_warehouse: EmbeddedStore,
) -> None:
    ownership.assign(owned_warehouse, ORDERS, "team:crm", "consumer", actor="a", reason="r")
    result = ownership.assign(
        owned_warehouse, ORDERS, "team:crm", "consumer", actor="a", reason="r",
        effective_from=datetime(2026, 1, 1).date(),
    )  # fmt: skip
    assert result.ledger_seq is not None
    [edge] = audit.entry_detail(owned_warehouse, result.ledger_seq).diffs
    assert edge.op == "changed" and edge.kind == "OWNS"
    assert edge.changed_properties == ["roles"]
    assert edge.after is not None
    assert edge.after["roles"]["consumer"]["effective_from"] == "2026-01-01"


def test_the_ledger_is_browsable_by_column_owner_contract_and_source(
    owned_warehouse: EmbeddedStore,
) -> None:
    seq = publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")

    def seqs(**query: Any) -> list[int]:
        return [e.seq for e in owned_warehouse.ledger(LedgerQuery(**query))]

    net_paid = column_ref(NAMESPACE, "analytics.marts.fct_orders", "net_paid")
    assert seqs(entity=net_paid.key) == [1, 2]  # the SQL that derives it; its steward (map)
    assert seqs(entity=owner_named("team:finance-data").key) == [2]
    assert seqs(entity=contract_ref(ORDERS_ID, "1.0.0").key) == [seq]
    assert seqs(source=f"contract:{ORDERS_ID}@1.0.0") == [seq]
    assert seqs(source="ownership-map:warehouse") == [2]


def test_an_unknown_entry_is_not_found(owned_warehouse: EmbeddedStore) -> None:
    with pytest.raises(NotFound, match="no ledger entry 99"):
        audit.entry_detail(owned_warehouse, 99)


# -- as of ----------------------------------------------------------------------------------


def test_owners_as_of_an_instant_before_a_change_are_the_owners_then(
    owned_warehouse: EmbeddedStore,
) -> None:
    before = datetime.now(UTC)
    ownership.assign(owned_warehouse, ORDERS, "team:crm", "operator", actor="a", reason="r")
    now = {str(o.owner.ref) for o in ownership.owners_of(owned_warehouse, ORDERS)}
    then = {str(o.owner.ref) for o in ownership.owners_of(owned_warehouse, ORDERS, as_of=before)}
    assert "team/crm" in now and "team/crm" not in then
    owned_then = ownership.owned_by(owned_warehouse, owner_named("team:crm"), as_of=before)
    assert owned_then == []


def test_contract_versions_as_of_an_instant_are_those_published_by_then(
    owned_warehouse: EmbeddedStore,
) -> None:
    first = publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    publish_contract(owned_warehouse, "fct_orders.v1_1.odcs.yaml")
    then = instant_after(owned_warehouse, first)
    assert [v.version for v in contracts.versions(owned_warehouse, ORDERS_ID, then)] == ["1.0.0"]
    assert contracts.version(owned_warehouse, ORDERS_ID, as_of=then).version == "1.0.0"
    assert [v.version for v in contracts.of_dataset(owned_warehouse, ORDERS, then)] == ["1.0.0"]
    assert contracts.version(owned_warehouse, ORDERS_ID).version == "1.1.0"


def test_a_handoff_as_of_before_its_completion_is_open(owned_warehouse: EmbeddedStore) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1_1.odcs.yaml")
    open_handoff(owned_warehouse, "h")
    approve(owned_warehouse, "h", "engineering", SAM)
    approve(owned_warehouse, "h", "governance", MARIA)
    before = datetime.now(UTC)
    handoffs.complete(owned_warehouse, "h", principal=EDITOR, reason="release")
    assert handoffs.get(owned_warehouse, "h", as_of=before).state is HandoffState.OPEN
    assert handoffs.get(owned_warehouse, "h").state is HandoffState.COMPLETED


# -- export ---------------------------------------------------------------------------------


def test_an_export_verifies_on_its_own(owned_warehouse: EmbeddedStore) -> None:
    lines = export_lines(owned_warehouse)
    result = verify_export(lines)
    assert result.ok and result.entries_checked == len(lines) == 2


def test_an_edited_export_line_is_detected(owned_warehouse: EmbeddedStore) -> None:
    lines = export_lines(owned_warehouse)
    record = json.loads(lines[1])
    record["actor"] = "test:mallory"
    lines[1] = json.dumps(record)
    result = verify_export(lines)
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "altered" in str(result.problem)


def test_a_removed_export_line_is_detected(owned_warehouse: EmbeddedStore) -> None:
    result = verify_export(export_lines(owned_warehouse)[1:])
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_a_line_that_is_not_an_entry_is_detected(owned_warehouse: EmbeddedStore) -> None:
    lines = export_lines(owned_warehouse)
    result = verify_export([lines[0], '{"seq": 2}', lines[1]])
    assert (result.ok, result.first_bad_seq) == (False, 2)
    assert "line 2 is not a ledger entry" in str(result.problem)


def test_the_cli_exports_and_verifies_offline(owned_warehouse: EmbeddedStore) -> None:
    home = Path(owned_warehouse.path).parent
    export = home / "ledger.jsonl"
    runner = CliRunner()
    assert runner.invoke(app, ["--home", str(home), "ledger", "export", str(export)]).exit_code == 0
    offline = runner.invoke(
        app, ["--home", "/nonexistent", "ledger", "verify", "--export", str(export)]
    )
    assert offline.exit_code == 0 and "ledger intact: 2 entries" in offline.output
    export.write_text(export.read_text().replace("test:alice", "test:eve", 1))
    tampered = runner.invoke(app, ["ledger", "verify", "--export", str(export)])
    assert tampered.exit_code == 1


# -- the auditor over HTTP ------------------------------------------------------------------


@pytest.fixture
def audited(owned_warehouse: EmbeddedStore, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = TokenStore(tmp_path)
    secrets = {role.value: tokens.create(role.value, [role])[1] for role in Role}
    gate = auth.Gate(tokens=tokens, anonymous=auth.NOBODY)
    with running(create_app(owned_warehouse, gate=gate)) as url:
        yield url, secrets


def test_the_auditor_downloads_an_export_that_verifies(
    audited: tuple[str, dict[str, str]],
) -> None:
    url, secrets = audited
    response = httpx.get(
        f"{url}/api/v1/ledger/export", headers={"Authorization": f"Bearer {secrets['auditor']}"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert verify_export(response.text.splitlines()).entries_checked == 2


@pytest.mark.parametrize(("caller", "status"), [("editor", 403), ("reader", 403), (None, 401)])
def test_the_export_needs_the_ledger_permission(
    audited: tuple[str, dict[str, str]], caller: str | None, status: int
) -> None:
    url, secrets = audited
    headers = {"Authorization": f"Bearer {secrets[caller]}"} if caller else {}
    assert httpx.get(f"{url}/api/v1/ledger/export", headers=headers).status_code == status


def test_the_auditor_reads_an_entry_and_changes_nothing(
    audited: tuple[str, dict[str, str]],
) -> None:
    url, secrets = audited
    headers = {"Authorization": f"Bearer {secrets['auditor']}"}
    query = "{ ledgerEntry(seq: 2) { entry { actor } diffs { op kind after } } }"
    body = httpx.post(f"{url}/graphql", json={"query": query}, headers=headers).json()
    detail = body["data"]["ledgerEntry"]
    assert detail["entry"]["actor"] == "test:alice"
    assert {d["kind"] for d in detail["diffs"]} >= {"FACT", "OWNS"}
    mutation = (
        'mutation { assignOwner(namespace: "x://y", name: "t", owner: "team:a", '
        'role: "steward") { changed } }'
    )
    refused = httpx.post(f"{url}/graphql", json={"query": mutation}, headers=headers).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
