"""Handoffs on the demo project: policies, exit criteria with evidence, sign-offs bound to
the caller, stale sign-offs, the gate, completion, and the same over GraphQL and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog.api import auth
from catalog.api.app import create_app
from catalog.cli import app
from catalog.domain import NodeKind, dataset_ref
from catalog.errors import InvalidArgument
from catalog.handoffs import (
    CRITERION_PARAMETERS,
    Criterion,
    Decision,
    HandoffState,
    Move,
    SignOffState,
)
from catalog.security import Forbidden, Principal, Role, TokenStore, Unauthenticated
from catalog.services import catalog, criteria, handoffs, ownership
from catalog.services.handoffs import GateClosed
from catalog.services.ingestion import ingest_dbt
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from ingesters import dbt
from ingesters.policies import parse_policy
from tests.conftest import (
    EDITOR,
    MARIA,
    NAMESPACE,
    ORDERS,
    PROJECT,
    PROMOTE,
    SAM,
    approve,
    open_handoff,
    policy_of,
    publish_contract,
    running,
)

CHANGE_OWNER = PROJECT / "examples" / "handoffs" / "change-owner.yaml"
REVENUE = dataset_ref(NAMESPACE, "analytics.marts.fct_daily_revenue")


def evaluation(store: EmbeddedStore, handoff_id: str) -> Any:
    return handoffs.evaluate(store, handoffs.get(store, handoff_id))


def failing(store: EmbeddedStore, handoff_id: str) -> list[str]:
    return [c.name for c in evaluation(store, handoff_id).criteria if not c.passed]


def states(store: EmbeddedStore, handoff_id: str) -> dict[str, SignOffState]:
    return {s.spec.name: s.state for s in evaluation(store, handoff_id).signoffs}


# -- the whole flow -------------------------------------------------------------------------


def test_a_handoff_from_the_demo_project_goes_through_its_gate(
    owned_warehouse: EmbeddedStore,
) -> None:
    store = owned_warehouse
    handoff_id = open_handoff(store)
    assert failing(store, handoff_id) == ["contract_published", "no_contract_drift"]

    publish_contract(store, "fct_orders.v1.odcs.yaml")  # a contract, but the data has more columns
    assert failing(store, handoff_id) == ["no_contract_drift"]
    approve(store, handoff_id, "engineering", SAM)

    publish_contract(store, "fct_orders.v1_1.odcs.yaml")  # declares them: drift fixed
    assert failing(store, handoff_id) == []
    approve(store, handoff_id, "governance", MARIA)
    assert states(store, handoff_id) == {
        "engineering": SignOffState.STALE,  # signed before the contract changed
        "governance": SignOffState.CURRENT,
    }
    with pytest.raises(GateClosed, match="sign-off engineering is stale"):
        handoffs.complete(store, handoff_id, principal=EDITOR, reason="release")

    approve(store, handoff_id, "engineering", SAM)
    assert evaluation(store, handoff_id).gate_open
    handoffs.complete(store, handoff_id, principal=EDITOR, reason="release")

    assert handoffs.get(store, handoff_id).state is HandoffState.COMPLETED
    assert catalog.get_node(store, ORDERS).attrs["stage"] == "prod"


def test_a_sign_off_goes_stale_naming_what_changed(owned_warehouse: EmbeddedStore) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    handoff_id = open_handoff(owned_warehouse)
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    publish_contract(owned_warehouse, "fct_orders.v1_1.odcs.yaml")
    [_, governance] = evaluation(owned_warehouse, handoff_id).signoffs
    assert governance.state is SignOffState.STALE
    assert "contract" in governance.changed


def test_the_signed_digests_are_recorded_with_the_sign_off(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    [record] = handoffs.signoffs(owned_warehouse, handoff_id)
    assert record.digests == evaluation(owned_warehouse, handoff_id).digests
    assert (record.signer, record.acting_as) == ("token:maria", "person:maria@acme.example")
    assert record.failing_criteria == ("contract_published", "no_contract_drift")


def test_sign_offs_are_immutable_and_each_is_its_own_ledger_entry(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    assert len(handoffs.signoffs(owned_warehouse, handoff_id)) == 2
    entries = owned_warehouse.ledger(LedgerQuery(actor="token:maria", limit=10))
    assert [e.summary.get("ended:FACT", 0) for e in entries] == [0, 0]


# -- who may sign ---------------------------------------------------------------------------


def test_a_signer_without_the_role_on_the_product_is_forbidden(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    with pytest.raises(Forbidden, match="holds no engineer role"):
        approve(owned_warehouse, handoff_id, "engineering", MARIA)


def test_a_token_bound_to_no_owner_cannot_sign(owned_warehouse: EmbeddedStore) -> None:
    handoff_id = open_handoff(owned_warehouse)
    unbound = Principal("token:bot", frozenset({Role.APPROVER}))
    with pytest.raises(Forbidden, match="not bound to an owner"):
        approve(owned_warehouse, handoff_id, "governance", unbound)


def test_signing_needs_the_sign_permission_even_for_an_owner(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    editor_maria = Principal("token:m", frozenset({Role.EDITOR}), owner="person:maria@acme.example")
    with pytest.raises(Forbidden, match="may not sign"):
        approve(owned_warehouse, handoff_id, "governance", editor_maria)


def test_a_team_member_signs_as_the_team(owned_warehouse: EmbeddedStore) -> None:
    handoff_id = open_handoff(owned_warehouse)
    approve(owned_warehouse, handoff_id, "engineering", SAM)
    [record] = handoffs.signoffs(owned_warehouse, handoff_id)
    assert record.acting_as == "team:analytics-engineering"


def test_a_rejection_closes_the_gate_until_approved_again(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    with pytest.raises(InvalidArgument, match="needs a comment"):
        handoffs.sign(
            owned_warehouse, handoff_id, "governance", decision=Decision.REJECT, comment="",
            principal=MARIA,
        )  # fmt: skip
    handoffs.sign(
        owned_warehouse, handoff_id, "governance", decision=Decision.REJECT,
        comment="revenue excludes refunds?", principal=MARIA,
    )  # fmt: skip
    assert states(owned_warehouse, handoff_id)["governance"] is SignOffState.REJECTED
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    assert states(owned_warehouse, handoff_id)["governance"] is SignOffState.CURRENT


def test_a_completed_handoff_takes_no_more_sign_offs(owned_warehouse: EmbeddedStore) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1_1.odcs.yaml")
    handoff_id = open_handoff(owned_warehouse)
    approve(owned_warehouse, handoff_id, "engineering", SAM)
    approve(owned_warehouse, handoff_id, "governance", MARIA)
    handoffs.complete(owned_warehouse, handoff_id, principal=EDITOR, reason="release")
    with pytest.raises(InvalidArgument, match="completed"):
        approve(owned_warehouse, handoff_id, "governance", MARIA)


# -- owner handoffs -------------------------------------------------------------------------


def test_an_owner_handoff_moves_the_roles_from_its_completion_day(
    owned_warehouse: EmbeddedStore,
) -> None:
    store = owned_warehouse
    handoffs.create(
        store, policy_of(CHANGE_OWNER), [ORDERS], move=Move.OWNER,
        from_="team:analytics-engineering", to="team:finance-data", roles=("steward",),
        principal=EDITOR, reason="finance takes orders", handoff_id="orders-to-finance",
    )  # fmt: skip
    finance = Principal("token:fin", frozenset({Role.APPROVER}), owner="team:finance-data")
    with pytest.raises(Forbidden):  # finance does not steward it yet: the incoming side only
        approve(store, "orders-to-finance", "outgoing", finance)
    approve(store, "orders-to-finance", "outgoing", SAM)
    approve(store, "orders-to-finance", "incoming", finance)
    handoffs.complete(store, "orders-to-finance", principal=EDITOR, reason="agreed")

    stewards = [o for o in ownership.owners_of(store, ORDERS) if o.role == "steward"]
    assert [str(o.owner.ref) for o in stewards] == ["team/finance-data"]
    engineers = [o for o in ownership.owners_of(store, ORDERS) if o.role == "engineer"]
    assert [str(o.owner.ref) for o in engineers] == ["team/analytics-engineering"]
    yesterday = date.fromordinal(date.today().toordinal() - 1)
    before = [o for o in ownership.owners_of(store, ORDERS, yesterday) if o.role == "steward"]
    assert [str(o.owner.ref) for o in before] == ["team/analytics-engineering"]


def test_an_owner_handoff_needs_roles_the_owner_holds(owned_warehouse: EmbeddedStore) -> None:
    with pytest.raises(InvalidArgument, match="holds no role"):
        handoffs.create(
            owned_warehouse, policy_of(CHANGE_OWNER), [ORDERS], move=Move.OWNER,
            from_="team:nobody", to="team:finance-data", principal=EDITOR, reason="x",
        )  # fmt: skip


# -- criteria -------------------------------------------------------------------------------


def test_every_built_in_criterion_is_implemented_and_documented() -> None:
    docs = (PROJECT / "docs" / "handoffs.md").read_text(encoding="utf-8")
    assert set(criteria.CRITERIA) == set(Criterion)
    assert set(CRITERION_PARAMETERS) <= set(Criterion)
    for criterion in Criterion:
        assert f"`{criterion.value}`" in docs, criterion


def test_criteria_fail_with_evidence_naming_the_dataset_and_the_gap(
    owned_warehouse: EmbeddedStore,
) -> None:
    raw = dataset_ref(NAMESPACE, "analytics.raw.customers")
    policy, _ = parse_policy(
        "name: p\nversion: 1\ncriteria: [owners, lineage_present, checks_passing, "
        "columns_classified]\nsignoffs: [{name: eng, role: engineer}]"
    )
    assert policy is not None
    handoffs.create(
        owned_warehouse, policy, [raw], move=Move.STAGE, from_="dev", to="prod",
        principal=EDITOR, reason="x", handoff_id="raw",
    )  # fmt: skip
    found = {c.name: c for c in evaluation(owned_warehouse, "raw").criteria}
    assert not any(c.passed for c in found.values())
    assert f"{raw}: nobody holds steward" in found["owners"].evidence
    assert found["lineage_present"].evidence == (f"{raw}: no job or upstream dataset is known",)
    assert found["checks_passing"].evidence == (f"{raw}: no checks",)
    assert found["columns_classified"].evidence == (f"{raw}: no contract declares its columns",)


def test_checks_passing_reads_the_latest_dbt_run(embedded: EmbeddedStore) -> None:
    target = PROJECT / "tests" / "fixtures" / "dbt" / "jaffle_shop_classic"
    ingest_dbt(embedded, dbt.ArtifactPaths.find(target), dbt.DbtOptions(), actor="t", reason="t")
    [orders] = [
        v.ref
        for v in embedded.find_nodes(NodeKind.DATASET, search="orders", limit=50)
        if v.ref.name.endswith(".orders")
    ]
    policy, _ = parse_policy(
        "name: p\nversion: 1\ncriteria: [checks_passing]\nsignoffs: [{name: e, role: engineer}]"
    )
    assert policy is not None
    facts = criteria.facts_about(embedded, (orders,))
    result = criteria.evaluate(embedded, policy.criteria[0], facts)
    assert result.passed, result.evidence
    assert result.evidence[-1].endswith("check(s) pass on their latest run")


# -- policies -------------------------------------------------------------------------------


def test_policy_problems_name_their_path(tmp_path: Path) -> None:
    policy, errors = parse_policy(
        "name: p\nversion: 1\ncriteria: [owners, telepathy]\nsignoffs: [{name: eng, role: wizard}]",
        "policy.yaml",
    )
    assert policy is None
    assert {e.field for e in errors} == {"$.criteria[1].name", "$.signoffs[0].role"}
    assert all(e.source == "policy.yaml" for e in errors)


def test_policy_yaml_errors_name_the_line() -> None:
    _, [error] = parse_policy("name: p\nversion: 1\nsignoffs: [\n", "policy.yaml")
    assert error.line == 4


def test_a_criterion_refuses_parameters_it_does_not_take() -> None:
    _, errors = parse_policy(
        "name: p\nversion: 1\ncriteria: [{lineage_present: {depth: 3}}]\n"
        "signoffs: [{name: eng, role: engineer}]"
    )
    assert "takes no parameter ['depth']" in errors[0].message


def test_a_handoff_keeps_the_policy_version_it_was_created_with(
    owned_warehouse: EmbeddedStore,
) -> None:
    handoff_id = open_handoff(owned_warehouse)
    assert handoffs.get(owned_warehouse, handoff_id).policy == policy_of(PROMOTE)


# -- interfaces -----------------------------------------------------------------------------


@pytest.fixture
def served(owned_warehouse: EmbeddedStore, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    tokens = TokenStore(tmp_path)
    secrets = {
        "editor": tokens.create("ci", [Role.EDITOR])[1],
        "sam": tokens.create("sam", [Role.APPROVER], owner="person:sam@acme.example")[1],
        "maria": tokens.create("maria", [Role.APPROVER], owner="person:maria@acme.example")[1],
        "auditor": tokens.create("audit", [Role.AUDITOR])[1],
    }
    gate = auth.Gate(tokens=tokens, anonymous=auth.NOBODY)
    with running(create_app(owned_warehouse, gate=gate)) as url:
        yield url, secrets


def gql(url: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    body: dict[str, Any] = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return body


CREATE = """mutation($policy: String!) { createHandoff(policy: $policy, id: "orders-prod",
  datasets: [{namespace: "postgres://warehouse:5432", name: "analytics.marts.fct_orders"}],
  move: STAGE, from: "dev", to: "prod") { id state } }"""
SIGN = """mutation($signOff: String!) { signHandoff(id: "orders-prod", signOff: $signOff,
  decision: APPROVE, comment: "ok") { signer actingAs contractDigest } }"""
GATE = """{ handoff(id: "orders-prod") { state evaluation { gateOpen blockers
  criteria { name passed } signOffs { name state latest { signer } } } } }"""


def code_of(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


def test_a_handoff_over_graphql(served: tuple[str, dict[str, str]]) -> None:
    url, secrets = served
    created = gql(url, secrets["editor"], CREATE, policy=PROMOTE.read_text())
    assert created["data"]["createHandoff"] == {"id": "orders-prod", "state": "OPEN"}
    signed = gql(url, secrets["maria"], SIGN, signOff="governance")["data"]["signHandoff"]
    assert (signed["signer"], signed["actingAs"]) == ("token:maria", "person:maria@acme.example")
    gate = gql(url, secrets["auditor"], GATE)["data"]["handoff"]
    assert gate["evaluation"]["gateOpen"] is False
    assert {s["name"]: s["state"] for s in gate["evaluation"]["signOffs"]} == {
        "engineering": "MISSING",
        "governance": "CURRENT",
    }


def test_wrong_role_and_unbound_signers_get_typed_errors_over_graphql(
    served: tuple[str, dict[str, str]],
) -> None:
    url, secrets = served
    gql(url, secrets["editor"], CREATE, policy=PROMOTE.read_text())
    assert code_of(gql(url, secrets["maria"], SIGN, signOff="engineering")) == "FORBIDDEN"
    assert code_of(gql(url, secrets["editor"], SIGN, signOff="governance")) == "FORBIDDEN"
    assert code_of(gql(url, "baton_nope_nope", SIGN, signOff="governance")) == "UNAUTHENTICATED"
    complete = 'mutation { completeHandoff(id: "orders-prod") { state } }'
    assert code_of(gql(url, secrets["editor"], complete)) == "FAILED_PRECONDITION"
    assert code_of(gql(url, secrets["auditor"], complete)) == "FORBIDDEN"


def test_an_invalid_policy_over_graphql_is_an_invalid_argument(
    served: tuple[str, dict[str, str]],
) -> None:
    url, secrets = served
    body = gql(url, secrets["editor"], CREATE, policy="name: p\nsignoffs: []")
    assert code_of(body) == "INVALID_ARGUMENT"
    assert "$.version" in body["errors"][0]["message"]


def test_handoffs_are_listed_by_state_dataset_and_owner(
    owned_warehouse: EmbeddedStore,
) -> None:
    open_handoff(owned_warehouse, "a")
    open_handoff(owned_warehouse, "b")
    assert [h.id for h in handoffs.find(owned_warehouse, state=HandoffState.OPEN)] == ["b", "a"]
    assert len(handoffs.find(owned_warehouse, dataset=ORDERS)) == 2
    assert handoffs.find(owned_warehouse, dataset=REVENUE) == []
    assert len(handoffs.find(owned_warehouse, owner="team:data-platform")) == 2
    assert handoffs.find(owned_warehouse, owner="team:crm") == []


def test_the_cli_signs_only_with_a_token(owned_warehouse: EmbeddedStore, tmp_path: Path) -> None:
    home = Path(owned_warehouse.path).parent
    open_handoff(owned_warehouse)
    runner = CliRunner()
    refused = runner.invoke(
        app, ["--home", str(home), "handoff", "sign", "orders-prod", "governance"], env={}
    )
    assert refused.exit_code == 2
    _, secret = TokenStore(home).create("maria", [Role.APPROVER], owner="person:maria@acme.example")
    signed = runner.invoke(
        app, ["--home", str(home), "handoff", "sign", "orders-prod", "governance"],
        env={"BATON_TOKEN": secret},
    )  # fmt: skip
    assert signed.exit_code == 0, signed.output
    assert "as person:maria@acme.example (token:maria)" in signed.output
    shown = runner.invoke(app, ["--home", str(home), "handoff", "show", "orders-prod"])
    assert shown.exit_code == 1  # the gate is closed
    assert "governance (approver): current by token:maria" in shown.output


def test_anonymous_callers_cannot_create_handoffs(owned_warehouse: EmbeddedStore) -> None:
    with pytest.raises(Unauthenticated):
        handoffs.create(
            owned_warehouse, policy_of(PROMOTE), [ORDERS], move=Move.STAGE, from_="a", to="b",
            principal=auth.NOBODY, reason="x",
        )  # fmt: skip


def test_an_owner_handoff_hands_over_only_roles_the_owner_holds(
    owned_warehouse: EmbeddedStore,
) -> None:
    with pytest.raises(InvalidArgument, match="holds no operator role"):
        handoffs.create(
            owned_warehouse, policy_of(CHANGE_OWNER), [ORDERS], move=Move.OWNER,
            from_="team:analytics-engineering", to="team:finance-data", roles=("operator",),
            principal=EDITOR, reason="x",
        )  # fmt: skip
