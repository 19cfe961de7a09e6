"""The schema as SDL, exactly as checked in at `graphql/schema.graphql`."""

from __future__ import annotations

from catalog.api.schema import schema


def schema_sdl() -> str:
    return schema.as_str() + "\n"
