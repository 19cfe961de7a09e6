"""Never turn "I don't know" into "nothing": a name the catalog does not hold is an error
(CLI exit 2, GraphQL NOT_FOUND) naming the nearest names, never an empty or SAFE answer;
and names resolve the way people type them (a unique suffix, any case, owners as shown)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalog.api import auth
from catalog.api.app import create_app
from catalog.domain import Batch, SnapshotBuilder, dataset_ref, owner_named
from catalog.errors import InvalidArgument, NotFound
from catalog.security import Role, TokenStore
from catalog.services import catalog, change_sets, contracts, impact, ownership
from catalog.services.ingestion import ingest_dbt
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from ingesters import dbt
from ingesters.contracts import read_contracts
from tests.conftest import FIXTURES, NAMESPACE, PROJECT, baton, publish_contract, running

ORDERS = "analytics.marts.fct_orders"


@pytest.fixture
def home(owned_warehouse: EmbeddedStore) -> Path:
    """The data directory of the demo project with its owners and a published contract."""
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    return owned_warehouse.path.parent


@pytest.fixture
def endpoint(owned_warehouse: EmbeddedStore) -> Iterator[str]:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    with running(create_app(owned_warehouse)) as url:
        yield url


def graphql_error(url: str, query: str, **variables: object) -> dict[str, object]:
    body = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}).json()
    [error] = body["errors"]
    assert isinstance(error, dict)
    return error


# -- impact ---------------------------------------------------------------------------------


def test_dropping_an_unknown_column_is_an_error_not_safe(home: Path) -> None:
    result = baton(home, "impact", "--drop-column", "analytics.staging.stg_orders.statuss",
                   "--fail-on", "breaking")  # fmt: skip
    assert result.exit_code == 2
    assert "no column" in result.output and "SAFE" not in result.output
    assert "did you mean" in result.output and "stg_orders.status" in result.output


def test_dropping_an_unknown_dataset_suggests_the_nearest(home: Path) -> None:
    result = baton(home, "impact", "--drop-dataset", "analytics.staging.stg_order")
    assert result.exit_code == 2
    assert "analytics.staging.stg_orders" in result.output


def test_a_manifest_diff_in_another_namespace_fails_saying_so(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    paths = dbt.ArtifactPaths.find(FIXTURES / "dbt/jaffle_shop_classic")
    ingest_dbt(store, paths, dbt.DbtOptions(), actor="t", reason="t")
    before = dbt.read_artifacts(paths)
    manifest = json.loads(gzip.decompress(paths.manifest.read_bytes()))
    del manifest["nodes"]["model.jaffle_shop.orders"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    after = dbt.read_artifacts(dbt.ArtifactPaths(tmp_path / "manifest.json"))
    other = dbt.DbtOptions(namespace="snowflake://elsewhere")
    requests = change_sets.from_manifests(store, before, after, other)
    with pytest.raises(NotFound, match="no dataset snowflake://elsewhere/") as refused:
        impact.analyse(store, requests)
    assert "did you mean duckdb://default/jaffle_shop.main.orders" in str(refused.value)
    store.close()


def test_impact_over_graphql_of_an_unknown_column_is_not_found(endpoint: str) -> None:
    query = """query($c: [ChangeInput!]!) { impact(changes: $c) { severity } }"""
    change = {"kind": "DROP_COLUMN", "namespace": NAMESPACE, "name": ORDERS, "column": "nope"}
    error = graphql_error(endpoint, query, c=[change])
    assert error["extensions"] == {"code": "NOT_FOUND"}


def test_the_impact_of_a_contract_never_published_is_not_found(home: Path) -> None:
    proposal = (PROJECT / "examples/contracts/fct_orders.v2.odcs.yaml").read_text()
    renamed = home / "proposal.yaml"
    renamed.write_text(
        proposal.replace("urn:acme:contract:fct-orders", "urn:acme:contract:fct-ordrs")
    )
    result = baton(home, "impact", "--contract", str(renamed))
    assert result.exit_code == 2
    assert "did you mean urn:acme:contract:fct-orders" in result.output


def test_a_contract_with_no_older_version_has_nothing_to_compare(
    owned_warehouse: EmbeddedStore,
) -> None:
    publish_contract(owned_warehouse, "fct_orders.v1.odcs.yaml")
    versions, _ = read_contracts([PROJECT / "examples/contracts/fct_orders.v1.odcs.yaml"])
    with pytest.raises(InvalidArgument, match="no published version older than"):
        change_sets.from_contract(owned_warehouse, versions[0])


# -- contracts and owners -------------------------------------------------------------------


def test_versions_of_an_unknown_contract_are_not_found(home: Path) -> None:
    result = baton(home, "contract", "versions", "urn:acme:contract:fct-order")
    assert result.exit_code == 2
    assert "did you mean urn:acme:contract:fct-orders" in result.output


def test_what_an_unknown_owner_owns_is_not_found(owned_warehouse: EmbeddedStore) -> None:
    with pytest.raises(NotFound, match="did you mean team:finance-data"):
        ownership.owned_by(owned_warehouse, owner_named("team:finance"))


def test_an_owner_typed_as_displayed_resolves(home: Path) -> None:
    shown = baton(home, "owned-by", "team/finance-data", "--json")
    typed = baton(home, "owned-by", "team:finance-data", "--json")
    assert shown.exit_code == typed.exit_code == 0
    assert json.loads(shown.stdout) == json.loads(typed.stdout) != []


def test_unknown_contract_versions_over_graphql_are_not_found(endpoint: str) -> None:
    query = 'query { contractVersions(contractId: "urn:nope") { version } }'
    assert graphql_error(endpoint, query)["extensions"] == {"code": "NOT_FOUND"}


# -- names that resolve ---------------------------------------------------------------------


def test_a_unique_suffix_names_a_dataset(owned_warehouse: EmbeddedStore) -> None:
    assert catalog.resolve_dataset(owned_warehouse, "fct_orders").name == ORDERS
    assert catalog.resolve_dataset(owned_warehouse, "marts.FCT_ORDERS").name == ORDERS


def test_an_ambiguous_suffix_lists_the_candidates(embedded: EmbeddedStore) -> None:
    builder = SnapshotBuilder("two schemas")
    builder.node(dataset_ref("pg://db", "sales.public.orders"))
    builder.node(dataset_ref("pg://db", "archive.public.orders"))
    write_batch(embedded, Batch(snapshots=[builder.build()]), WriteRequest("t", "t", "t"))
    with pytest.raises(InvalidArgument, match="names several datasets") as refused:
        catalog.resolve_dataset(embedded, "public.orders")
    assert "sales.public.orders" in str(refused.value)
    assert "archive.public.orders" in str(refused.value)


def test_a_misspelt_dataset_suggests_the_nearest(owned_warehouse: EmbeddedStore) -> None:
    with pytest.raises(NotFound, match=r"did you mean .*analytics\.marts\.fct_orders"):
        catalog.resolve_dataset(owned_warehouse, "fct_ordrs")


@pytest.fixture
def shop(embedded: EmbeddedStore) -> EmbeddedStore:
    builder = SnapshotBuilder("shop")
    for table in ("customers", "orders", "payments"):
        builder.node(dataset_ref("duckdb://shop", f"shop.main.{table}"))
    write_batch(embedded, Batch(snapshots=[builder.build()]), WriteRequest("t", "t", "t"))
    return embedded


@pytest.mark.parametrize("typed", ["customer", "main.customer", "customerz"])
def test_a_short_name_is_compared_with_as_many_parts_of_each_name(
    shop: EmbeddedStore, typed: str
) -> None:
    with pytest.raises(NotFound, match=r"did you mean duckdb://shop/shop\.main\.customers\?"):
        catalog.resolve_dataset(shop, typed)


def test_a_typo_in_its_fourth_letter_still_finds_the_name(shop: EmbeddedStore) -> None:
    with pytest.raises(NotFound, match=r"did you mean duckdb://shop/shop\.main\.orders\?"):
        catalog.resolve_dataset(shop, "ordrs")


def test_the_published_versions_are_listed_by_the_service(home: Path) -> None:
    store = EmbeddedStore(home / "baton.db")
    assert [v.version for v in contracts.published(store, "urn:acme:contract:fct-orders")]
    store.close()


# -- a client that authenticates ----------------------------------------------------------------


def test_impact_against_a_server_sends_the_token_in_baton_token(
    owned_warehouse: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = TokenStore(tmp_path / "server")
    _, reader = tokens.create("ci-impact", [Role.READER])
    gate = auth.Gate(tokens=tokens, anonymous=auth.NOBODY)  # as if bound off loopback
    drop = ["impact", "--drop-column", f"{ORDERS}.net_paid", "--namespace", NAMESPACE]
    with running(create_app(owned_warehouse, gate=gate)) as url:
        refused = baton(tmp_path / "client", *drop, "--server", url)
        monkeypatch.setenv("BATON_TOKEN", reader)
        answered = baton(tmp_path / "client", *drop, "--server", url)
    assert refused.exit_code == 2 and "bearer token" in refused.output
    assert answered.exit_code == 0, answered.output


def test_graphql_resolves_a_unique_suffix_within_the_namespace(endpoint: str) -> None:
    query = 'query($ns: String!) { dataset(namespace: $ns, name: "FCT_ORDERS") { name } }'
    body = httpx.post(f"{endpoint}/graphql", json={"query": query, "variables": {"ns": NAMESPACE}})
    assert body.json()["data"]["dataset"]["name"] == ORDERS


def test_graphql_lineage_of_a_misspelt_name_suggests_the_nearest(endpoint: str) -> None:
    query = """query($ns: String!) { lineage(namespace: $ns, name: "analytics.marts.fct_ordrs")
      { rootId } }"""
    error = graphql_error(endpoint, query, ns=NAMESPACE)
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert "did you mean postgres://warehouse:5432/analytics.marts.fct_orders" in str(
        error["message"]
    )
