"""Hostile requests against a real `baton serve`: how fast each is refused, and how
`/healthz` answers meanwhile.

    .venv/bin/python bench/hostile_requests.py --repeat 20

Starts `baton serve` on a free loopback port (a store with one reader token), then sends,
`--repeat` times each, a GraphQL fragment bomb (25 fragments each spreading the next twice:
2^25 fields from under 1 KB), the same anonymously, and a YAML "billion laughs" contract
(10^9 strings once expanded) to `impactOfContract`, while another thread probes `/healthz`
without pause. Before these were bounded, the 24-level bomb held the event loop over three
minutes and the 9-level YAML 70 s and 4.5 GB. Targets: each refused in under 100 ms,
`/healthz` under 50 ms throughout.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from served import baton_serving

from catalog.security import Role, TokenStore


def fragment_bomb(levels: int) -> str:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels))
    return f"{{ ...F0 }} {chain} fragment F{levels} on Query {{ __typename }}"


def billion_laughs(levels: int) -> str:
    lines = ['l0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        _, reader = TokenStore(Path(home)).create("bench", [Role.READER])
        with baton_serving(home) as (url, _):
            contract = "query($d: String!) { impactOfContract(document: $d) { severity } }"
            attacks = {
                "fragment bomb, 25 levels (reader)": (
                    {"query": fragment_bomb(25)}, {"Authorization": f"Bearer {reader}"}),
                "fragment bomb, 25 levels (bad token)": (
                    {"query": fragment_bomb(25)}, {"Authorization": "Bearer baton_x_y"}),
                "YAML billion laughs, 9 levels": (
                    {"query": contract, "variables": {"d": billion_laughs(9)}}, {}),
            }  # fmt: skip
            probes: list[float] = []
            attacking = threading.Event()
            attacking.set()

            def probe() -> None:
                with httpx.Client() as client:
                    while attacking.is_set():
                        started = time.perf_counter()
                        client.get(f"{url}/healthz").raise_for_status()
                        probes.append(time.perf_counter() - started)

            prober = threading.Thread(target=probe)
            prober.start()
            with httpx.Client(timeout=300) as client:
                for name, (body, headers) in attacks.items():
                    times = []
                    for _ in range(args.repeat):
                        started = time.perf_counter()
                        answer = client.post(f"{url}/graphql", json=body, headers=headers)
                        times.append(time.perf_counter() - started)
                        code = answer.json()["errors"][0]["extensions"]["code"]
                    print(
                        f"{name}: refused ({code}) in median {statistics.median(times) * 1000:.1f}"
                        f" ms, max {max(times) * 1000:.1f} ms (target < 100 ms)"
                    )
            attacking.clear()
            prober.join()
    cut = statistics.quantiles(probes, n=100)
    print(
        f"/healthz meanwhile: {len(probes)} probes, p50 {cut[49] * 1000:.1f} ms, "
        f"p99 {cut[98] * 1000:.1f} ms, max {max(probes) * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
