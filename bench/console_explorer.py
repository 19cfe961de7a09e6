"""The lineage explorer on a large neighbourhood, in headless Chromium.

Builds a synthetic layered lineage around one dataset (about N nodes within the drawn
depth, fan-in and fan-out shared between layers, one layer more beyond it to expand
into), serves it with a real `baton serve`, and times in Debian's Chromium:

- draw: navigation to the explorer page until the graph is drawn (server walk, layout
  and Cytoscape's first frame included);
- pan and zoom: one zoom plus one pan until the next frame is painted (p50 and max);
- expand: a click on "Expand downstream" of a frontier node until the new hop is drawn.

The goal (issue 15): each within 2 s for a 2,000-node neighbourhood. OpenMetadata's view
is reported to time out near 200 nodes; no peer UI runs on this machine, so the figures
are against the goal, not a peer measured in the same run.

Run by hand:  .venv/bin/python bench/console_explorer.py --nodes 2000
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.served import baton_serving
from catalog.domain import Batch, EdgeKind, SnapshotBuilder, dataset_ref
from catalog.stores.embedded import EmbeddedStore
from catalog.write_path import WriteRequest, write_batch

NAMESPACE = "bench://explorer"
DEPTH = 4
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
ONE_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def layer_sizes(nodes: int) -> list[int]:
    """Sizes of the DEPTH layers on one side, growing outwards, summing to about nodes/2."""
    weights = [1, 4, 12, 24][:DEPTH]
    half = nodes // 2
    return [max(1, half * w // sum(weights)) for w in weights]


def build(home: Path, nodes: int, seed: int) -> int:
    """The neighbourhood, written through the real write path; returns edges written."""
    rng = random.Random(seed)
    builder = SnapshotBuilder("bench:explorer")
    drawn = layer_sizes(nodes)
    sizes = [*drawn, drawn[-1]]  # one layer more to expand into
    edges = 0
    for side in ("up", "down"):
        previous = [builder.node(dataset_ref(NAMESPACE, "root.orders"))]
        for depth, size in enumerate(sizes, start=1):
            layer = [
                builder.node(dataset_ref(NAMESPACE, f"{side}{depth}.t{i}")) for i in range(size)
            ]
            for i, node in enumerate(layer):  # each touches two of the layer nearer the root
                for near in {previous[i % len(previous)], rng.choice(previous)}:
                    source, target = (node, near) if side == "up" else (near, node)
                    builder.edge(EdgeKind.FEEDS, source, target)
                    edges += 1
            previous = layer
    store = EmbeddedStore(home / "baton.db")
    store.migrate()
    write_batch(store, Batch(snapshots=[builder.build()]), WriteRequest("bench", "bench", "bench"))
    store.close()
    return edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        edges = build(home, args.nodes, seed=7)
        page_url = f"/lineage?namespace={NAMESPACE}&name=root.orders&direction=BOTH&depth={DEPTH}"
        with baton_serving(str(home)) as (url, _), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            draws = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(url + page_url)
                page.wait_for_function("() => window.batonExplorer !== undefined")
                page.evaluate(ONE_FRAME)
                draws.append(time.perf_counter() - started)
            drawn = page.evaluate(
                "() => [batonExplorer.nodes().length, batonExplorer.edges().length]"
            )
            moves = []
            for i in range(args.repeats):
                moves.append(
                    page.evaluate(
                        f"""async (i) => {{
                          const t = performance.now();
                          batonExplorer.zoom({{level: 0.2 + (i % 5) * 0.3,
                                               renderedPosition: {{x: 400, y: 300}}}});
                          batonExplorer.panBy({{x: 40, y: -30}});
                          await ({ONE_FRAME})();
                          return performance.now() - t;
                        }}""",
                        i,
                    )
                    / 1000
                )
            page.evaluate(
                f"() => batonExplorer.nodes().filter(n => n.data('depth') === {DEPTH})[0].select()"
            )
            started = time.perf_counter()
            page.get_by_role("button", name="Expand downstream").click()
            page.wait_for_function(
                "() => document.getElementById('graph-status').textContent.includes('added from')"
            )
            page.evaluate(ONE_FRAME)
            expand = time.perf_counter() - started
            after = page.evaluate("() => batonExplorer.nodes().length")
            browser.close()
    print(f"neighbourhood: {drawn[0]} nodes, {drawn[1]} edges drawn ({edges} edges stored)")
    print(f"draw (navigate to first frame): p50 {statistics.median(draws):.2f} s, "
          f"max {max(draws):.2f} s   (goal <= 2 s)")  # fmt: skip
    print(f"pan + zoom to next frame:      p50 {statistics.median(moves) * 1000:.0f} ms, "
          f"max {max(moves) * 1000:.0f} ms   (goal <= 2 s)")  # fmt: skip
    print(f"expand one hop (+{after - drawn[0]} nodes):    {expand:.2f} s   (goal <= 2 s)")


if __name__ == "__main__":
    main()
