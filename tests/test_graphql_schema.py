"""The GraphQL schema is documented everywhere and checked in as SDL."""

from __future__ import annotations

from catalog.api.schema import schema
from catalog.api.sdl import schema_sdl
from graphql import GraphQLEnumType, GraphQLObjectType, parse, validate
from tests.conftest import PROJECT


def test_checked_in_sdl_matches_the_code() -> None:
    checked_in = (PROJECT / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == schema_sdl(), "run `baton schema export`"


def test_every_type_field_and_argument_has_a_description() -> None:
    missing = []
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        if isinstance(graphql_type, GraphQLObjectType):
            for field_name, field in graphql_type.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                missing += [
                    f"{name}.{field_name}({arg})"
                    for arg, definition in field.args.items()
                    if not definition.description
                ]
        if isinstance(graphql_type, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, d in graphql_type.values.items() if not d.description]
    assert missing == []


def test_example_operations_are_valid_against_the_schema() -> None:
    examples = sorted((PROJECT / "graphql").glob("*.graphql"))
    examples = [path for path in examples if path.name != "schema.graphql"]
    assert examples
    for path in examples:
        errors = validate(schema._schema, parse(path.read_text(encoding="utf-8")))
        assert errors == [], f"{path.name}: {errors}"
