"""Validate OpenLineage events against the official JSON Schemas (vendored in `spec/`).

The core schema checks the event; each standard facet schema checks its own key inside
the facets objects of its kind (run, job, dataset, input, output). Custom facets are only
held to the core schema's base-facet rules, so they are kept, never a reason to reject.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource

SPEC = Path(__file__).with_name("spec")

# Which facets objects of an event a facet schema applies to, by the end of its file name.
_CONTAINERS = {
    "InputDatasetFacet": ("input",),
    "OutputDatasetFacet": ("output",),
    "DatasetFacet": ("dataset",),
    "JobFacet": ("job",),
    "RunFacet": ("run",),
}


FacetValidators = dict[str, dict[str, Draft202012Validator]]
"""Container kind -> facet key -> the validator of that facet."""


@cache
def _validators() -> tuple[Draft202012Validator, FacetValidators]:
    core = json.loads((SPEC / "OpenLineage.json").read_text(encoding="utf-8"))
    facet_schemas = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((SPEC / "facets").glob("*.json"))
    }
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema))
        for schema in [core, *facet_schemas.values()]
    )
    by_container: FacetValidators = {}
    for name, schema in facet_schemas.items():
        suffix = next((s for s in _CONTAINERS if name.endswith(s)), None)
        for container in _CONTAINERS.get(suffix, ()) if suffix else ():
            for key in schema.get("properties", {}):
                # Check only the facet's own value: some files also mark their key required.
                facet = {"$ref": f"{schema['$id']}#/properties/{key}"}
                by_container.setdefault(container, {})[key] = Draft202012Validator(
                    facet, registry=registry
                )
    return Draft202012Validator(core, registry=registry), by_container


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(container kind, JSON path, facets object) for every facets object in an event."""
    run, job, dataset = event.get("run"), event.get("job"), event.get("dataset")
    if isinstance(run, dict):
        yield "run", "$.run.facets", run.get("facets")
    if isinstance(job, dict):
        yield "job", "$.job.facets", job.get("facets")
    if isinstance(dataset, dict):
        yield "dataset", "$.dataset.facets", dataset.get("facets")
    for side, extra in (("inputs", "inputFacets"), ("outputs", "outputFacets")):
        for index, item in enumerate(event.get(side) or []):
            if isinstance(item, dict):
                yield "dataset", f"$.{side}[{index}].facets", item.get("facets")
                yield side[:-1], f"$.{side}[{index}].{extra}", item.get(extra)


def problems(event: Any) -> list[str]:
    """Every way `event` breaks the spec, as 'JSON path: reason'; empty when it is valid."""
    core, by_container = _validators()
    # An event is one of RunEvent, DatasetEvent, JobEvent: name the error of the likeliest.
    error = best_match(core.iter_errors(event))
    if error is not None:
        return [f"{error.json_path}: {error.message}"]
    if not isinstance(event, dict):
        return ["$: an event is a JSON object"]
    found: list[str] = []
    for container, prefix, facets in _facets(event):
        if not isinstance(facets, dict):
            continue
        for key, value in facets.items():
            validator = by_container.get(container, {}).get(key)
            if validator is not None:
                found += [
                    f"{prefix}.{key}{e.json_path[1:]}: {e.message}"
                    for e in validator.iter_errors(value)
                ]
    return found
