"""Validate OpenLineage events against the official JSON Schemas (vendored in `spec/`).

The core schema checks the event, as the RunEvent, DatasetEvent or JobEvent it claims to
be (by its `run` or `dataset` key); each standard facet schema checks its own key inside
the facets objects of its kind (run, job, dataset, input, output). Custom facets are only
held to the core schema's base-facet rules: kept, never a reason to reject.

Valid events take a fast path (schemas compiled to Python by fastjsonschema, ~15x faster
than interpreting them); an event that fails it is examined again by `jsonschema`, whose
report names every failing JSON path. Formats (date-time, uri, uuid) are annotations, as
in `jsonschema`'s default, not assertions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

from catalog.strict_json import JsonRejected, check_json_value

SPEC = Path(__file__).with_name("spec")

# Which facets objects of an event a facet schema applies to, by the end of its file name.
_CONTAINERS = {
    "InputDatasetFacet": ("input",),
    "OutputDatasetFacet": ("output",),
    "DatasetFacet": ("dataset",),
    "JobFacet": ("job",),
    "RunFacet": ("run",),
}
_EVENT_KINDS = ("RunEvent", "DatasetEvent", "JobEvent")

Schema = dict[str, Any]


@cache
def _schemas() -> tuple[Schema, dict[str, Schema]]:
    """The core schema, and every schema by its $id."""
    core: Schema = json.loads((SPEC / "OpenLineage.json").read_text(encoding="utf-8"))
    by_id = {core["$id"]: core}
    for path in sorted((SPEC / "facets").glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        by_id[schema["$id"]] = schema
    return core, by_id


def _facet_refs() -> Iterator[tuple[str, str, Schema]]:
    """(container kind, facet key, a schema checking that facet's value) for every facet.

    Only the facet's own value is checked: some files also mark their key required.
    """
    _, by_id = _schemas()
    for schema_id, schema in by_id.items():
        name = schema_id.rsplit("/", 1)[-1].removesuffix(".json")
        suffix = next((s for s in _CONTAINERS if name.endswith(s)), None)
        for container in _CONTAINERS.get(suffix, ()) if suffix else ():
            for key in schema.get("properties", {}):
                yield container, key, {"$ref": f"{schema_id}#/properties/{key}"}


def _event_ref(kind: str) -> Schema:
    core, _ = _schemas()
    return {"$ref": f"{core['$id']}#/$defs/{kind}"}


@cache
def _fast() -> tuple[dict[str, Callable[[Any], Any]], dict[str, dict[str, Callable[[Any], Any]]]]:
    _, by_id = _schemas()
    options: dict[str, Any] = {
        "handlers": {"https": lambda uri: by_id[uri.split("#")[0]]},
        "use_formats": False,
    }
    events = {k: fastjsonschema.compile(_event_ref(k), **options) for k in _EVENT_KINDS}
    facets: dict[str, dict[str, Callable[[Any], Any]]] = {}
    for container, key, schema in _facet_refs():
        facets.setdefault(container, {})[key] = fastjsonschema.compile(schema, **options)
    return events, facets


@cache
def _thorough() -> tuple[
    dict[str, Draft202012Validator], dict[str, dict[str, Draft202012Validator]]
]:
    _, by_id = _schemas()
    registry: Registry[Any] = Registry().with_resources(
        (schema_id, Resource.from_contents(schema)) for schema_id, schema in by_id.items()
    )
    events = {k: Draft202012Validator(_event_ref(k), registry=registry) for k in _EVENT_KINDS}
    facets: dict[str, dict[str, Draft202012Validator]] = {}
    for container, key, schema in _facet_refs():
        facets.setdefault(container, {})[key] = Draft202012Validator(schema, registry=registry)
    return events, facets


def _kind(event: dict[str, Any]) -> str:
    return "RunEvent" if "run" in event else "DatasetEvent" if "dataset" in event else "JobEvent"


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """(container kind, JSON path, facet key, facet value) for every facet of an event."""
    run, job, dataset = event.get("run"), event.get("job"), event.get("dataset")
    holders: list[tuple[str, str, Any]] = []
    if isinstance(run, dict):
        holders.append(("run", "$.run.facets", run.get("facets")))
    if isinstance(job, dict):
        holders.append(("job", "$.job.facets", job.get("facets")))
    if isinstance(dataset, dict):
        holders.append(("dataset", "$.dataset.facets", dataset.get("facets")))
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, item in enumerate(event.get(side) or []):
            if isinstance(item, dict):
                holders.append(("dataset", f"$.{side}[{index}].facets", item.get("facets")))
                holders.append((side[:-1], f"$.{side}[{index}].{extra}", item.get(extra)))
    for container, path, facets in holders:
        if isinstance(facets, dict):
            for key, value in facets.items():
                yield container, f"{path}.{key}", key, value


def _passes_fast(event: dict[str, Any]) -> bool:
    events, facets = _fast()
    try:
        events[_kind(event)](event)
        for container, _, key, value in _facets(event):
            check = facets.get(container, {}).get(key)
            if check is not None:
                check(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def problems(event: Any) -> list[str]:
    """Every way `event` breaks the spec, as 'JSON path: reason'; empty when it is valid."""
    if not isinstance(event, dict):
        return ["$: an event is a JSON object"]
    try:
        check_json_value(event)  # before the validators, which recurse
    except JsonRejected as rejected:
        return [str(rejected)]
    if _passes_fast(event):
        return _empty_names(event)
    events, facets = _thorough()
    error = best_match(events[_kind(event)].iter_errors(event))
    if error is not None:
        return [f"{error.json_path}: {error.message}", *_empty_names(event)]
    found = [
        f"{path}{e.json_path[1:]}: {e.message}"
        for container, path, key, value in _facets(event)
        if (validator := facets.get(container, {}).get(key)) is not None
        for e in validator.iter_errors(value)
    ]
    return found or _empty_names(event) or ["$: the event does not match the OpenLineage schema"]


def _empty_names(event: dict[str, Any]) -> list[str]:
    """Names that identify jobs and datasets must say something: the spec allows "", but
    an empty name would key every such job or dataset as one."""
    named = [("$.job", event.get("job")), ("$.dataset", event.get("dataset"))]
    for side in ("inputs", "outputs"):
        items = event.get(side)
        if isinstance(items, list):
            named += [(f"$.{side}[{i}]", item) for i, item in enumerate(items)]
    return [
        f"{path}.{field}: must not be empty"
        for path, item in named
        if isinstance(item, dict)
        for field in ("namespace", "name")
        if isinstance(item.get(field), str) and not item[field].strip()
    ]
