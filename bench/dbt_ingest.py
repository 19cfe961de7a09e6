"""dbt ingestion: time and peak memory into a fresh embedded store, and how well the tables
Baton's SQL analysis finds agree with dbt's own `depends_on`.

    .venv/bin/python bench/dbt_ingest.py ../shared/fixtures/dbt
    .venv/bin/python bench/dbt_ingest.py ../shared/fixtures/dbt --datahub-python /tmp/dh/bin/python

Timing: `baton ingest dbt` runs in a child process per case (so its peak RSS is its own):
GitLab's parse-only manifest (table lineage; target <= 10 s) and its compiled manifest
(column lineage; target <= 60 s). With --datahub-python, DataHub's dbt source
(`datahub ingest`, file sink, no server) ingests the same manifests in the same run, and
the ratios are printed.

Agreement: for every model with compiled SQL, the relations its SQL reads against the
relations of its `depends_on` (an ephemeral parent stands for the relations it reads,
since dbt inlines it as a CTE). Each disagreement is listed with what differs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from ingesters import dbt
from ingesters.dbt import compiled_sql

MISSED = "SQL analysis missed a named relation"
TARGETS = {"table lineage": 10.0, "column lineage": 60.0}


class Run(NamedTuple):
    seconds: float
    peak_mb: float
    """Peak RSS of the largest process (the ingest, or one worker it waited for)."""
    summed_peak_mb: float
    """Peak of the RSS summed over the ingest and every process under it at one time,
    sampled every 50 ms."""
    code: int


def tree_rss_mb(root: int) -> float:
    """RSS summed over `root` and its descendants now, in MB (Linux /proc)."""
    pages, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            pages += int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += map(int, (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):  # ended while we looked
            continue
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed_child(command: list[str], log: Path | None = None) -> Run:
    """Time and memory of one child process and the processes it starts, measured alone."""
    started = time.perf_counter()
    stderr = log.open("w") if log else None
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
    summed = [0.0]
    ended = threading.Event()

    def sample() -> None:
        while not ended.wait(0.05):
            summed[0] = max(summed[0], tree_rss_mb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    ended.set()
    sampler.join()
    if stderr:
        stderr.close()
    return Run(elapsed, usage.ru_maxrss / 1024, summed[0], os.waitstatus_to_exitcode(status))


def baton_ingest(manifest: Path, work: Path, *extra: str) -> Run:
    home = work / f"home-{manifest.name}"
    command = [sys.executable, "-m", "catalog", "--home", str(home), "ingest", "dbt"]
    return timed_child([*command, str(manifest), "--json", *extra])


def datahub_ingest(python: str, manifest: Path, work: Path, column_lineage: bool) -> Run:
    """DataHub's dbt source with a file sink (its log goes to `datahub-<manifest>.log` in
    the current folder); it needs a catalog.json, so an empty one."""
    plain = work / f"dh-{manifest.name}.json"
    if manifest.suffix == ".gz":
        plain.write_bytes(gzip.decompress(manifest.read_bytes()))
    else:
        plain.write_bytes(manifest.read_bytes())
    catalog = work / "empty-catalog.json"
    catalog.write_text(
        json.dumps(
            {
                "metadata": {
                    "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"
                },
                "nodes": {},
                "sources": {},
                "errors": None,
            }
        )
    )
    recipe = work / f"dh-{manifest.name}.yml"
    recipe.write_text(
        json.dumps(
            {
                "source": {
                    "type": "dbt",
                    "config": {
                        "manifest_path": str(plain),
                        "catalog_path": str(catalog),
                        "target_platform": "snowflake",
                        "write_semantics": "OVERRIDE",
                        "include_column_lineage": column_lineage,
                        "infer_dbt_schemas": column_lineage,
                    },
                },
                "sink": {"type": "file", "config": {"filename": str(work / "dh-out.json")}},
            }
        )
    )
    datahub = str(Path(python).parent / "datahub")
    return timed_child([datahub, "ingest", "-c", str(recipe)], Path(f"datahub-{manifest.name}.log"))


def agreement(manifest_file: Path) -> None:
    artifacts = dbt.read_artifacts(dbt.ArtifactPaths(manifest_file))
    manifest = artifacts.manifest
    relations = dbt.relations_of(manifest, dbt.DbtOptions())
    nodes = manifest.nodes
    ephemeral = {uid for uid, n in nodes.items() if n.materialized == "ephemeral"}

    def expected(uid: str) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()
        for parent in nodes[uid].depends_on.nodes:
            if parent in ephemeral:
                found |= expected(parent)
            elif parent in relations.tables:
                found.add(relations.tables[parent])
        return found

    models = [
        n for n in nodes.values() if n.resource_type in ("model", "snapshot") and n.compiled_code
    ]
    agree, differ, unparsed = 0, [], []
    causes: Counter[str] = Counter()
    misses = 0
    for result in compiled_sql.analyse_models(models, relations, {}, {}):
        uid = result.node.unique_id
        if uid in ephemeral:
            continue
        if result.lineage is None:
            unparsed.append((uid, result.problem))
            continue
        target = relations.tables[uid]
        found = {t for t in result.lineage.reads if t != target}
        wanted = expected(uid) - {target}
        if found == wanted:
            agree += 1
        else:
            differ.append((uid, sorted(found - wanted), sorted(wanted - found)))
            why = _causes(result.node.compiled_code or "", found - wanted, wanted - found)
            causes.update(why)
            misses += MISSED in why
    compared = agree + len(differ)
    print(
        f"\n{manifest_file}: {agree}/{compared} models agree with depends_on "
        f"({100 * agree / max(compared, 1):.1f}%; target >= 99%); "
        f"{len(unparsed)} without SQL lineage; {compared - misses}/{compared} "
        f"({100 * (compared - misses) / max(compared, 1):.1f}%) once differences the compiled "
        "SQL itself explains are set aside"
    )
    for cause, count in causes.most_common():
        print(f"  {count:4d} x {cause}")
    for uid, extra, missing in differ:
        extra_s = ", ".join(".".join(t) for t in extra) or "-"
        missing_s = ", ".join(".".join(t) for t in missing) or "-"
        print(f"  differs {uid}: SQL also reads [{extra_s}]; SQL misses [{missing_s}]")
    for uid, problem in unparsed:
        print(f"  no SQL lineage {uid}: {problem}")


def _causes(sql: str, extra: set[tuple[str, ...]], missing: set[tuple[str, ...]]) -> list[str]:
    """Why SQL and depends_on differ. A relation the SQL reads that dbt does not list is
    named literally in the model (no ref/source). A listed relation whose name is nowhere
    in the compiled SQL (comments aside: dbt's `-- depends_on: {{ ref() }}` hints) was
    used by Jinja only (a hint, a macro run at compile time, a branch not rendered); one
    whose name is there is a miss of the SQL analysis."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", "", sql, flags=re.DOTALL).upper().replace('"', "")
    found = ["hard-coded relation (no ref/source)" for _ in extra]
    for table in missing:
        named = re.search(rf"\b{re.escape(table[-1].upper())}\b", text) is not None
        found.append(MISSED if named else "ref used only by Jinja")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path, help="../shared/fixtures/dbt")
    parser.add_argument("--datahub-python", help="python of a venv with acryl-datahub[dbt]")
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    gitlab = args.fixtures / "gitlab_snowflake"
    cases = {
        "table lineage": gitlab / "manifest.json.gz",
        "column lineage": gitlab / "manifest.compiled.json.gz",
    }
    if not args.skip_timing:
        print(f"GitLab ({os.cpu_count()} cores), fresh embedded store per case:")
        with tempfile.TemporaryDirectory() as work:
            for label, manifest in cases.items():
                extra = [] if label == "column lineage" else ["--no-column-lineage"]
                baton = baton_ingest(manifest, Path(work), *extra)
                verdict = "within" if baton.seconds <= TARGETS[label] else "OVER"
                line = (
                    f"  baton {label}: {baton.seconds:.1f} s ({verdict} {TARGETS[label]:.0f} s),"
                    f" peak RSS {baton.peak_mb:.0f} MB ({baton.summed_peak_mb:.0f} MB summed"
                    f" over its processes), exit {baton.code}"
                )
                if args.datahub_python:
                    datahub = datahub_ingest(
                        args.datahub_python, manifest, Path(work), label == "column lineage"
                    )
                    line += (
                        f"; DataHub dbt source {datahub.seconds:.1f} s, peak RSS"
                        f" {datahub.peak_mb:.0f} MB ({datahub.summed_peak_mb:.0f} MB summed),"
                        f" exit {datahub.code}"
                        f" (baton {datahub.seconds / baton.seconds:.1f}x faster)"
                    )
                print(line, flush=True)
    for project in ("mattermost_analytics", "gitlab_snowflake"):
        agreement(args.fixtures / project / "manifest.compiled.json.gz")


if __name__ == "__main__":
    main()
