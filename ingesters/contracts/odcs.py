"""Open Data Contract Standard (v3) files to contract versions.

A file is validated against the JSON Schema that ships with the `open-data-contract-standard`
package (every violation reported with its JSON path), then parsed with that package's
models and normalized. Each schema object is bound to a dataset: the contract's production
server (or its only one) gives the warehouse namespace and default database and schema,
and names are normalized for the server's dialect exactly as SQL and dbt ingestion name
them, so the contract lands on the dataset the catalog already knows.
"""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from typing import Any

import jsonschema
from open_data_contract_standard.model import (
    DataQuality,
    OpenDataContractStandard,
    SchemaObject,
    SchemaProperty,
    Server,
    Team,
)
from sqlglot import exp
from sqlglot.errors import SqlglotError

from catalog.contracts import (
    ContractColumn,
    ContractDataset,
    ContractOwner,
    ContractVersion,
    QualityRule,
    SlaProperty,
)
from catalog.domain import canonical_json, dataset_ref
from ingesters.sql.dialects import dialect_of
from ingesters.sql.names import dotted, normalized_column, normalized_table

Problem = tuple[str, str]
"""(JSON path, reason)."""


@cache
def _validator() -> jsonschema.Draft201909Validator:
    text = importlib.resources.files("open_data_contract_standard").joinpath("schema.json")
    return jsonschema.Draft201909Validator(json.loads(text.read_text(encoding="utf-8")))


def problems(document: Any) -> list[Problem]:
    """Every way the document breaks ODCS v3, plus what Baton needs (a semantic version)."""
    found = [
        (_path(error.absolute_path), error.message)
        for error in sorted(_validator().iter_errors(document), key=lambda e: list(e.path))
    ]
    if isinstance(document, dict) and not found:
        version = str(document.get("version", ""))
        try:
            ContractVersion.model_validate({"contract_id": "x", "version": version})
        except ValueError:
            found.append(
                ("$.version", f"{version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
            )
    return found


def _path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def to_contract(document: dict[str, Any], source_file: str | None = None) -> ContractVersion:
    """A validated ODCS document as a contract version (call `problems` first)."""
    odcs = OpenDataContractStandard.model_validate(document)
    server = _server(odcs.servers or [])
    dialect = dialect_of(server.type or "") if server else ""
    namespace = _namespace(server)
    return ContractVersion(
        contract_id=str(odcs.id),
        version=str(odcs.version),
        status=odcs.status or "active",
        name=odcs.name,
        domain=odcs.domain,
        data_product=odcs.dataProduct,
        description=odcs.description.purpose if odcs.description else None,
        datasets=tuple(
            _dataset(obj, server, namespace, dialect) for obj in odcs.schema_ or [] if obj.name
        ),
        sla=tuple(
            SlaProperty(property=s.property, value=s.value, unit=s.unit, element=s.element)
            for s in odcs.slaProperties or []
            if s.property
        ),
        owners=_owners(odcs.team),
        standard=f"odcs {odcs.apiVersion}",
        source_file=source_file,
    )


def _server(servers: list[Server]) -> Server | None:
    """The production server where the contract names one, else the first."""
    production = [s for s in servers if (s.environment or "").lower() in ("prod", "production")]
    candidates = production or servers
    return candidates[0] if candidates else None


def _namespace(server: Server | None) -> str:
    """The OpenLineage namespace of the server's warehouse (`<type>://default` when the
    contract does not say where it is)."""
    if server is None or not server.type:
        return "unknown://default"
    kind = "postgres" if server.type == "postgresql" else server.type
    if kind == "snowflake" and server.account:
        return f"snowflake://{server.account}"
    if server.host:
        port = f":{server.port}" if server.port else ""
        return f"{kind}://{server.host}{port}"
    return f"{kind}://default"


def _dataset(
    obj: SchemaObject, server: Server | None, namespace: str, dialect: str
) -> ContractDataset:
    physical = obj.physicalName or str(obj.name)
    try:
        table = exp.to_table(physical, dialect=dialect or None)
    except SqlglotError:
        table = exp.table_(physical)
    if not table.args.get("db") and server is not None:
        table.set("db", exp.to_identifier(server.schema_) if server.schema_ else None)
    if not table.args.get("catalog") and server is not None:
        database = server.database or server.project or server.catalog
        table.set("catalog", exp.to_identifier(database) if database else None)
    ref = dataset_ref(namespace, dotted(normalized_table(table, dialect)))
    return ContractDataset(
        ref=ref,
        object_name=str(obj.name),
        columns=tuple(_column(p, dialect) for p in obj.properties or [] if p.name),
        quality=_quality(obj.quality),
    )


def _column(prop: SchemaProperty, dialect: str) -> ContractColumn:
    key = prop.primaryKeyPosition if prop.primaryKeyPosition is not None else 1
    return ContractColumn(
        name=normalized_column(prop.physicalName or str(prop.name), dialect),
        logical_type=prop.logicalType,
        physical_type=prop.physicalType,
        required=bool(prop.required) or bool(prop.primaryKey),
        unique=bool(prop.unique),
        primary_key_position=key if prop.primaryKey else None,
        classification=prop.classification,
        description=prop.description,
        property_id=prop.id,
        quality=_quality(prop.quality),
    )


def _quality(rules: list[DataQuality] | None) -> tuple[QualityRule, ...]:
    """Rules named by their name, else id, else their definition (so an unnamed rule that
    changes shows as one removed and one added)."""
    found = []
    for rule in rules or []:
        definition = rule.model_dump(mode="json", exclude_none=True, by_alias=True)
        name = rule.name or rule.id or canonical_json(definition)
        found.append(QualityRule(name=name, definition=definition))
    return tuple(found)


def _owners(team: Team | list[Any] | None) -> tuple[ContractOwner, ...]:
    members = team.members or [] if isinstance(team, Team) else team or []
    return tuple(
        ContractOwner(name=str(m.username or m.name), role=m.role)
        for m in members
        if (m.username or m.name) and not m.dateOut
    )
