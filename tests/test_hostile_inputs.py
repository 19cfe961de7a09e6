"""The hostile-input corpus: each input an adversarial probe of the server or the CLI found
harmful, kept here so it stays harmless. Every test sends the real input to a real server
(or the real CLI) and checks the answer is a clear refusal and the server keeps serving."""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.api import auth
from catalog.api.app import create_app
from catalog.api.edge import JsonLines
from catalog.api.limits import MAX_FIELDS, document_problem
from catalog.security import Role, TokenStore
from catalog.stores.embedded import EmbeddedStore
from catalog.strict_json import dump_json
from graphql import parse
from ingesters.dbt import artifacts
from ingesters.documents import parse_yaml
from ingesters.openlineage import read_events
from ingesters.ownership import read_map
from ingesters.policies import parse_policy, read_policy
from ingesters.sql import SqlOptions, read_sql_files
from ingesters.sql import parse as parse_sql
from tests.conftest import baton, running


def fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next twice: 2^levels fields from under 1 KB of text."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server configured as if bound to 0.0.0.0 (anonymous callers may do nothing), and a
    reader's token."""
    home = tmp_path_factory.mktemp("exposed")
    tokens = TokenStore(home)
    _, reader = tokens.create("reader", [Role.READER])
    store = EmbeddedStore(home / "baton.db")
    store.migrate()
    with running(create_app(store, gate=auth.Gate(tokens=tokens, anonymous=auth.NOBODY))) as url:
        yield url, reader
    store.close()


def post_graphql(url: str, query: str, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{url}/graphql", json={"query": query}, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def healthz_while(action: Any) -> tuple[Any, float]:
    """Run `action` in a thread, probing /healthz meanwhile; its result and the slowest probe."""
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(action()))
    worker.start()
    slowest = 0.0
    while worker.is_alive():
        slowest = max(slowest, probe_healthz())
    worker.join()
    return outcome[0], slowest


def probe_healthz() -> float:
    started = time.perf_counter()
    assert httpx.get(f"{_probed}/healthz", timeout=30).status_code == 200
    return time.perf_counter() - started


_probed = ""


# -- GraphQL documents that expand exponentially ----------------------------------------------


def test_a_fragment_bomb_is_measured_without_expanding_it() -> None:
    problem = document_problem(parse(fragment_bomb(60)))  # 2^60 fields if expanded
    assert problem is not None and f"more than {MAX_FIELDS:,} fields" in problem


def test_fragments_spread_many_times_count_every_time() -> None:
    assert document_problem(parse(fragment_bomb(12))) is None  # 4,096 fields
    assert document_problem(parse(fragment_bomb(13))) is not None  # 8,192 fields


def test_graphiqls_introspection_query_is_within_every_bound() -> None:
    from graphql import get_introspection_query

    assert document_problem(parse(get_introspection_query(descriptions=True))) is None


def test_an_anonymous_fragment_bomb_is_refused_before_any_validation(
    exposed: tuple[str, str],
) -> None:
    url, _ = exposed
    started = time.perf_counter()
    body = post_graphql(url, fragment_bomb(24))
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert time.perf_counter() - started < 5  # minutes before the fix


def test_a_readers_fragment_bomb_is_refused_and_the_server_keeps_answering(
    exposed: tuple[str, str],
) -> None:
    global _probed
    url, reader = exposed
    _probed = url
    body, slowest_probe = healthz_while(lambda: post_graphql(url, fragment_bomb(24), reader))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "fields" in error["message"]
    assert slowest_probe < 5


def test_a_slow_operation_runs_off_the_event_loop(tmp_path: Path) -> None:
    """While a resolver is blocked in the store, health probes still answer."""
    global _probed
    store = EmbeddedStore(tmp_path / "baton.db")
    store.migrate()
    release = threading.Event()
    reading = threading.Event()
    real_seq_at = store.seq_at

    def blocked_seq_at(at: Any) -> int:
        reading.set()
        release.wait(timeout=30)
        return real_seq_at(at)

    store.seq_at = blocked_seq_at  # type: ignore[method-assign]
    with running(create_app(store)) as url:
        _probed = url
        query = '{ dataset(namespace: "x://y", name: "t", asOf: "2026-01-01T00:00:00Z") { name } }'
        worker = threading.Thread(target=lambda: post_graphql(url, query))
        worker.start()
        assert reading.wait(timeout=10)
        assert probe_healthz() < 5  # the loop is free while the resolver waits
        release.set()
        worker.join()
    store.close()


# -- logs ---------------------------------------------------------------------------------------


def test_a_refused_operation_is_logged_as_one_line_without_its_text(
    exposed: tuple[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, reader = exposed
    caplog.set_level(logging.DEBUG)
    post_graphql(url, '{ dataset(namespace: "x://secret-literal", name: "t") { name } }', reader)
    post_graphql(url, '{ nosuchfield(arg: "another-secret-literal") }', reader)
    logged = [r for r in caplog.records if r.name.startswith(("baton", "strawberry"))]
    text = "\n".join(JsonLines().format(r) for r in logged)
    assert "secret-literal" not in text
    assert not any(r.exc_info for r in logged)
    errors = [r for r in logged if r.getMessage() == "graphql error"]
    assert [r.code for r in errors] == ["NOT_FOUND", "GRAPHQL_VALIDATION_FAILED"]  # type: ignore[attr-defined]


# -- YAML that expands exponentially or nests without end ---------------------------------------


def billion_laughs(levels: int) -> str:
    """Each anchor names a list of ten aliases to the one before: 10^levels strings."""
    lines = ['l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


DEEP_YAML = "a: " + "[" * 20_000 + "]" * 20_000 + "\n"


def test_a_billion_laughs_contract_is_refused_by_the_server_at_once(server: str) -> None:
    global _probed
    _probed = server
    query = "query($d: String!) { impactOfContract(document: $d) { severity } }"

    def send() -> dict[str, Any]:
        response = httpx.post(
            f"{server}/graphql", json={"query": query, "variables": {"d": billion_laughs(9)}}
        )
        body: dict[str, Any] = response.json()
        return body

    body, slowest_probe = healthz_while(send)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "aliases count each time" in error["message"]
    assert slowest_probe < 5


def test_a_billion_laughs_contract_to_publish_is_rejected(server: str) -> None:
    response = httpx.post(
        f"{server}/graphql",
        json={
            "query": "mutation($d: String!) { publishContract(document: $d) { changed } }",
            "variables": {"d": billion_laughs(9)},
        },
    )
    assert response.json()["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "FORBIDDEN"}


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "contracts"],
        ["contract", "diff", "urn:x", "BOMB"],
        ["impact", "--contract"],
    ],
)
@pytest.mark.parametrize(("document", "reason"), [
    (billion_laughs(9), "expands to more than"),
    (DEEP_YAML, "nested deeper than"),
])  # fmt: skip
def test_the_cli_refuses_hostile_yaml_naming_file_and_line(
    tmp_path: Path, command: list[str], document: str, reason: str
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(document)
    arguments = [str(bomb) if part == "BOMB" else part for part in command]
    assert baton(tmp_path / "home", "migrate").exit_code == 0
    result = baton(tmp_path / "home", *arguments, str(bomb))
    assert result.exit_code == 2, result.output
    assert re.search(rf"{re.escape(bomb.as_posix())}:\d+: YAML", result.output), result.output
    assert reason in result.output


@pytest.mark.parametrize(("document", "reason"), [
    (billion_laughs(9), "expands to more than"),
    (DEEP_YAML, "nested deeper than"),
])  # fmt: skip
def test_ownership_maps_and_policies_refuse_hostile_yaml(
    tmp_path: Path, document: str, reason: str
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(document)
    _, policy_errors = read_policy(bomb)
    _, map_errors = read_map(bomb)
    for errors in (policy_errors, map_errors):
        assert reason in str(errors[0]) and errors[0].line is not None


def test_aliases_within_the_bound_still_work() -> None:
    document, errors = parse_yaml("base: &b {type: string}\ncolumns: [*b, *b]\n", "x.yaml")
    assert not errors and document["columns"] == [{"type": "string"}] * 2


# -- malformed bodies and values: a 400 or a typed error naming the field, never a 500 ---------

DEEP_VARIABLES = b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 5000 + b"1" + b"}" * 5001


@pytest.mark.parametrize(("body", "reason"), [
    (b"5", "JSON object"),
    (b"null", "JSON object"),
    (b'"{ __typename }"', "JSON object"),
    (b"[]", "JSON object"),
    (DEEP_VARIABLES, "nested deeper than 64"),
    (b'{"query": "{ __typename }", "variables": {"a": NaN}}', "NaN is not a JSON number"),
    (b'{"query": "{ __typename }", "variables": {"a": -Infinity}}', "not a JSON number"),
    (b'{"query": "{ __typename }", "variables": {"a": 1e999}}', "too large"),
    (b'{"query": "{ __typename }", "variables": {"a": "\\ud800"}}', "$.variables.a: holds a lone"),
])  # fmt: skip
def test_a_graphql_body_that_is_not_an_acceptable_json_object_is_a_400(
    server: str, body: bytes, reason: str
) -> None:
    response = httpx.post(
        f"{server}/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert reason in response.text


def event_with(**changes: Any) -> bytes:
    event: dict[str, Any] = {
        "eventType": "COMPLETE",
        "eventTime": "2026-11-30T00:00:00Z",
        "producer": "https://example.com/hostile",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "01937f3e-0000-7000-8000-000000000001"},
        "job": {"namespace": "jobs", "name": "load"},
        "inputs": [{"namespace": "postgres://db", "name": "public.a"}],
        "outputs": [{"namespace": "postgres://db", "name": "public.b"}],
    }
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = event
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]  # type: ignore[index]
        target[int(last) if last.isdigit() else last] = value  # type: ignore[index]
    return json.dumps(event).encode()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = EmbeddedStore(tmp_path_factory.mktemp("hostile-ol") / "baton.db")
    store.migrate()
    with running(create_app(store, api_token=TOKEN)) as url:
        yield url
    store.close()


TOKEN = "hostile-token"


@pytest.mark.parametrize(("body", "problem"), [
    (event_with(job__name=""), "$.job.name: must not be empty"),
    (event_with(job__namespace=" "), "$.job.namespace: must not be empty"),
    (event_with(inputs__0__name=""), "$.inputs[0].name: must not be empty"),
    (event_with(outputs__0__namespace=""), "$.outputs[0].namespace: must not be empty"),
    (event_with(job__name="load\ud800"), "$.job.name: holds a lone UTF-16 surrogate"),
    (event_with(run__facets={"x\udfff": {}}), "holds a lone UTF-16 surrogate"),
    (event_with(job__facets={"custom": {"_producer": "p", "_schemaURL": "https://x/y",
                                        "score": float("nan")}}), "NaN is not a JSON number"),
    (event_with(job__facets={"custom": {"v": float("inf")}}), "Infinity is not a JSON number"),
    (b'{"a":' * 5000 + b"1" + b"}" * 5000, "nested deeper than 64"),
    (event_with().decode().encode("utf-16"), "not a JSON event"),
    (event_with().decode().encode("utf-32"), "not a JSON event"),
])  # fmt: skip
def test_a_malformed_openlineage_event_is_a_400_naming_the_field(
    endpoint: str, body: bytes, problem: str
) -> None:
    response = httpx.post(
        f"{endpoint}/api/v1/lineage",
        content=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert problem in response.text


def test_a_gzipped_event_with_junk_after_its_member_is_a_400(endpoint: str) -> None:
    response = httpx.post(
        f"{endpoint}/api/v1/lineage",
        content=gzip.compress(event_with()) + b"junk",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 400, response.text
    assert "after the gzip" in response.text


def test_events_files_with_hostile_values_are_errors_naming_file_and_line(tmp_path: Path) -> None:
    events = tmp_path / "events.ndjson"
    events.write_bytes(event_with(job__name="x\ud800") + b"\n" + b'{"a": NaN}\n')
    found = list(read_events(events))
    assert [(line, type(e).__name__) for line, e in found] == [
        (1, "IngestError"), (2, "IngestError"),
    ]  # fmt: skip
    assert "lone UTF-16 surrogate" in str(found[0][1]) and "NaN" in str(found[1][1])


def test_a_50k_character_search_is_a_typed_error(server: str) -> None:
    body = httpx.post(
        f"{server}/graphql",
        json={
            "query": "query($s: String!) { datasets(search: $s) { edges { cursor } } }",
            "variables": {"s": "a" * 50_000},
        },
    ).json()
    assert body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert "search length" in body["errors"][0]["message"]


@pytest.mark.parametrize("roles", ["[[steward]]", "[{a: b}]", "steward"])
def test_a_policy_whose_roles_are_not_a_list_of_names_is_invalid(roles: str) -> None:
    policy = f"name: p\nversion: 1\ncriteria: [{{owners: {{roles: {roles}}}}}]\n"
    policy += "signoffs: [{name: e, role: engineer}]\n"
    parsed, errors = parse_policy(policy, "policy.yaml")
    assert parsed is None
    assert "roles must be a list of" in str(errors[0])


def test_json_out_never_holds_nan() -> None:
    assert dump_json({"a": float("nan"), "b": [float("inf"), 1.5]}) == '{"a":null,"b":[null,1.5]}'


def test_every_request_has_its_access_line_even_a_failing_one(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="baton.access")
    httpx.post(f"{server}/graphql", content=b"5", headers={"Content-Type": "application/json"})
    [line] = [r for r in caplog.records if r.name == "baton.access"]
    assert line.status == 400  # type: ignore[attr-defined]


# -- files that never end, and artifacts that do not say what they are ------------------------


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_sql_path_to_a_device_or_fifo_is_refused_at_once(tmp_path: Path, target: str) -> None:
    if target == "fifo":
        os.mkfifo(tmp_path / "pipe")
        target = str(tmp_path / "pipe")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "endless.sql").symlink_to(target)
    files = read_sql_files([tmp_path / "models"])
    texts, errors = files.texts, files.errors
    assert texts == {}
    assert "not a regular file" in str(errors[0])


def test_a_gzipped_manifest_inflating_past_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "MAX_ARTIFACT_BYTES", 10 * 2**20)
    bomb = tmp_path / "manifest.json.gz"
    bomb.write_bytes(gzip.compress(b"{" + b" " * (64 * 2**20) + b"}"))  # 64 MB of spaces
    with pytest.raises(artifacts.ArtifactError, match="inflates to more than 10,485,760"):
        artifacts.load(artifacts.Manifest, bomb)


def test_a_manifest_of_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v99.json"},
        "nodes": {},
    }))  # fmt: skip
    with pytest.raises(artifacts.ArtifactError, match=r"v99\.json' is not one Baton reads"):
        artifacts.load(artifacts.Manifest, manifest)


def test_a_quoted_name_holding_a_dot_is_not_the_three_part_name(tmp_path: Path) -> None:
    (tmp_path / "m.sql").write_text('INSERT INTO public."a.b" SELECT x FROM public.a.b')
    texts = read_sql_files([tmp_path / "m.sql"]).texts
    batch = parse_sql(texts, SqlOptions(dialect="postgres", namespace="postgres://db"))
    names = {a.subject.name for s in batch.snapshots for a in s.assertions} | {
        a.object.name for s in batch.snapshots for a in s.assertions if a.object
    }
    assert {'public."a.b"', "public.a.b"} <= names


def worker_pids(parent: int) -> set[int]:
    children = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            children.add(int(stat_file.parent.name))
    return children


def test_killing_a_dbt_ingest_ends_its_worker_processes(
    tmp_path: Path, shared_fixtures: Path
) -> None:
    manifest = shared_fixtures / "dbt" / "gitlab_snowflake" / "manifest.compiled.json.gz"
    ingest = subprocess.Popen(
        [sys.executable, "-m", "catalog", "--home", str(tmp_path), "ingest", "dbt",
         str(manifest), "--namespace", "snowflake://x"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    while len(workers) < 2 and time.monotonic() < deadline and ingest.poll() is None:
        time.sleep(0.2)
        workers = worker_pids(ingest.pid)
    assert len(workers) >= 2, "the ingest never started its worker processes"
    ingest.kill()
    ingest.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [
        pid
        for pid in workers
        if Path(f"/proc/{pid}/stat").exists()
        and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    ]
    assert survivors == []
