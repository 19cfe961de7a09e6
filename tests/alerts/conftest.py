"""Alert tests' world: the jaffle_shop dbt project with an operator for `orders`, real
receivers on loopback ports (a webhook server that checks signatures, Slack and PagerDuty
stand-ins, an SMTP server), and an alerts file routing to them."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from catalog.alerts import settings as alert_settings
from catalog.alerts.channels import Channels, signature
from catalog.alerts.lifecycle import Alerting
from catalog.alerts.worker import Deliverer, deliver_due
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import PROJECT, _free_port, baton

JAFFLE = PROJECT / "examples" / "dbt" / "jaffle_shop"
ORDERS = "duckdb://default/jaffle_shop.main.orders"
FAILING_TEST = "test.jaffle_shop.not_null_orders_amount.106140f9fd"
UNOWNED_TEST = "test.jaffle_shop.not_null_stg_customers_customer_id.e2cfb1f9aa"
STEWARDED_TEST = "test.jaffle_shop.unique_customers_customer_id.c5af1ff4b1"
"""A check on `customers`, which has a steward and no operator."""
WEBHOOK_SECRET = "whsec-test-7f3a9c"
SLACK_URL_PATH = "/services/T000/B000/slack-secret-path"
PAGER_KEY = "pd-routing-key-secret-42"

OWNERSHIP = """
version: 1
name: shop
owners:
  team:shop-ops:
    name: Shop Operations
    email: ops@shop.example
    slack: "#shop-ops"
    pager: shop-oncall
    runbook: https://wiki.shop.example/runbooks/orders
    escalation: [person:lead@shop.example]
  person:lead@shop.example:
    name: Lee Lead
    email: lead@shop.example
  team:analytics:
    email: analytics@shop.example
rules:
  - match: "duckdb://default/jaffle_shop.main.orders"
    owners: {operator: team:shop-ops, steward: team:analytics}
  - match: "duckdb://default/jaffle_shop.main.customers"
    owners: {steward: team:analytics}
  - match: "duckdb://default/jaffle_shop.main.orders"
    freshness: 6h
"""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server that records every POST; `fail` answers 503 while set."""

    url: str
    requests: list[Received] = field(default_factory=list)
    fail: bool = False
    slow: float = 0.0
    """Seconds each request takes to answer."""

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    recorded = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            time.sleep(recorded.slow)
            if recorded.fail:
                self.send_response(503)
            else:
                recorded.requests.append(Received(self.path, dict(self.headers), body))
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorded.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorded
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def mail_text(envelope: Any) -> str:
    """The plain-text body of a received mail, decoded."""
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox("127.0.0.1", _free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    yield box
    controller.stop()


def alerts_file(
    tmp_path: Path,
    receiver: Receiver,
    mailbox: Mailbox,
    extra: str = "",
    email_extra: str = "    starttls: false\n",
) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(
        f"""
version: 1
console_url: http://baton.shop.example
escalate_after: 30m
channels:
  webhooks:
    ops: {{url: "{receiver.url}/hook", secret_env: TEST_WEBHOOK_SECRET}}
  slack:
    "#shop-ops": {{webhook_url_env: TEST_SLACK_URL}}
  pagerduty:
    shop-oncall: {{routing_key_env: TEST_PAGER_KEY, url: "{receiver.url}/pagerduty"}}
  email:
    host: {mailbox.host}
    port: {mailbox.port}
{email_extra}    sender: baton@shop.example
fallback: [webhook:ops]
delivery:
  backoff_seconds: 1
  max_attempts: 4
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch, receiver: Receiver) -> dict[str, str]:
    env = {
        "TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TEST_SLACK_URL": receiver.url + SLACK_URL_PATH,
        "TEST_PAGER_KEY": PAGER_KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


JAFFLE_RUN_AT = "2026-11-22T02:54:40.452981Z"
"""When the example project's own run results were generated."""


def run_results(
    tmp_path: Path, failing: dict[str, int], invocation: str, at: str = "2026-11-30T06:00:00Z"
) -> Path:
    """A copy of the project whose run results (generated `at`) fail `failing` (test id ->
    failing rows; a model id errors)."""
    project = tmp_path / f"jaffle-{invocation}"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(JAFFLE, project)
    results = json.loads((JAFFLE / "run_results.json").read_text())
    results["metadata"]["invocation_id"] = invocation
    results["metadata"]["generated_at"] = at
    for result in results["results"]:
        rows = failing.get(result["unique_id"])
        if rows is not None and result["unique_id"].startswith("model."):
            result |= {"status": "error", "message": "relation does not exist"}
        elif rows is not None:
            message = f"Got {rows} results, configured to fail if != 0"
            result |= {"status": "fail", "failures": rows, "message": message}
    (project / "run_results.json").write_text(json.dumps(results))
    return project


class Clock:
    """Test time: starts now, moves only when told."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    home: Path
    store: EmbeddedStore
    alerting: Alerting
    deliverer: Deliverer
    clock: Clock
    receiver: Receiver
    mailbox: Mailbox
    tmp: Path

    def ingest(
        self, failing: dict[str, int], invocation: str, at: str = "2026-11-30T06:00:00Z"
    ) -> None:
        project = run_results(self.tmp, failing, invocation, at)
        result = baton(self.home, "ingest", "dbt", str(project), "--reason", "test run")
        assert result.exit_code == 0, result.output

    def work(self) -> None:
        """One pass of the worker: events to alerts, escalation, delivery."""
        self.alerting.process()
        self.alerting.escalate()
        deliver_due(self.alerting, self.deliverer)

    def webhooks(self) -> list[Any]:
        return [r.json for r in self.receiver.at("/hook")]


def verified(request: Received) -> bool:
    timestamp = request.headers["X-Baton-Timestamp"]
    return request.headers["X-Baton-Signature"] == signature(
        WEBHOOK_SECRET, timestamp, request.body
    )


def make_world(
    tmp_path: Path,
    receiver: Receiver,
    mailbox: Mailbox,
    extra: str = "",
    email_extra: str = "    starttls: false\n",
) -> World:
    home = tmp_path / "home"
    assert baton(home, "ingest", "dbt", str(JAFFLE), "--reason", "project").exit_code == 0
    owners = tmp_path / "shop.yaml"
    owners.write_text(OWNERSHIP, encoding="utf-8")
    assert baton(home, "ingest", "ownership", str(owners), "--reason", "owners").exit_code == 0
    store = EmbeddedStore(home / "baton.db")
    store.migrate()
    settings = alert_settings.load(alerts_file(tmp_path, receiver, mailbox, extra, email_extra))
    clock = Clock()
    alerting = Alerting(store, store.alert_queue(), settings, clock=clock)
    deliverer = Deliverer(Channels(settings), settings.file.delivery, clock=clock)
    world = World(home, store, alerting, deliverer, clock, receiver, mailbox, tmp_path)
    world.work()  # the project's own (passing) results and ownership notices
    receiver.requests.clear()
    mailbox.messages.clear()
    return world


@pytest.fixture
def world(
    tmp_path: Path, receiver: Receiver, mailbox: Mailbox, secrets_env: dict[str, str]
) -> Iterator[World]:
    made = make_world(tmp_path, receiver, mailbox)
    yield made
    made.store.close()


@dataclass
class TlsMailbox(Mailbox):
    """A mailbox that takes mail only after STARTTLS and a login."""

    ca_file: str = ""
    logins: list[tuple[str, str]] = field(default_factory=list)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, signed by itself (it is its own CA)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "smtp.pem", directory / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))  # fmt: skip
    return cert_file, key_file


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[TlsMailbox]:
    cert_file, key_file = self_signed(tmp_path)
    box = TlsMailbox("127.0.0.1", _free_port(), ca_file=str(cert_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        ok = isinstance(auth, LoginPassword) and auth.password == b"smtp-secret"
        if ok:
            box.logins.append((auth.login.decode(), mechanism))
        return AuthResult(success=ok)

    controller = Controller(
        box, hostname=box.host, port=box.port, tls_context=context, require_starttls=True,
        authenticator=authenticator, auth_required=True,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()
