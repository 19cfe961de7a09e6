"""The console's third-party files are exactly what the committed npm lockfile pins, and
no page loads anything from another host."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.api.app import create_app
from catalog.console.rendering import STATIC
from catalog.stores.embedded import EmbeddedStore
from tests.conftest import PROJECT, running

ASSETS = PROJECT / "tools" / "console-assets"
MANIFEST = STATIC / "vendored.json"
VENDOR_DIRS = [STATIC / "vendor", PROJECT / "tests" / "browser" / "vendor"]
TEMPLATES = STATIC.parent / "templates"


def vendored() -> list[dict[str, Any]]:
    return list(json.loads(MANIFEST.read_text())["files"])


def locked(package: str) -> dict[str, Any]:
    lock = json.loads((ASSETS / "package-lock.json").read_text())
    return dict(lock["packages"][f"node_modules/{package}"])


@pytest.mark.parametrize("entry", vendored(), ids=lambda e: e["file"])
def test_each_vendored_file_is_the_one_the_manifest_hashes(entry: dict[str, Any]) -> None:
    content = (PROJECT / entry["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == entry["sha256"], (
        f"{entry['file']} changed by hand: run python tools/console-assets/refresh.py"
    )


@pytest.mark.parametrize("entry", vendored(), ids=lambda e: e["file"])
def test_each_vendored_file_comes_from_the_version_the_lockfile_pins(
    entry: dict[str, Any],
) -> None:
    pinned = locked(entry["package"])
    assert (entry["version"], entry["integrity"]) == (pinned["version"], pinned["integrity"])
    declared = json.loads((ASSETS / "package.json").read_text())["dependencies"]
    assert declared[entry["package"]] == entry["version"], "package.json pins exact versions"


def test_no_file_is_vendored_without_a_manifest_entry() -> None:
    listed = {entry["file"] for entry in vendored()}
    present = {
        path.relative_to(PROJECT).as_posix()
        for folder in VENDOR_DIRS
        for path in folder.iterdir()
        if path.is_file()
    }
    assert present == listed


def test_the_server_serves_the_vendored_bytes(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    served = [e for e in vendored() if e["file"].startswith("catalog/console/static/")]
    with running(create_app(store)) as url:
        for entry in served:
            path = "/static/" + entry["file"].removeprefix("catalog/console/static/")
            body = httpx.get(url + path).content
            assert hashlib.sha256(body).hexdigest() == entry["sha256"], path


OFFSITE = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)
CSS_OFFSITE = re.compile(r"""(?:url\(|@import)\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_no_template_loads_from_another_host(template: Path) -> None:
    assert not OFFSITE.findall(template.read_text())


@pytest.mark.parametrize(
    "stylesheet", sorted(STATIC.rglob("*.css")), ids=lambda p: p.relative_to(STATIC).as_posix()
)
def test_no_stylesheet_loads_from_another_host(stylesheet: Path) -> None:
    assert not CSS_OFFSITE.findall(stylesheet.read_text())
