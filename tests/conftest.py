"""Shared fixtures: a real store per backend, demo data, and a real HTTP server."""

from __future__ import annotations

import itertools
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.request import urlopen

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from catalog.api.app import create_app
from catalog.cli import app
from catalog.config import Settings
from catalog.domain import Batch, EdgeKind, SnapshotBuilder, SourceSnapshot, dataset_ref
from catalog.handoffs import Decision, Move, Policy
from catalog.security import Principal, Role
from catalog.services import contracts, handoffs, ownership
from catalog.stores.embedded import EmbeddedStore
from catalog.stores.protocol import Store
from catalog.write_path import WriteRequest, WriteResult, write_batch
from ingesters import sql
from ingesters.contracts import read_contracts
from ingesters.policies import read_policy
from ingesters.sql.names import Defaults

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "examples" / "warehouse"
FIXTURES = PROJECT / "tests" / "fixtures"
SHARED_FIXTURES = PROJECT.parent / "shared" / "fixtures"
OWNERSHIP_MAP = PROJECT / "examples" / "ownership" / "warehouse.yaml"
NAMESPACE = "postgres://warehouse:5432"
DEMO_OPTIONS = sql.SqlOptions(
    dialect="postgres",
    namespace=NAMESPACE,
    defaults=Defaults(database="analytics", schema="public"),
)

BATON = Path(sys.executable).with_name("baton")
"""The installed `baton` command, for tests that run it as its own process."""

BACKENDS = ["embedded", "embedded-indexed", "neo4j"]
"""Every store backend the conformance suite runs against (the embedded store walking in
SQL, and over its in-memory index as `baton serve` does); Neo4j when BATON_NEO4J_URI
names a server it may empty (docs/neo4j.md), else those tests skip saying so."""


def open_backend(backend: str, tmp_path: Path) -> Store:
    if backend.startswith("embedded"):
        store = EmbeddedStore(tmp_path / "baton.db", walk_index=backend == "embedded-indexed")
        store.migrate()
        if store.adjacency is not None:
            store.adjacency.read()  # ready, as `baton serve`'s is once it has read the store
        return store
    if backend == "neo4j":
        settings = Settings.from_env(tmp_path).neo4j
        if settings is None:
            pytest.skip("BATON_NEO4J_URI is not set: no Neo4j server to run the store suite on")
        from catalog.stores.neo4j.store import Neo4jStore

        server = Neo4jStore(settings, retry_seconds=5)
        server.erase_everything()  # each test starts from an empty graph
        server.migrate()
        return server
    raise ValueError(backend)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_backend(request.param, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path / "baton.db")
    opened.migrate()
    yield opened
    opened.close()


Write = Callable[..., WriteResult]


@pytest.fixture
def write(store: Store) -> Write:
    """Write snapshots to the store through the write path, as a test actor."""

    def _write(*snapshots: SourceSnapshot, actor: str = "test:alice") -> WriteResult:
        request = WriteRequest(actor=actor, source="test", reason="testing")
        return write_batch(store, Batch(snapshots=list(snapshots)), request)

    return _write


def chain_snapshot(source: str, *names: str, complete: bool = True) -> SourceSnapshot:
    """A source asserting `names[0] FEEDS names[1] FEEDS ...` in the test namespace."""
    builder = SnapshotBuilder(source)
    refs = [builder.node(dataset_ref("test://ns", name)) for name in names]
    for upstream, downstream in itertools.pairwise(refs):
        builder.edge(EdgeKind.FEEDS, upstream, downstream)
    return builder.build(complete=complete)


def demo_batch() -> Batch:
    files = sql.read_sql_files([EXAMPLES])
    texts, errors = files.texts, files.errors
    assert not errors
    return sql.parse(texts, DEMO_OPTIONS)


@pytest.fixture
def demo_store(embedded: EmbeddedStore) -> EmbeddedStore:
    result = write_batch(embedded, demo_batch(), WriteRequest("test:alice", "demo", "demo data"))
    assert result.changed and not result.errors
    return embedded


@pytest.fixture
def owned_warehouse(demo_store: EmbeddedStore) -> EmbeddedStore:
    """The demo project with the owners of examples/ownership/warehouse.yaml."""
    ownership.apply_map(demo_store, OWNERSHIP_MAP, actor="test:alice", reason="owners")
    return demo_store


# -- handoffs on the demo project -----------------------------------------------------------

PROMOTE = PROJECT / "examples" / "handoffs" / "promote-to-prod.yaml"
ORDERS = dataset_ref(NAMESPACE, "analytics.marts.fct_orders")
EDITOR = Principal("token:ci", frozenset({Role.EDITOR}))
SAM = Principal("token:sam", frozenset({Role.APPROVER}), owner="person:sam@acme.example")
MARIA = Principal("token:maria", frozenset({Role.APPROVER}), owner="person:maria@acme.example")
"""Sam acts for team:analytics-engineering (a member); Maria approves the sales domain."""


def policy_of(path: Path) -> Policy:
    policy, errors = read_policy(path)
    assert policy is not None, errors
    return policy


def publish_contract(store: Store, file: str) -> int:
    """Publish an example contract; the ledger entry written."""
    versions, errors = read_contracts([PROJECT / "examples" / "contracts" / file])
    assert not errors
    result = contracts.publish(store, versions, actor="test:alice", reason="contract")
    assert result.ledger_seq is not None
    return result.ledger_seq


def open_handoff(store: Store, handoff_id: str = "orders-prod") -> str:
    """A dev -> prod handoff of fct_orders under the example policy."""
    handoffs.create(
        store, policy_of(PROMOTE), [ORDERS], move=Move.STAGE, from_="dev", to="prod",
        principal=EDITOR, reason="go live", handoff_id=handoff_id,
    )  # fmt: skip
    return handoff_id


def approve(store: Store, handoff_id: str, signoff: str, who: Principal) -> None:
    handoffs.sign(
        store, handoff_id, signoff, decision=Decision.APPROVE, comment="ok", principal=who
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` with a real uvicorn on a free loopback port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over a store holding the demo project; module-scoped: tests only read."""
    demo = EmbeddedStore(tmp_path_factory.mktemp("served") / "baton.db")
    demo.migrate()
    write_batch(demo, demo_batch(), WriteRequest("test:alice", "demo", "demo data"))
    with running(create_app(demo)) as url:
        yield url
    demo.close()


@dataclass
class Served:
    """A `baton serve` process: its base URL, the process and its log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def served(home: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`baton serve` over `home` on a free loopback port (with `env` added to its
    environment), ready; stopped at the end unless it is gone already."""
    port = _free_port()
    log = home.parent / f"serve-{port}.log"  # a file: a pipe nobody reads would fill and block
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BATON), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=os.environ | {"BATON_HOME": str(home)} | (env or {}), stdout=sink, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urlopen(url + "/readyz", timeout=2):
                break
        except (URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"baton serve did not start: {log.read_text()}") from None
            time.sleep(0.1)
    try:
        yield Served(url, process, log)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=10)


@contextmanager
def serving(home: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`baton serve` over `home`; yields its base URL."""
    with served(home, env) as server:
        yield server.url


def graphql_call(url: str, query: str, token: str | None, **variables: Any) -> dict[str, Any]:
    """POST a GraphQL operation to a real server, with a bearer token when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = response.json()
    return body


def baton(home: Path, *args: str) -> Result:
    """Run the real CLI on the data directory `home`."""
    return CliRunner().invoke(app, ["--home", str(home), *args])


def run_sql(database: Path, *statements: str) -> None:
    """Change a database behind Baton's back, as an operator (or an attacker) could."""
    conn = sqlite3.connect(database)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def shared_fixtures() -> Path:
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not present at {SHARED_FIXTURES}")
    return SHARED_FIXTURES
