"""Delivering queued alerts to a local webhook: Baton's worker against a bare client.

    .venv/bin/python bench/alert_delivery.py --alerts 10000

Queues N alerts (each with one webhook delivery, signed) in a fresh embedded store, then
times `deliver_due` until all are delivered to a receiver running in its own process.
The floor is a bare keep-alive `http.client` loop POSTing the same bodies to the same
receiver. Target: >= 500 deliveries/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from catalog.alerts import settings as alert_settings
from catalog.alerts.channels import Channels
from catalog.alerts.lifecycle import Alerting, deliveries, iso
from catalog.alerts.model import Action, Alert, AlertStatus
from catalog.alerts.queue import AlertTx
from catalog.alerts.worker import Deliverer, deliver_due
from catalog.domain import Batch, SnapshotBuilder, dataset_ref
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch


def receive(port: Any) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    server.serve_forever()


def queued(store: EmbeddedStore, count: int) -> None:
    """`count` firing alerts, each with a pending webhook delivery."""
    builder = SnapshotBuilder("bench")
    builder.node(dataset_ref("bench://", "t"))
    write_batch(store, Batch(snapshots=[builder.build()]), WriteRequest("bench", "bench", "b"))
    now = time.time()

    def unit(tx: AlertTx) -> None:
        for n in range(count):
            alert = Alert(
                f"bench|{n}", "check.failed", '["DATASET","bench://","t"]', "error",
                AlertStatus.FIRING, f"check {n} failed", {"observed": {"n": n}}, 1, 1,
                iso(now), iso(now),
            )  # fmt: skip
            tx.save(alert)
            tx.enqueue(deliveries(alert, Action.TRIGGER, "trigger", ["webhook:bench"], now))

    store.alert_queue().transaction(unit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    args = parser.parse_args()
    port = multiprocessing.Value("i", 0)
    receiver = multiprocessing.Process(target=receive, args=(port,), daemon=True)
    receiver.start()
    while not port.value:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port.value}/hook"
    with tempfile.TemporaryDirectory() as home:
        config = Path(home) / "alerts.yaml"
        config.write_text(
            f"version: 1\nchannels: {{webhooks: {{bench: {{url: '{url}', secret_env: S}}}}}}\n"
            "delivery: {rate_per_second: 100000}\n"
        )
        settings = alert_settings.load(config, {"S": "secret"})
        store = EmbeddedStore(Path(home) / "baton.db")
        store.migrate()
        queued(store, args.alerts)
        queue = store.alert_queue()
        bodies = [json.dumps(d.message).encode() for d in queue.due(time.time(), args.alerts)]
        alerting = Alerting(store, queue, settings)
        deliverer = Deliverer(Channels(settings), settings.file.delivery)
        started = time.perf_counter()
        sent = deliver_due(alerting, deliverer, limit=args.alerts)
        baton = time.perf_counter() - started
        delivered = len(queue.deliveries(status="delivered", limit=args.alerts))
        store.close()
    connection = http.client.HTTPConnection("127.0.0.1", port.value)
    started = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/hook", body, {"Content-Type": "application/json"})
        connection.getresponse().read()
    floor = time.perf_counter() - started
    receiver.terminate()
    print(f"Baton: {sent} attempts, {delivered} delivered in {baton:.2f} s: "
          f"{delivered / baton:.0f}/s (target >= 500)")  # fmt: skip
    print(f"bare http.client loop: {len(bodies)} in {floor:.2f} s: {len(bodies) / floor:.0f}/s")
    print(f"Baton / bare: {baton / floor:.1f}x the time (queue reads, attempts recorded before "
          "and after each batch, signing)")  # fmt: skip


if __name__ == "__main__":
    main()
