"""dbt artifacts at the boundary: lenient pydantic models for the fields Baton reads.

One set of models covers manifest schema v2 (dbt 0.20) to v12 (dbt 1.8+): fields renamed
across versions (`raw_sql` -> `raw_code`, `compiled_sql` -> `compiled_code`) are read
under both names, and fields that newer versions added (groups, contracts, versions,
access) are optional. Unknown fields are ignored, so newer dbt releases keep parsing.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from catalog.files import inflate_bounded, read_bounded

JsonObject = dict[str, Any]


class _Artifact(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class DependsOn(_Artifact):
    nodes: list[str] = Field(default_factory=list)


class Owner(_Artifact):
    name: str | None = None
    email: str | list[str] | None = None


class ColumnInfo(_Artifact):
    name: str
    description: str | None = ""
    data_type: str | None = None
    meta: JsonObject = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    constraints: list[JsonObject] = Field(default_factory=list)


class Contract(_Artifact):
    enforced: bool = False
    checksum: str | None = None


class NodeConfig(_Artifact):
    materialized: str | None = None
    meta: JsonObject = Field(default_factory=dict)
    group: str | None = None
    contract: Contract | None = None
    severity: str | None = None


class TestMetadata(_Artifact):
    name: str
    arguments: JsonObject = Field(default_factory=dict, alias="kwargs")
    namespace: str | None = None


class ManifestNode(_Artifact):
    """A model, seed, snapshot, test, analysis or operation of `manifest.nodes`."""

    unique_id: str
    resource_type: str
    name: str
    package_name: str = ""
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    alias: str | None = None
    relation_name: str | None = None
    original_file_path: str | None = None
    description: str | None = ""
    tags: list[str] = Field(default_factory=list)
    meta: JsonObject = Field(default_factory=dict)
    config: NodeConfig = Field(default_factory=NodeConfig)
    columns: dict[str, ColumnInfo] = Field(default_factory=dict)
    depends_on: DependsOn = Field(default_factory=DependsOn)
    checksum: JsonObject = Field(default_factory=dict)
    """dbt's checksum of the node's file: it changes when the model's code changes."""
    compiled_code: str | None = Field(
        default=None, validation_alias=AliasChoices("compiled_code", "compiled_sql")
    )
    group: str | None = None
    access: str | None = None
    version: str | int | float | None = None
    latest_version: str | int | float | None = None
    contract: Contract | None = None
    constraints: list[JsonObject] = Field(default_factory=list)
    test_metadata: TestMetadata | None = None
    column_name: str | None = None
    attached_node: str | None = None

    @property
    def materialized(self) -> str:
        return self.config.materialized or ""

    @property
    def owner_meta(self) -> JsonObject:
        """`meta` as dbt resolves it: node-level keys over config-level ones."""
        return {**self.config.meta, **self.meta}

    @property
    def enforced_contract(self) -> Contract | None:
        for contract in (self.contract, self.config.contract):
            if contract is not None and contract.enforced:
                return contract
        return None


class SourceDefinition(_Artifact):
    unique_id: str
    name: str
    source_name: str
    package_name: str = ""
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    identifier: str | None = None
    relation_name: str | None = None
    original_file_path: str | None = None
    description: str | None = ""
    source_description: str | None = ""
    loader: str | None = ""
    tags: list[str] = Field(default_factory=list)
    meta: JsonObject = Field(default_factory=dict)
    source_meta: JsonObject = Field(default_factory=dict)
    columns: dict[str, ColumnInfo] = Field(default_factory=dict)


class Exposure(_Artifact):
    unique_id: str
    name: str
    package_name: str = ""
    type: str
    owner: Owner = Field(default_factory=Owner)
    description: str | None = ""
    label: str | None = None
    maturity: str | None = None
    url: str | None = None
    tags: list[str] = Field(default_factory=list)
    meta: JsonObject = Field(default_factory=dict)
    depends_on: DependsOn = Field(default_factory=DependsOn)


class Group(_Artifact):
    name: str
    unique_id: str
    owner: Owner = Field(default_factory=Owner)


MANIFEST_SCHEMA = re.compile(r"https://schemas\.getdbt\.com/dbt/manifest/v(\d+)\.json")
SUPPORTED_MANIFEST_VERSIONS = range(2, 13)


class ManifestMetadata(_Artifact):
    dbt_schema_version: str
    dbt_version: str | None = None
    generated_at: str | None = None
    adapter_type: str | None = None
    project_name: str | None = None


class Manifest(_Artifact):
    metadata: ManifestMetadata
    nodes: dict[str, ManifestNode]
    sources: dict[str, SourceDefinition] = Field(default_factory=dict)
    exposures: dict[str, Exposure] = Field(default_factory=dict)
    groups: dict[str, Group] = Field(default_factory=dict)
    parent_map: dict[str, list[str]] | None = None

    @property
    def schema_version(self) -> str:
        """`v12` and the like, from the schema URL."""
        return self.metadata.dbt_schema_version.rsplit("/", 1)[-1].removesuffix(".json")

    @field_validator("metadata")
    @classmethod
    def _known_schema(cls, metadata: ManifestMetadata) -> ManifestMetadata:
        """A manifest of a schema Baton was not written for could mean anything."""
        found = MANIFEST_SCHEMA.fullmatch(metadata.dbt_schema_version)
        if found is None or int(found[1]) not in SUPPORTED_MANIFEST_VERSIONS:
            raise ValueError(
                f"manifest schema {metadata.dbt_schema_version!r} is not one Baton reads "
                f"(v{min(SUPPORTED_MANIFEST_VERSIONS)} to v{max(SUPPORTED_MANIFEST_VERSIONS)})"
            )
        return metadata


class CatalogColumn(_Artifact):
    name: str
    type: str | None = None
    index: int | None = None
    comment: str | None = None


class CatalogTableMetadata(_Artifact):
    type: str | None = None
    comment: str | None = None
    owner: str | None = None


class CatalogTable(_Artifact):
    metadata: CatalogTableMetadata = Field(default_factory=CatalogTableMetadata)
    columns: dict[str, CatalogColumn] = Field(default_factory=dict)
    stats: dict[str, JsonObject] = Field(default_factory=dict)


class Catalog(_Artifact):
    """`catalog.json` from `dbt docs generate`: the warehouse's real columns and types."""

    nodes: dict[str, CatalogTable] = Field(default_factory=dict)
    sources: dict[str, CatalogTable] = Field(default_factory=dict)

    def table(self, unique_id: str) -> CatalogTable | None:
        return self.nodes.get(unique_id) or self.sources.get(unique_id)


class RunResultsMetadata(_Artifact):
    dbt_schema_version: str
    generated_at: str | None = None
    invocation_id: str | None = None


class RunResult(_Artifact):
    unique_id: str
    status: str
    message: str | None = None
    failures: int | None = None
    execution_time: float | None = None


class RunResults(_Artifact):
    """`run_results.json`: the outcome of each node of one dbt invocation."""

    metadata: RunResultsMetadata
    results: list[RunResult]


class NodeRelation(_Artifact):
    alias: str
    schema_name: str
    database: str | None = None
    relation_name: str | None = None


class SemanticModel(_Artifact):
    name: str
    description: str | None = None
    node_relation: NodeRelation | None = None
    entities: list[JsonObject] = Field(default_factory=list)
    dimensions: list[JsonObject] = Field(default_factory=list)
    measures: list[JsonObject] = Field(default_factory=list)


class InputMeasure(_Artifact):
    name: str


class MetricTypeParams(_Artifact):
    input_measures: list[InputMeasure] = Field(default_factory=list)


class Metric(_Artifact):
    name: str
    description: str | None = None
    label: str | None = None
    type: str | None = None
    type_params: MetricTypeParams = Field(default_factory=MetricTypeParams)


class SemanticManifest(_Artifact):
    """`semantic_manifest.json` (MetricFlow): semantic models over dbt models, and metrics."""

    semantic_models: list[SemanticModel] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)


class ArtifactError(ValueError):
    """An artifact that cannot be read, located by file and JSON path."""

    def __init__(self, file: str, path: str, reason: str) -> None:
        super().__init__(f"{file} at {path}: {reason}")
        self.file = file
        self.path = path
        self.reason = reason


A = TypeVar("A", bound=BaseModel)


MAX_ARTIFACT_BYTES = 2**30
"""Largest artifact read, plain or inflated: 20 times GitLab's compiled manifest (54 MB)."""


def load(model: type[A], file: Path) -> A:
    """Read and validate one artifact (plain or gzipped JSON); every failure is an
    `ArtifactError` naming the file and the JSON path where the content went wrong."""
    return validated(model, read_artifact(file), file.as_posix())


def read_artifact(file: Path) -> bytes:
    """An artifact's JSON text, inflated if gzipped."""
    try:
        data = read_bounded(file, MAX_ARTIFACT_BYTES)
        if data[:2] == b"\x1f\x8b":
            data = inflate_bounded(data, MAX_ARTIFACT_BYTES, "inflated")
    except (OSError, zlib.error) as error:
        raise ArtifactError(file.as_posix(), "$", f"cannot read: {error}") from error
    return data


def validated(model: type[A], data: bytes, name: str) -> A:
    """`data` as `model`, or an `ArtifactError` naming `name` and the JSON path."""
    try:
        return model.model_validate_json(data)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False)[0]
        extra = (
            f" (and {invalid.error_count() - 1} more problems)" if invalid.error_count() > 1 else ""
        )
        raise ArtifactError(name, json_path(first["loc"]), first["msg"] + extra) from invalid


def json_path(loc: tuple[int | str, ...]) -> str:
    """`$.nodes["model.a.b"].columns` from a pydantic error location."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.isidentifier():
            path += f".{part}"
        else:
            path += f'["{part}"]'
    return path
