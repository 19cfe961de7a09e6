"""Sustained OpenLineage ingestion over HTTP: concurrent clients, throughput, latency, loss.

    .venv/bin/python bench/openlineage_ingest.py --events 4000 --clients 8
    .venv/bin/python bench/openlineage_ingest.py --events 2000 --clients 4 \
        --during-dbt-ingest ../shared/fixtures/dbt/gitlab_snowflake/manifest.compiled.json.gz \
        --events-after 30

Starts `baton serve` on a free loopback port with a fresh store, sends START and COMPLETE
events of distinct runs (each with inputs, an output, a schema and column lineage) from
concurrent clients, then counts the runs back from the store: every event must have
landed exactly once. Targets: >= 500 events/s and p99 <= 50 ms on the embedded store.

With `--alerting both`, the same events are sent twice: to a server whose alert worker
runs (every `--fail-every`th run FAILs: each failing job raises an alert, later failures
update it; routed to a fallback webhook this bench receives, and delivered), and to one
started with `--no-alerts`. It prints the throughput ratio (target: alerting on within
10% of off) and how many alerts arrived.

With `--during-dbt-ingest MANIFEST`, a `baton ingest dbt` of that manifest runs in another
process on the same store while the events are sent (it holds the store's write lock
while it applies), and a prober reads `/healthz` and a GraphQL query all along. A client
answered 503 waits the Retry-After it is given and sends again, as OpenLineage clients
do; every answer's latency counts, and no event may be lost.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from served import baton_serving

from catalog.domain import NodeKind
from catalog.stores.embedded import EmbeddedStore

TOKEN = "bench-token"


def event(number: int, run_id: str, state: str) -> dict[str, Any]:
    table = f"public.out_{number % 200}"
    return {
        "eventType": state,
        "eventTime": f"2026-11-22T00:{(number // 60) % 60:02d}:{number % 60:02d}Z",
        "producer": "https://example.com/bench",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run_id},
        "job": {"namespace": "bench", "name": f"job_{number % 200}"},
        "inputs": [{"namespace": "postgres://db", "name": f"public.in_{number % 50}"}],
        "outputs": [
            {
                "namespace": "postgres://db",
                "name": table,
                "facets": {
                    "schema": {
                        "_producer": "https://example.com/bench",
                        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json",
                        "fields": [{"name": "id", "type": "int"}, {"name": "v", "type": "text"}],
                    },
                    "columnLineage": {
                        "_producer": "https://example.com/bench",
                        "_schemaURL": "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json",
                        "fields": {
                            "v": {
                                "inputFields": [
                                    {
                                        "namespace": "postgres://db",
                                        "name": f"public.in_{number % 50}",
                                        "field": "v",
                                        "transformations": [
                                            {"type": "DIRECT", "subtype": "IDENTITY"}
                                        ],
                                    }
                                ]
                            }
                        },
                    },
                },
            }
        ],
    }


PROBE_QUERY = "{ datasets(first: 5) { edges { node { name } } } }"


def probe(url: str, probes: dict[str, list[float]], sending: threading.Event) -> None:
    """Time /healthz and a small GraphQL read, alternately, while events are sent."""
    with httpx.Client(timeout=60) as client:
        while sending.is_set():
            for name, call in (
                ("/healthz", lambda: client.get(f"{url}/healthz")),
                ("GraphQL read", lambda: client.post(f"{url}/graphql",
                                                     json={"query": PROBE_QUERY})),
            ):  # fmt: skip
                started = time.perf_counter()
                call().raise_for_status()
                probes[name].append(time.perf_counter() - started)
            time.sleep(0.01)


class Receiver:
    """A local webhook receiver counting the alerts delivered to it."""

    def __init__(self) -> None:
        received = self.received = []  # type: ignore[var-annotated]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                received.append(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def alerts_file(home: str, receiver: Receiver) -> dict[str, str]:
    path = Path(home).parent / f"{Path(home).name}-alerts.yaml"
    path.write_text(
        "version: 1\nchannels:\n  webhooks:\n"
        f"    bench: {{url: '{receiver.url}', secret_env: BENCH_SECRET}}\n"
        "fallback: [webhook:bench]\ndelivery: {rate_per_second: 10000}\n"
    )
    return {"BATON_ALERTS": str(path), "BENCH_SECRET": "bench"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--during-dbt-ingest", type=Path, default=None, metavar="MANIFEST")
    parser.add_argument(
        "--events-after", type=float, default=0.0, metavar="SECONDS",
        help="start sending this long after the ingest, so events meet its write phase",
    )  # fmt: skip
    parser.add_argument("--alerting", choices=["on", "off", "both"], default="on")
    parser.add_argument("--fail-every", type=int, default=20, metavar="N",
                        help="every Nth run FAILs (an alert each)")  # fmt: skip
    args = parser.parse_args()
    modes = ["on", "off"] if args.alerting == "both" else [args.alerting]
    rates = {mode: measure(args, mode) for mode in modes}
    if len(rates) == 2:
        print(f"alerting on / off throughput: {rates['on'] / rates['off']:.2f} (target >= 0.90)")


def measure(args: argparse.Namespace, mode: str) -> float:
    """Send the events to a fresh server with alerting `mode`; its events/s."""
    print(f"-- alerting {mode}")
    runs = args.events // 2
    events = [
        event(n, run_id, state)
        for n in range(runs)
        for run_id in [str(uuid.UUID(int=n + 1))]
        for state in ("START", "FAIL" if n % args.fail_every == 0 else "COMPLETE")
    ]
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as home:
        env = {"BATON_API_TOKEN": TOKEN}
        env |= alerts_file(home, receiver) if mode == "on" else {}
        options = ("--no-alerts",) if mode == "off" else ()
        with baton_serving(home, env, options) as (url, port):
            latencies: list[float] = []
            failures: list[int] = []
            busy: list[int] = []
            lock = threading.Lock()
            # Each client sends whole runs, START before COMPLETE, as a producer would.
            shards = [
                events[i * 2 :: args.clients * 2] + events[i * 2 + 1 :: args.clients * 2]
                for i in range(args.clients)
            ]
            shards = [
                sorted(s, key=lambda e: (e["run"]["runId"], e["eventType"] != "START"))
                for s in shards
            ]

            def send(shard: list[dict[str, Any]]) -> None:
                # A plain keep-alive connection: the client should cost the machine little.
                connection = http.client.HTTPConnection("127.0.0.1", port)
                headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
                for item in shard:
                    body = json.dumps(item)
                    while True:
                        started = time.perf_counter()
                        connection.request("POST", "/api/v1/lineage", body, headers)
                        response = connection.getresponse()
                        response.read()
                        elapsed = time.perf_counter() - started
                        with lock:
                            latencies.append(elapsed)
                            if response.status == 503:
                                busy.append(response.status)
                            elif response.status != 201:
                                failures.append(response.status)
                        if response.status != 503:
                            break
                        time.sleep(float(response.getheader("Retry-After", "1")))
                connection.close()

            ingest = None
            if args.during_dbt_ingest:
                ingest = subprocess.Popen(
                    [sys.executable, "-m", "catalog", "--home", home, "ingest", "dbt",
                     str(args.during_dbt_ingest), "--namespace", "snowflake://bench"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(args.events_after)
            probes: dict[str, list[float]] = {"/healthz": [], "GraphQL read": []}
            sending = threading.Event()
            prober = threading.Thread(target=probe, args=(url, probes, sending))
            threads = [threading.Thread(target=send, args=(s,)) for s in shards]
            started = time.perf_counter()
            sending.set()
            prober.start()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            wall = time.perf_counter() - started
            sending.clear()
            prober.join()
            if ingest is not None:
                ingest_code = ingest.wait()
                print(f"concurrent dbt ingest finished (exit {ingest_code}) "
                      f"{time.perf_counter() - started:.1f} s after the events began")  # fmt: skip
            if mode == "on":  # wait for the alerts the failed runs raised: one per job
                expected = len({n % 200 for n in range(0, runs, args.fail_every)})
                deadline = time.perf_counter() + 60
                while len(receiver.received) < expected and time.perf_counter() < deadline:
                    time.sleep(0.1)
                after = time.perf_counter() - started - wall
                delivered = len(receiver.received)
                print(f"alerts delivered to the webhook: {delivered} of {expected} jobs "
                      f"with failed runs, {after:.1f} s after the last event")  # fmt: skip
        store = EmbeddedStore(Path(home) / "baton.db")
        landed = len(store.find_nodes(NodeKind.RUN, limit=10 * runs))
        moments = sum(
            1
            for v in store.find_nodes(NodeKind.RUN, limit=10 * runs)
            for key in ("start_at", "complete_at", "fail_at")
            if key in v.attrs
        )
        store.close()
    receiver.server.shutdown()
    quantiles = statistics.quantiles(latencies, n=100)
    rate = len(latencies) / wall
    print(
        f"{len(latencies)} events from {args.clients} clients in {wall:.1f} s: "
        f"{rate:.0f} events/s (target >= 500)"
    )
    print(
        f"latency p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms "
        f"(target <= 50 ms); 503 busy (then retried): {len(busy)}; "
        f"other non-201 responses: {len(failures)}"
    )
    for name, times in probes.items():
        if len(times) >= 2:
            cut = statistics.quantiles(times, n=100)
            print(
                f"{name} while sending: {len(times)} probes, p50 {cut[49] * 1000:.1f} ms, "
                f"p99 {cut[98] * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
            )
    print(
        f"counted back: {landed} runs of {runs}, {moments} run events of {len(events)} "
        f"({'none lost or duplicated' if moments == len(events) else 'MISMATCH'})"
    )
    return rate


if __name__ == "__main__":
    main()
