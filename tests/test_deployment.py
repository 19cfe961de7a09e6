"""The deployment files: the compose file wires Baton to a pinned, healthy Neo4j with
its secrets from the environment; the image carries the Neo4j migrations. (`make test`
also runs `docker compose config -q` where Docker Compose is installed.)"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((PROJECT / "docker-compose.yml").read_text())
    return loaded


def test_neo4j_is_pinned_to_a_community_release(compose: dict[str, Any]) -> None:
    image = compose["services"]["neo4j"]["image"]
    assert image.startswith("neo4j:5.") and image.endswith("-community")
    assert image.count(".") == 2  # major.minor.patch, never a moving tag


def test_neo4j_keeps_data_and_logs_on_volumes_and_reports_health(
    compose: dict[str, Any],
) -> None:
    neo4j = compose["services"]["neo4j"]
    assert {v.split(":")[1] for v in neo4j["volumes"]} == {"/data", "/logs"}
    assert "cypher-shell" in " ".join(neo4j["healthcheck"]["test"])


def test_secrets_come_from_the_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert (
        services["neo4j"]["environment"]["NEO4J_AUTH"]
        == "neo4j/${NEO4J_PASSWORD:?set NEO4J_PASSWORD}"
    )
    assert services["baton"]["environment"]["BATON_NEO4J_PASSWORD"].startswith("${NEO4J_PASSWORD")


def test_baton_starts_on_neo4j_after_it_is_healthy(compose: dict[str, Any]) -> None:
    baton = compose["services"]["baton"]
    assert baton["depends_on"] == {"neo4j": {"condition": "service_healthy"}}
    assert baton["environment"]["BATON_STORE"] == "neo4j"
    assert baton["environment"]["BATON_NEO4J_URI"] == "bolt://neo4j:7687"
    assert "baton migrate" in baton["command"][-1]


def test_ports_are_published_on_loopback_only(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        assert all(port.startswith("127.0.0.1:") for port in service.get("ports", []))


def test_the_image_carries_the_migrations_of_both_stores() -> None:
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert "COPY migrations migrations" in dockerfile
    assert (PROJECT / "migrations" / "neo4j" / "0001_initial.cypher").is_file()
