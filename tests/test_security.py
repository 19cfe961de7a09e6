"""Security: tokens stored only as salted hashes, roles enforced in one place for GraphQL
and REST (a matrix of every write and sensitive read against every role), safe defaults."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from catalog.api import auth
from catalog.api.app import create_app
from catalog.api.edge import JsonLines
from catalog.cli import app
from catalog.domain import Batch, SnapshotBuilder, dataset_ref
from catalog.security import ROLE_PERMISSIONS, Permission, Role, TokenStore
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import LedgerQuery
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import FIXTURES, PROJECT, running

CONTRACT = (PROJECT / "examples/contracts/fct_orders.v1.odcs.yaml").read_text()
EVENT = (FIXTURES / "openlineage/event_simple.json").read_text()


def test_a_token_is_shown_once_and_stored_only_as_a_salted_hash(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    record, secret = store.create("ci", [Role.EDITOR])
    text = store.path.read_text()
    random_part = secret.split("_", 2)[2]  # baton_<hex id>_<urlsafe secret, may hold "_">
    assert secret not in text and random_part not in text
    assert record.salt in text and record.digest in text
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_token_authenticates_as_its_principal_until_revoked(tmp_path: Path) -> None:
    store = TokenStore(tmp_path)
    record, secret = store.create("ci", [Role.EDITOR, Role.AUDITOR])
    principal = store.verify(secret)
    assert principal is not None and principal.name == "token:ci"
    assert principal.roles == {Role.EDITOR, Role.AUDITOR}
    store.revoke(record.id)
    assert store.verify(secret) is None


def test_a_tampered_token_is_refused(tmp_path: Path) -> None:
    _, secret = TokenStore(tmp_path).create("ci", [Role.ADMIN])
    assert TokenStore(tmp_path).verify(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert TokenStore(tmp_path).verify("not-a-token") is None


def test_cli_creates_lists_and_revokes_tokens(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path)]
    created = CliRunner().invoke(app, [*home, "token", "create", "ci", "--role", "editor"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("baton_")
    listed = json.loads(CliRunner().invoke(app, [*home, "token", "list", "--json"]).stdout)
    assert [(t["name"], t["roles"], t["revoked_at"]) for t in listed] == [("ci", ["editor"], None)]
    assert secret not in json.dumps(listed)
    revoked = CliRunner().invoke(app, [*home, "token", "revoke", listed[0]["id"]])
    assert revoked.exit_code == 0
    assert TokenStore(tmp_path).verify(secret) is None


def test_loopback_anonymous_reads_and_elsewhere_nobody() -> None:
    from catalog.cli import _anonymous

    assert _anonymous("127.0.0.1", False) == auth.LOCAL_ANONYMOUS
    assert _anonymous("0.0.0.0", False) == auth.NOBODY
    assert _anonymous("0.0.0.0", True) == auth.READ_ONLY_ANONYMOUS
    assert not auth.READ_ONLY_ANONYMOUS.can(Permission.WRITE)


# -- the role matrix, over a real server -----------------------------------------------

OPERATIONS: dict[str, tuple[Permission, str, dict[str, Any]]] = {
    "read datasets": (Permission.READ, "{ datasets(first: 1) { edges { cursor } } }", {}),
    "read the ledger": (Permission.READ_LEDGER, "{ ledger(first: 1) { entries { seq } } }", {}),
    "verify the ledger": (Permission.READ_LEDGER, "{ ledgerVerification { ok } }", {}),
    "publish a contract": (
        Permission.WRITE,
        "mutation($d: String!) { publishContract(document: $d) { changed } }",
        {"d": CONTRACT},
    ),
    "assign an owner": (
        Permission.WRITE,
        'mutation { assignOwner(namespace: "x://y", name: "t", owner: "team:a", '
        'role: "steward") { changed } }',
        {},
    ),
    "remove an owner": (
        Permission.WRITE,
        'mutation { removeOwner(namespace: "x://y", name: "t", owner: "team:z", '
        'role: "steward") { changed } }',
        {},
    ),
    "pin a contract": (
        Permission.WRITE,
        'mutation { pinContract(kind: DATASET, namespace: "x://y", name: "t", '
        'contractId: "c", version: "1.0.0") { changed } }',
        {},
    ),
    "unpin a contract": (
        Permission.WRITE,
        'mutation { unpinContract(kind: DATASET, namespace: "x://y", name: "t", '
        'contractId: "c") { changed } }',
        {},
    ),
    "read what one ledger entry changed": (
        Permission.READ_LEDGER,
        "{ ledgerEntry(seq: 1) { truncated } }",
        {},
    ),
    "list handoffs": (Permission.READ, "{ handoffs { id } }", {}),
    "create a handoff": (
        Permission.WRITE,
        'mutation($p: String!) { createHandoff(policy: $p, move: STAGE, from: "a", '
        'to: "b", datasets: [{namespace: "x://y", name: "t"}]) { id } }',
        {"p": "name: p\nversion: 1\nsignoffs: [{name: e, role: engineer}]"},
    ),
    "sign a handoff": (
        Permission.SIGN,
        'mutation { signHandoff(id: "h", signOff: "e", decision: APPROVE) { id } }',
        {},
    ),
    "complete a handoff": (
        Permission.WRITE,
        'mutation { completeHandoff(id: "h") { id } }',
        {},
    ),
}
CALLERS = [*(role.value for role in Role), "anonymous", "invalid token"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A server bound as if off loopback (anonymous may do nothing), and a token per role."""
    home = tmp_path_factory.mktemp("secured")
    tokens = TokenStore(home)
    secrets = {role.value: tokens.create(role.value, [role])[1] for role in Role}
    secrets["invalid token"] = "baton_0000_nope"
    store = EmbeddedStore(home / "baton.db")
    store.migrate()
    gate = auth.Gate(tokens=tokens, anonymous=auth.NOBODY)
    with running(create_app(store, gate=gate)) as url:
        yield url, secrets
    store.close()


def headers(secrets: dict[str, str], caller: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secrets[caller]}"} if caller in secrets else {}


def expected_code(caller: str, permission: Permission) -> str | None:
    if caller in ("anonymous", "invalid token"):
        return "UNAUTHENTICATED"
    return None if permission in ROLE_PERMISSIONS[Role(caller)] else "FORBIDDEN"


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_role_matrix_over_graphql(
    secured: tuple[str, dict[str, str]], operation: str, caller: str
) -> None:
    url, secrets = secured
    permission, query, variables = OPERATIONS[operation]
    body = httpx.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers(secrets, caller),
    ).json()
    codes = {e["extensions"]["code"] for e in body.get("errors") or []}
    wanted = expected_code(caller, permission)
    if wanted is None:
        assert not codes & {"UNAUTHENTICATED", "FORBIDDEN"}, body
    else:
        assert codes == {wanted}, body


@pytest.mark.parametrize("caller", CALLERS)
def test_role_matrix_over_the_openlineage_endpoint(
    secured: tuple[str, dict[str, str]], caller: str
) -> None:
    url, secrets = secured
    response = httpx.post(
        f"{url}/api/v1/lineage",
        content=EVENT,
        headers={"Content-Type": "application/json", **headers(secrets, caller)},
    )
    wanted = {None: 201, "UNAUTHENTICATED": 401, "FORBIDDEN": 403}
    assert response.status_code == wanted[expected_code(caller, Permission.WRITE)]


def test_writes_record_the_authenticated_principal(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path)
    _, secret = tokens.create("release-bot", [Role.EDITOR])
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    with running(create_app(store, gate=auth.Gate(tokens=tokens))) as url:
        query = "mutation($d: String!) { publishContract(document: $d) { changed } }"
        httpx.post(
            f"{url}/graphql",
            json={"query": query, "variables": {"d": CONTRACT}},
            headers={"Authorization": f"Bearer {secret}"},
        )
    [entry] = store.ledger(LedgerQuery(limit=5))
    assert entry.actor == "token:release-bot"


def test_an_oversized_graphql_body_is_refused_and_the_server_keeps_serving(
    secured: tuple[str, dict[str, str]],
) -> None:
    url, secrets = secured
    huge = {"query": "{ datasets(first: 1) { edges { cursor } } }", "pad": "x" * 3_000_000}
    response = httpx.post(f"{url}/graphql", json=huge, headers=headers(secrets, "reader"))
    assert response.status_code == 413
    ok = httpx.post(
        f"{url}/graphql",
        json={"query": "{ datasets(first: 1) { edges { cursor } } }"},
        headers=headers(secrets, "reader"),
    )
    assert ok.status_code == 200


NOT_UTF8 = [
    ("POST", "/graphql", b'{"query": "{ datasets { edges { cursor } } }\xff"}', 400),
    ("POST", "/graphql", b"\xff\xfe{\x00", 400),  # would pass for UTF-16 if guessed
    ("POST", "/api/v1/lineage", b'{"eventType": "\xc3\x28"}', 400),
    ("POST", "/api/v2/lineage", b"\xff", 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), NOT_UTF8)
def test_bodies_that_are_not_utf8_are_refused_and_the_server_keeps_serving(
    secured: tuple[str, dict[str, str]], method: str, path: str, body: bytes, status: int
) -> None:
    url, secrets = secured
    sent = {"content-type": "application/json", **headers(secrets, "admin")}
    assert httpx.request(method, f"{url}{path}", content=body, headers=sent).status_code == status
    assert httpx.get(f"{url}/healthz").status_code == 200


@pytest.mark.parametrize("path", ["/graphql", "/api/v1/lineage", "/api/v1/ledger/export"])
def test_non_ascii_credentials_are_unauthenticated_not_a_crash(
    secured: tuple[str, dict[str, str]], path: str
) -> None:
    url, _ = secured
    hostile = {b"authorization": b"Bearer \xff\xfe\x80", b"x-request-id": b"\xff"}
    if path == "/api/v1/ledger/export":
        response = httpx.get(f"{url}{path}", headers=hostile)
    else:
        query = {"query": "{ datasets(first: 1) { edges { cursor } } }"}
        response = httpx.post(f"{url}{path}", json=query, headers=hostile)
    assert response.status_code in (200, 401)  # GraphQL answers 200 with UNAUTHENTICATED
    assert "UNAUTHENTICATED" in response.text or response.status_code == 401


def test_a_graphql_query_string_that_is_not_utf8_is_a_syntax_error(
    secured: tuple[str, dict[str, str]],
) -> None:
    url, secrets = secured
    response = httpx.get(
        f"{url}/graphql?query=%7B%20datasets%20%7B%20edges%20%7B%20cursor%20%7D%20%7D%20%7D%FF",
        headers={"accept": "application/json", **headers(secrets, "reader")},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# -- injection through every string argument ------------------------------------------

PAYLOADS = [
    "'; DROP TABLE nodes; --",
    '" OR 1=1 --',
    "%",
    "_",
    "x' UNION SELECT key FROM nodes --",
    "\\u0000\x00",
    "../../etc/passwd",
    "ö∑\U0001f600",
]
STRING_ARGUMENTS = [
    ("query($v: String!) { dataset(namespace: $v, name: $v) { name } }", {}),
    ("query($v: String) { datasets(search: $v) { edges { cursor } } }", {}),
    ("query($v: String) { datasets(after: $v) { edges { cursor } } }", {}),
    ("query($v: String!) { lineage(namespace: $v, name: $v, column: $v) { rootId } }", {}),
    ("query($v: String!) { history(namespace: $v, name: $v) { entries { seq } } }", {}),
    ("query($v: String) { ledger(actor: $v) { entries { seq } } }", {}),
    ("query($v: ID) { ledger(entity: $v) { entries { seq } } }", {}),
    ("query($v: String) { ledger(after: $v) { entries { seq } } }", {}),
    ("query($v: String!) { owners(namespace: $v, name: $v, column: $v) { role } }", {}),
    ("query($v: String!) { ownedBy(owner: $v) { role } }", {}),
    ("query($v: [String!]) { unowned(roles: $v) { name } }", {"list": True}),
    ("query($v: String!) { ownershipHistory(namespace: $v, name: $v) { owner } }", {}),
    ("query($v: String!) { contracts(namespace: $v, name: $v) { version } }", {}),
    ("query($v: String!) { contract(contractId: $v, version: $v) { version } }", {}),
    ("query($v: String!) { contractVersions(contractId: $v) { version } }", {}),
    (
        "query($v: String!) { contractDiff(contractId: $v, oldVersion: $v, newVersion: $v) "
        "{ needsMajorVersion } }",
        {},
    ),
    ("query($v: String!) { contractDrift(contractId: $v) { kind } }", {}),
    ("query($v: String!) { contractDependents(contractId: $v) { name } }", {}),
    (
        "query($v: String!) { impact(changes: [{kind: DROP_COLUMN, namespace: $v, name: $v, "
        "column: $v, newName: $v, newType: $v}]) { severity } }",
        {},
    ),
    (
        "query($v: String!) { impactOfSql(oldSql: $v, newSql: $v, dialect: $v, namespace: $v, "
        "target: $v) { severity } }",
        {},
    ),
    ("query($v: String!) { impactOfContract(document: $v) { severity } }", {}),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
@pytest.mark.parametrize(("query", "shape"), STRING_ARGUMENTS, ids=range(len(STRING_ARGUMENTS)))
def test_hostile_strings_never_reach_a_query_unparameterized(
    server: str, query: str, shape: dict[str, Any], payload: str
) -> None:
    value: Any = [payload] if shape.get("list") else payload
    response = httpx.post(f"{server}/graphql", json={"query": query, "variables": {"v": value}})
    assert response.status_code == 200
    codes = {e["extensions"]["code"] for e in response.json().get("errors") or []}
    assert "INTERNAL" not in codes, response.json()


def test_the_catalog_is_intact_after_the_hostile_strings(server: str) -> None:
    body = httpx.post(
        f"{server}/graphql",
        json={"query": "{ ledgerVerification { ok } datasets(first: 500) { edges { cursor } } }"},
    ).json()
    assert body["data"]["ledgerVerification"]["ok"] is True
    assert len(body["data"]["datasets"]["edges"]) > 10


def test_requests_are_logged_with_an_id_and_never_with_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = TokenStore(tmp_path)
    _, secret = tokens.create("ci", [Role.EDITOR])
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    caplog.set_level(logging.INFO, logger="baton.access")
    with running(create_app(store, gate=auth.Gate(tokens=tokens))) as url:
        response = httpx.post(
            f"{url}/graphql",
            json={"query": "mutation($d: String!) { publishContract(document: $d) { changed } }",
                  "variables": {"d": CONTRACT}},
            headers={"Authorization": f"Bearer {secret}", "X-Request-ID": "req-42"},
        )  # fmt: skip
    assert response.headers["X-Request-ID"] == "req-42"
    [record] = [r for r in caplog.records if getattr(r, "request_id", None) == "req-42"]
    assert (record.principal, record.status) == ("token:ci", 200)  # type: ignore[attr-defined]
    lines = [JsonLines().format(r) for r in caplog.records]
    assert all(
        secret not in line and secret not in r.getMessage()
        for line, r in zip(lines, caplog.records, strict=True)
    )
    assert json.loads(lines[-1])["request_id"]


def test_an_argument_no_identity_accepts_is_an_invalid_argument(server: str) -> None:
    query = '{ dataset(namespace: "", name: "") { name } }'
    body = httpx.post(f"{server}/graphql", json={"query": query}).json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_introspection_can_be_turned_off(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    with running(create_app(store, introspection=False)) as url:
        hidden = httpx.post(f"{url}/graphql", json={"query": "{ __schema { types { name } } }"})
        normal = httpx.post(f"{url}/graphql", json={"query": "{ datasets { edges { cursor } } }"})
    assert hidden.json()["errors"]
    assert normal.json()["data"] == {"datasets": {"edges": []}}


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose store stops any read after a microsecond, over 5,000 datasets."""
    path = tmp_path_factory.mktemp("impatient") / "baton.db"
    seeded = EmbeddedStore(path)
    seeded.migrate()
    builder = SnapshotBuilder("many")
    for i in range(5_000):
        builder.node(dataset_ref("test://ns", f"table_{i}"))
    write_batch(seeded, Batch(snapshots=[builder.build()]), WriteRequest("t", "t", "t"))
    seeded.close()
    store = EmbeddedStore(path, read_timeout=1e-6)
    with running(create_app(store)) as url:
        yield url
    store.close()


def test_a_store_query_past_its_time_budget_is_stopped_with_a_typed_error(
    impatient: str,
) -> None:
    query = '{ datasets(search: "table_4999", first: 5) { edges { cursor } } }'
    body = httpx.post(f"{impatient}/graphql", json={"query": query}).json()
    assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert httpx.get(f"{impatient}/healthz").status_code == 200
