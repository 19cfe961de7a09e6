"""Typed GraphQL errors: service errors keep their message and gain a code; others are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from pydantic import ValidationError
from strawberry.extensions import SchemaExtension

from catalog.errors import BatonError

log = logging.getLogger("baton.api")


def _typed(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:  # syntax, validation and limit errors: safe and useful as they are
        code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
        message = error.message
    elif isinstance(original, BatonError):
        code, message = original.code, str(original)
    elif isinstance(original, ValidationError):  # an argument no domain value accepts
        first = original.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "value"
        code, message = "INVALID_ARGUMENT", f"invalid {where}: {first['msg']}"
    else:
        log.error("unexpected error in %s", error.path, exc_info=original)
        code, message = "INTERNAL", "internal error; the server log has the details"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": code},
    )


class TypedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [_typed(e) for e in errors]
