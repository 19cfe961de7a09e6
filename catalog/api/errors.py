"""Typed GraphQL errors: service errors keep their message and gain a code; others are masked.

Each error is logged as one structured line (its code and the field it came from), never
with the query's text or, for a client's mistake, a traceback: a query may hold literals
the caller would not want in a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql.error import GraphQLError
from pydantic import ValidationError
from strawberry.extensions import SchemaExtension

from catalog.errors import BatonError, StoreBusy, StoreUnavailable

log = logging.getLogger("baton.api")

INTERNAL = "INTERNAL"


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if original is None:  # syntax, validation and limit errors
        return str((error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED"))
    if isinstance(original, BatonError):
        return original.code
    if isinstance(original, ValidationError):
        return "INVALID_ARGUMENT"
    return INTERNAL


def log_errors(errors: list[GraphQLError]) -> None:
    """One line per error; a traceback only for Baton's own failures."""
    for error in errors:
        code = error_code(error)
        field = ".".join(str(part) for part in error.path or ()) or None
        if code == INTERNAL:
            log.error("graphql error", extra={"code": code, "field": field},
                      exc_info=error.original_error)  # fmt: skip
        else:
            log.info("graphql error", extra={"code": code, "field": field})


def _typed(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    code = error_code(error)
    if original is None or isinstance(original, BatonError):  # safe and useful as they are
        message = str(original) if original is not None else error.message
    elif isinstance(original, ValidationError):  # an argument no domain value accepts
        first = original.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "value"
        message = f"invalid {where}: {first['msg']}"
    else:
        message = "internal error; the server log has the details"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions={"code": code},
    )


def unavailable_status(errors: list[GraphQLError]) -> tuple[int, dict[str, str]] | None:
    """HTTP 503 (with Retry-After when the store was busy) if the store could not take
    the operation: a client retries those, and a proxy sees them as failures."""
    originals = [e.original_error for e in errors]
    busy = [o.retry_after for o in originals if isinstance(o, StoreBusy)]
    if busy:
        return 503, {"Retry-After": str(max(busy))}
    if any(isinstance(o, StoreUnavailable) for o in originals):
        return 503, {}
    return None


class TypedErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        result = context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            status = unavailable_status(errors)
            response = (
                context.context.get("response") if isinstance(context.context, dict) else None
            )
            if status is not None and response is not None:
                response.status_code = status[0]
                response.headers.update(status[1])
            result.errors = [_typed(e) for e in errors]
