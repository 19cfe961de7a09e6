"""Ownership: map rules and their precedence, conflicts, dated handoffs, inheritance,
lookups, rejected maps, and assignments through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.api.app import create_app
from catalog.domain import EdgeKind, column_ref, dataset_ref, owner_named
from catalog.errors import InvalidArgument
from catalog.services import ownership
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from ingesters.ownership import OwnershipMap, Role, Target, read_map, resolve
from tests.conftest import PROJECT, graphql_call, running

WAREHOUSE = "postgres://warehouse:5432"
MAP = PROJECT / "examples" / "ownership" / "warehouse.yaml"
OWNERS: dict[str, dict[str, str]] = {"team:a": {}, "team:b": {}, "team:c": {}}


def mart(name: str) -> Target:
    return Target(dataset_ref(WAREHOUSE, f"analytics.marts.{name}"))


def owners_map(*rules: dict[str, Any]) -> OwnershipMap:
    return OwnershipMap.model_validate({"version": 1, "owners": OWNERS, "rules": list(rules)})


def stewards(ownership_map: OwnershipMap, target: Target) -> list[str]:
    assignments, _ = resolve(ownership_map, [target])
    return [a.owner for a in assignments if a.role is Role.STEWARD]


def test_an_exact_name_beats_a_glob() -> None:
    rules = owners_map(
        {"match": f"{WAREHOUSE}/analytics.marts.fct_orders", "owners": {"steward": "team:b"}},
        {"match": f"{WAREHOUSE}/analytics.marts.*", "owners": {"steward": "team:a"}},
    )
    assert stewards(rules, mart("fct_orders")) == ["team:b"]


def test_a_longer_glob_beats_a_shorter_one() -> None:
    rules = owners_map(
        {"match": f"{WAREHOUSE}/analytics.marts.fct_*", "owners": {"steward": "team:b"}},
        {"match": f"{WAREHOUSE}/*", "owners": {"steward": "team:a"}},
    )
    assert stewards(rules, mart("fct_orders")) == ["team:b"]
    assert stewards(rules, mart("dim_customers")) == ["team:a"]


def test_a_name_pattern_beats_a_domain() -> None:
    rules = owners_map(
        {"domain": "sales", "owners": {"steward": "team:a"}},
        {"match": f"{WAREHOUSE}/*", "owners": {"steward": "team:b"}},
    )
    target = Target(mart("fct_orders").ref, domain="sales")
    assert stewards(rules, target) == ["team:b"]


def test_equally_specific_rules_conflict_and_the_later_wins() -> None:
    rules = owners_map(
        {"match": f"{WAREHOUSE}/analytics.marts.fct_ord*", "owners": {"steward": "team:a"}},
        {"match": f"{WAREHOUSE}/analytics.marts.*_orders", "owners": {"steward": "team:b"}},
    )
    assignments, conflicts = resolve(rules, [mart("fct_orders")])
    assert [a.owner for a in assignments] == ["team:b"]
    assert [(c.rules, c.role) for c in conflicts] == [((0, 1), Role.STEWARD)]


def test_rules_for_different_roles_do_not_conflict() -> None:
    rules = owners_map(
        {"match": f"{WAREHOUSE}/*", "owners": {"steward": "team:a"}},
        {"match": f"{WAREHOUSE}/*", "owners": {"operator": "team:b"}},
    )
    assignments, conflicts = resolve(rules, [mart("fct_orders")])
    assert {(a.owner, a.role) for a in assignments} == {
        ("team:a", Role.STEWARD),
        ("team:b", Role.OPERATOR),
    }
    assert conflicts == []


def test_a_dated_handoff_keeps_both_owners_each_in_its_period() -> None:
    rules = owners_map(
        {"match": f"{WAREHOUSE}/*", "owners": {"steward": "team:a"}, "to": "2026-06-30"},
        {"match": f"{WAREHOUSE}/*", "owners": {"steward": "team:b"}, "from": "2026-07-01"},
    )
    assignments, conflicts = resolve(rules, [mart("fct_orders")])
    assert [(a.owner, a.effective_to, a.effective_from) for a in assignments] == [
        ("team:a", date(2026, 6, 30), None),
        ("team:b", None, date(2026, 7, 1)),
    ]
    assert conflicts == []


def write_map(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "owners.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_an_invalid_map_lists_every_problem(tmp_path: Path) -> None:
    path = write_map(
        tmp_path,
        {
            "version": 1,
            "owners": {"team:a": {"pager": "a-oncall", "phone": "?"}},
            "rules": [
                {"match": "x/*", "domain": "sales", "owners": {"steward": "team:a"}},
                {"match": "x/*", "owners": {"overlord": "team:a"}},
                {"match": "x/*", "owners": {"steward": "team:typo"}},
            ],
        },
    )
    found, errors = read_map(path)
    assert found is None
    fields = {e.field for e in errors}
    assert {"$.owners.team:a.phone", "$.rules[0]", "$.rules[1].owners.overlord"} <= fields
    assert all(e.source == path.as_posix() for e in errors)


def test_an_undeclared_owner_is_reported(tmp_path: Path) -> None:
    path = write_map(
        tmp_path,
        {
            "version": 1,
            "owners": {"team:a": {}},
            "rules": [{"match": "*", "owners": {"steward": "team:typo"}}],
        },
    )
    _, errors = read_map(path)
    assert [(e.field, e.message) for e in errors] == [
        ("$.rules[0].owners.steward", "owner 'team:typo' is not declared under `owners`")
    ]


@pytest.fixture
def warehouse(owned_warehouse: EmbeddedStore) -> EmbeddedStore:
    return owned_warehouse


def roles_of(store: EmbeddedStore, target: Any, at: date | None = None) -> dict[str, str]:
    return {o.role: str(o.owner.ref) for o in ownership.owners_of(store, target, at)}


def test_owners_of_a_dataset_come_with_their_escalation(warehouse: EmbeddedStore) -> None:
    [engineer] = [
        o for o in ownership.owners_of(warehouse, mart("fct_orders").ref) if o.role == "engineer"
    ]
    assert engineer.owner.attrs["pager"] == "analytics-eng-oncall"
    assert engineer.owner.attrs["escalation"] == ["person:maria@acme.example", "team:data-platform"]


def test_a_column_inherits_the_roles_it_has_no_owner_for(warehouse: EmbeddedStore) -> None:
    net_paid = column_ref(WAREHOUSE, "analytics.marts.fct_orders", "net_paid")
    found = {o.role: o for o in ownership.owners_of(warehouse, net_paid)}
    assert str(found["steward"].owner.ref) == "team/finance-data"
    assert not found["steward"].inherited
    assert found["operator"].inherited


def test_ownership_follows_the_dated_handoff(warehouse: EmbeddedStore) -> None:
    revenue = mart("fct_daily_revenue").ref
    assert (
        roles_of(warehouse, revenue, date(2026, 6, 30))["steward"] == "team/analytics-engineering"
    )
    assert roles_of(warehouse, revenue, date(2026, 7, 1))["steward"] == "team/finance-data"


def test_what_a_team_owns(warehouse: EmbeddedStore) -> None:
    found = ownership.owned_by(warehouse, owner_named("team:finance-data"))
    assert {str(o.target) for o in found} == {
        f"{WAREHOUSE}/analytics.marts.fct_daily_revenue",
        f"{WAREHOUSE}/analytics.marts.fct_orders.net_paid",
    }


def test_unowned_lists_datasets_missing_a_required_role(warehouse: EmbeddedStore) -> None:
    missing = dict(ownership.unowned(warehouse))
    assert missing[dataset_ref(WAREHOUSE, "analytics.intermediate.int_order_items")] == ["steward"]
    assert mart("fct_orders").ref not in missing


def test_a_new_map_version_ends_what_the_old_one_assigned(
    warehouse: EmbeddedStore, tmp_path: Path
) -> None:
    document = yaml.safe_load(MAP.read_text())
    document["rules"] = [r for r in document["rules"] if r.get("columns") != ["net_paid"]]
    ownership.apply_map(warehouse, write_map(tmp_path, document), actor="t", reason="t")
    net_paid = column_ref(WAREHOUSE, "analytics.marts.fct_orders", "net_paid")
    assert roles_of(warehouse, net_paid)["steward"] == "team/analytics-engineering"
    [ended] = ownership.history(warehouse, net_paid)
    assert ended.valid_to is not None


def test_reapplying_the_same_map_changes_nothing(warehouse: EmbeddedStore) -> None:
    entries = len(warehouse.ledger(LedgerQuery(limit=100)))
    result, _ = ownership.apply_map(warehouse, MAP, actor="t", reason="t")
    assert not result.changed
    assert len(warehouse.ledger(LedgerQuery(limit=100))) == entries


def test_an_invalid_map_writes_nothing(embedded: EmbeddedStore, tmp_path: Path) -> None:
    path = write_map(tmp_path, {"version": 2})
    with pytest.raises(ownership.InvalidMap):
        ownership.apply_map(embedded, path, actor="t", reason="t")
    assert embedded.ledger(LedgerQuery(limit=10)) == []


def test_assigning_and_removing_through_the_api_is_recorded(warehouse: EmbeddedStore) -> None:
    target = mart("dim_customers").ref
    ownership.assign(
        warehouse, target, "lena@acme.example", "approver", actor="token:x", reason="t"
    )
    assert "person/lena@acme.example" in {
        str(o.owner.ref) for o in ownership.owners_of(warehouse, target) if o.role == "approver"
    }
    ownership.remove(
        warehouse, target, "lena@acme.example", "approver", actor="token:x", reason="t"
    )
    assert "person/lena@acme.example" not in {
        str(o.owner.ref) for o in ownership.owners_of(warehouse, target)
    }
    api = [e for e in ownership.history(warehouse, target) if e.source.startswith("ownership-api:")]
    assert [e.valid_to is not None for e in api] == [True]


def test_an_unknown_role_is_refused(warehouse: EmbeddedStore) -> None:
    with pytest.raises(InvalidArgument, match="unknown role"):
        ownership.assign(
            warehouse, mart("fct_orders").ref, "team:x", "overlord", actor="t", reason="t"
        )


def test_owns_edges_carry_every_role_of_an_owner(warehouse: EmbeddedStore) -> None:
    edges = [
        e
        for e in warehouse.edge_history(mart("fct_orders").ref)
        if e.kind == EdgeKind.OWNS.value and str(e.subject) == "team/analytics-engineering"
    ]
    assert [sorted(e.attrs["roles"]) for e in edges] == [["engineer", "steward"]]


TOKEN = "ownership-token"


@pytest.fixture
def endpoint(warehouse: EmbeddedStore) -> Iterator[str]:
    with running(create_app(warehouse, api_token=TOKEN)) as url:
        yield url


def call(url: str, query: str, token: str | None = TOKEN) -> dict[str, Any]:
    return graphql_call(url, query, token)


def test_owners_over_graphql_name_each_role_with_escalation(endpoint: str) -> None:
    query = f"""{{ owners(namespace: "{WAREHOUSE}", name: "analytics.marts.fct_orders",
        column: "net_paid") {{ role inherited owner {{ name pager escalation }} }} }}"""
    found = {o["role"]: o for o in call(endpoint, query)["data"]["owners"]}
    assert found["steward"]["owner"] == {
        "name": "finance-data",
        "pager": "finance-data-oncall",
        "escalation": [],
    }
    assert found["engineer"]["inherited"] is True
    assert found["engineer"]["owner"]["escalation"] == [
        "person:maria@acme.example",
        "team:data-platform",
    ]


def test_unowned_and_owned_by_over_graphql(endpoint: str) -> None:
    query = """{ unowned(roles: ["steward"]) { name missingRoles }
                 ownedBy(owner: "team:finance-data") { target role } }"""
    data = call(endpoint, query)["data"]
    assert {"name": "analytics.raw.customers", "missingRoles": ["steward"]} in data["unowned"]
    assert {o["role"] for o in data["ownedBy"]} == {"steward"}


def test_assigning_an_owner_over_graphql_needs_a_token_and_is_recorded(
    endpoint: str, warehouse: EmbeddedStore
) -> None:
    mutation = f"""mutation {{ assignOwner(namespace: "{WAREHOUSE}",
        name: "analytics.raw.customers", owner: "team:crm", role: "steward") {{ changed }} }}"""
    refused = call(endpoint, mutation, token=None)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert call(endpoint, mutation)["data"]["assignOwner"]["changed"] is True
    [entry] = warehouse.ledger(LedgerQuery(actor="token:static", limit=10))
    assert entry.reason == "ownership change"
    history = f"""{{ ownershipHistory(namespace: "{WAREHOUSE}", name: "analytics.raw.customers")
                    {{ owner roles source validTo }} }}"""
    records = call(endpoint, history)["data"]["ownershipHistory"]
    assert {"owner": "team/crm", "roles": ["steward"], "validTo": None} in [
        {k: r[k] for k in ("owner", "roles", "validTo")} for r in records
    ]
