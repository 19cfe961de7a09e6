"""Browser tests: Debian's Chromium, driven by Playwright, against a real `baton serve`
over the demo catalog (examples/load-demo.sh). Every request to a host other than the
server is refused and recorded, so a page that needs the internet fails its test; a
failing test leaves a screenshot in tests/browser/screenshots/ (or $BATON_SCREENSHOTS)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.conftest import BATON, PROJECT, serving

CHROMIUM = os.environ.get("BATON_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    # As root on a closed network: no sandbox, and none of Chromium's own phoning home.
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(os.environ.get("BATON_SCREENSHOTS", PROJECT / "tests/browser/screenshots"))
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the demo catalog, loaded by the demo's own script."""
    home = tmp_path_factory.mktemp("demo") / ".baton"
    environment = os.environ | {"BATON_HOME": str(home), "BATON": str(BATON)}
    loaded = subprocess.run(
        ["sh", str(PROJECT / "examples" / "load-demo.sh")],
        env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert loaded.returncode == 0, f"load-demo.sh failed:\n{loaded.stdout}\n{loaded.stderr}"
    return home


@pytest.fixture(scope="session")
def console(demo_home: Path) -> Iterator[str]:
    with serving(demo_home) as url:
        yield url


def copy_of(home: Path, into: Path) -> Path:
    """A consistent copy of a served data directory (SQLite's online backup)."""
    into.mkdir(parents=True)
    source, target = sqlite3.connect(home / "baton.db"), sqlite3.connect(into / "baton.db")
    with target:
        source.backup(target)
    source.close()
    target.close()
    return into


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"NO BROWSER: Chromium not found at {CHROMIUM}; `make test` installs Debian's "
            "chromium with apt-get, or set BATON_CHROMIUM"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """What a page did: requests refused for going off the server, console errors."""

    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def visit() -> Visit:
    return Visit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    report = yield
    if report.when == "call":  # type: ignore[attr-defined]
        item.stash[FAILED] = report.failed  # type: ignore[attr-defined]
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def served(console: str) -> str:
    """The server a test's page talks to (a test may override it with another)."""
    return console


@pytest.fixture
def page(
    chromium: Browser, served: str, visit: Visit, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh 1280x800 tab whose network reaches the server and nothing else."""
    console = served
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, base_url=console)

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(console + "/"):
            route.continue_()
        else:
            visit.offsite.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_the_server)
    opened = context.new_page()
    opened.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda e: visit.errors.append(str(e)))
    yield opened
    if request.node.stash.get(FAILED, False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.\[\]-]+", "_", request.node.name)
        opened.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    context.close()
    assert not visit.offsite, f"the page reached for another host: {visit.offsite}"


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical accessibility violations on the current page
    (axe is evaluated through the DevTools protocol: the page's CSP forbids inline
    scripts, and rightly)."""
    page.evaluate(AXE.read_text())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ' elements: '"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')"
    )
    return list(found)


def baton_in(home: Path, *args: str) -> str:
    """Run the real CLI on the served data directory; its standard output."""
    done = subprocess.run(
        [str(BATON), *args], env=os.environ | {"BATON_HOME": str(home)},
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture(scope="session")
def approver_token(demo_home: Path) -> str:
    """Sam's token: approver, acting as person:sam@acme.example (an analytics engineer)."""
    return baton_in(
        demo_home, "token", "create", "sam", "--role", "approver",
        "--owner", "person:sam@acme.example",
    )  # fmt: skip


@pytest.fixture(scope="session")
def engineering_handoff(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A handoff of dim_customers whose gate waits only for the engineers' sign-off."""
    policy = tmp_path_factory.mktemp("policy") / "engineering.yaml"
    policy.write_text(
        "name: engineering-sign-off\nversion: 1\ndescription: The engineers' word only.\n"
        "criteria: []\nsignoffs:\n  - name: engineering\n    role: engineer\n"
    )
    baton_in(
        demo_home, "handoff", "create", "--policy", str(policy),
        "analytics.marts.dim_customers", "--from-stage", "dev", "--to-stage", "prod",
        "--id", "customers-prod", "--reason", "browser test",
    )  # fmt: skip
    return "customers-prod"


def sign_in(page: Page, token: str, then: str = "/") -> None:
    page.goto("/sign-in?next=" + then)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**" + then)


@pytest.fixture(scope="session")
def edited_project(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A one-statement project ingested, then edited to read another column; yields
    the namespace. `t_out.x` came from `t_in.a` before the edit and `t_in.b` after."""
    project = tmp_path_factory.mktemp("edited")
    statement = project / "t_out.sql"
    for column, reason in (("a", "before the edit"), ("b", "the edit")):
        statement.write_text(f"CREATE TABLE t_out AS SELECT {column} AS x FROM t_in;\n")  # noqa: S608
        baton_in(
            demo_home, "ingest", "sql", str(project), "--dialect", "postgres",
            "--namespace", "test://edited", "--reason", reason,
        )  # fmt: skip
    return "test://edited"
