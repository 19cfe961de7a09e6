"""Fuzzing the GraphQL API with schemathesis: generated queries and mutations against a
real server with demo data; no 5xx, no internal error, no hang (each request times out).
A longer run: bench/fuzz_graphql.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import booleans
from schemathesis.core.result import Ok

from catalog.api.app import create_app
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch
from tests.conftest import demo_batch, running

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("BATON_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("BATON_FUZZ_RANDOM") == "1"
"""CI generates the same calls every run (a failure is reproducible, never a flake);
bench/fuzz_graphql.sh explores new ones each time."""


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStore(tmp_path_factory.mktemp("fuzz") / "baton.db")
    store.migrate()
    write_batch(store, demo_batch(), WriteRequest("test:alice", "demo", "demo data"))
    with running(create_app(store, api_token=TOKEN)) as url:
        yield url
    store.close()


def fuzz(url: str, examples: int) -> int:
    """Every query and mutation, `examples` generated calls each; returns operations run."""
    schema = schemathesis.graphql.from_url(f"{url}/graphql")
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            suppress_health_check=list(HealthCheck),
        )
        def survives(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            assert response.status_code < 500, (case.body, response.text[:500])
            errors = response.json().get("errors") or []
            codes = {(e.get("extensions") or {}).get("code") for e in errors}
            assert "INTERNAL" not in codes, (case.body, errors)

        survives()
        operations += 1
    return operations


def test_generated_queries_and_mutations_never_fail_the_server(writable: str) -> None:
    assert fuzz(writable, EXAMPLES) >= 20


def fuzz_rest(url: str, examples: int) -> list[str]:
    """Every REST operation of the OpenAPI document (GraphQL aside: fuzzed above), with
    and without a token; returns the operations run."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    done = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        if operation.path == "/graphql":
            continue

        @given(case=operation.as_strategy(), authorized=booleans())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=not RANDOM,
            suppress_health_check=list(HealthCheck),
        )
        def survives(case: Any, authorized: bool) -> None:
            headers = {"Authorization": f"Bearer {TOKEN}"} if authorized else {}
            response = case.call(headers=headers, timeout=30)
            assert response.status_code < 500, (case.body, response.text[:500])

        survives()
        done.append(f"{operation.method.upper()} {operation.path}")
    return done


def test_generated_rest_calls_never_fail_the_server(writable: str) -> None:
    assert set(fuzz_rest(writable, EXAMPLES)) >= {
        "POST /api/v1/lineage",
        "POST /api/v2/lineage",
        "GET /api/v1/ledger/export",
        "GET /healthz",
    }
