"""A real `baton serve` on a free loopback port, for the benches that talk HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def baton_serving(
    home: str, env: dict[str, str] | None = None, options: tuple[str, ...] = ()
) -> Iterator[tuple[str, int]]:
    """Serve the data directory `home` (with `env` added to this environment and `serve`
    `options`) until the block ends; yields the base URL and the port once /healthz
    answers."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "catalog",
            "--home",
            home,
            "serve",
            "--port",
            str(port),
            *options,
        ],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url, port
    finally:
        server.terminate()
        server.wait(timeout=30)
