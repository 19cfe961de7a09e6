"""Contracts ingester: contract files in, contract versions and their snapshots out.

`read_contracts` validates every file before returning any contract, so a caller writes
all of them or (when any is invalid) none; every problem names file, JSON path and reason.
Each contract version is its own source (`contract:<id>@<version>`): published versions
are immutable, so nothing ever replaces what one asserted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from catalog.contracts import ContractVersion
from catalog.domain import EdgeKind, IngestError, SnapshotBuilder, SourceSnapshot, owner_named
from ingesters.contracts import odcs
from ingesters.documents import read_yaml

SOURCE_PREFIX = "contract:"
SUFFIXES = (".yaml", ".yml")


def contract_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those under the folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES)
        else:
            found.append(path)
    return found


def read_contracts(paths: Iterable[Path]) -> tuple[list[ContractVersion], list[IngestError]]:
    """Contract versions of ODCS files; with any error, no versions (all or nothing)."""
    versions: list[ContractVersion] = []
    errors: list[IngestError] = []
    for file in contract_files(paths):
        source = file.as_posix()
        document, unreadable = read_yaml(file)
        if unreadable:
            errors += unreadable
            continue
        found = odcs.problems(document)
        errors += [IngestError(source=source, field=path, message=why) for path, why in found]
        if not found:
            versions.append(odcs.to_contract(document, source))
    return ([] if errors else versions), errors


def snapshot(version: ContractVersion) -> SourceSnapshot:
    """A version's node (its whole content as facts), the datasets publishing it, and its
    owners."""
    builder = SnapshotBuilder(f"{SOURCE_PREFIX}{version.contract_id}@{version.version}")
    content = version.model_dump(mode="json")
    contract = builder.node(version.ref, digest=version.digest, **content)
    for dataset in version.datasets:
        builder.edge(EdgeKind.HAS_CONTRACT, builder.node(dataset.ref), contract)
    for owner in version.owners:
        builder.owns(owner_named(owner.name), contract, owner.role or "owner", via="contract")
    return builder.build()


__all__ = ["SOURCE_PREFIX", "contract_files", "read_contracts", "snapshot"]
