"""Data contracts: one immutable version of the interface a producer promises consumers.

A `ContractVersion` is what every contract source (ODCS files, dbt model contracts)
normalizes to: the datasets it covers with their columns, quality rules and SLA
properties, its owners, and a semantic version. Its `digest` identifies the content, so a
re-published identical version is recognised and a changed one under the same version
number is refused.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.domain import NodeKind, NodeRef, canonical_json, sha256_hex

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$")


def semver(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of `1.2.3`, `v1.2.3` or `1.2.3-rc.1`; ValueError otherwise."""
    match = _SEMVER.match(version.strip())
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class QualityRule(_Frozen):
    """A promise about the data's values, named so versions can be compared rule by rule."""

    name: str
    definition: dict[str, Any] = Field(default_factory=dict)


class ContractColumn(_Frozen):
    name: str
    logical_type: str | None = None
    physical_type: str | None = None
    required: bool = False
    unique: bool = False
    primary_key_position: int | None = None
    """1-based position in the primary key; None when the column is not part of it."""
    classification: str | None = None
    description: str | None = None
    property_id: str | None = None
    """The contract's stable id for the column, when it has one: a renamed column keeps it."""
    quality: tuple[QualityRule, ...] = ()


class ContractDataset(_Frozen):
    """One table of the contract, bound to the dataset it describes."""

    ref: NodeRef
    object_name: str
    columns: tuple[ContractColumn, ...] = ()
    quality: tuple[QualityRule, ...] = ()

    def column(self, name: str) -> ContractColumn | None:
        return next((c for c in self.columns if c.name == name), None)


class SlaProperty(_Frozen):
    property: str
    value: str | float | int | bool | None = None
    unit: str | None = None
    element: str | None = None


class ContractOwner(_Frozen):
    name: str
    role: str | None = None


class ContractVersion(_Frozen):
    contract_id: str
    version: str
    status: str = "active"
    name: str | None = None
    domain: str | None = None
    data_product: str | None = None
    description: str | None = None
    datasets: tuple[ContractDataset, ...] = ()
    sla: tuple[SlaProperty, ...] = ()
    owners: tuple[ContractOwner, ...] = ()
    standard: str = "odcs"
    source_file: str | None = Field(default=None, exclude=True)

    @field_validator("version")
    @classmethod
    def _semantic(cls, version: str) -> str:
        semver(version)
        return version

    # Plain properties, not cached: `model_copy` would carry a cached value over to a copy
    # whose fields differ.
    @property
    def semver(self) -> tuple[int, int, int]:
        return semver(self.version)

    @property
    def digest(self) -> str:
        """Of the content (not of where it was read from)."""
        return sha256_hex(canonical_json(self.model_dump(mode="json")))

    @property
    def ref(self) -> NodeRef:
        return contract_ref(self.contract_id, self.version)


def contract_ref(contract_id: str, version: str) -> NodeRef:
    """A contract version's node: the contract id is its namespace, the version its name."""
    return NodeRef(kind=NodeKind.CONTRACT, namespace=contract_id, name=version)


def latest_versions(versions: list[ContractVersion]) -> list[ContractVersion]:
    """The newest version of each contract among `versions`, by contract id."""
    newest: dict[str, ContractVersion] = {}
    for version in versions:
        known = newest.get(version.contract_id)
        if known is None or version.semver > known.semver:
            newest[version.contract_id] = version
    return [newest[k] for k in sorted(newest)]
