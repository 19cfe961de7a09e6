"""Bounds on a GraphQL document, checked before any other validation and in time linear
in the document's size.

A fragment may be spread many times, and fragments may spread each other: 25 fragments
that each spread the next twice expand to 2^25 fields from under 1 KB of text. Limiters
that walk the expanded document (strawberry's depth and alias limiters, the cost check,
graphql-core's rules) would take minutes on it. Here each fragment is measured once and
its measure reused wherever it is spread, so the expanded size, depth and alias count are
known without expanding anything; a document over a bound is refused before the other
passes see it. The caller must also be allowed to read at all: nobody unauthenticated
gets work done on their behalf.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from strawberry.extensions import SchemaExtension

from catalog.api.auth import require
from catalog.errors import BatonError
from catalog.security import Permission
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DEPTH = 12
"""Nested fields with selections (introspection fields and what they select not counted)."""
MAX_ALIASES = 20
"""Aliased fields in the expanded document: alias batching multiplies work."""
MAX_FIELDS = 5_000
"""Fields in the expanded document (GraphiQL's introspection query expands to a few hundred)."""
_SATURATED = MAX_FIELDS * 1_000
"""Counts stop growing here: past every bound, the exact figure does not matter."""


@dataclass(frozen=True)
class Shape:
    """What a selection set expands to."""

    fields: int = 0
    aliases: int = 0
    depth: int = 0

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            min(self.fields + other.fields, _SATURATED),
            min(self.aliases + other.aliases, _SATURATED),
            max(self.depth, other.depth),
        )


class DocumentMeasure:
    """Shapes of a document's operations, each fragment measured once."""

    def __init__(self, document: DocumentNode) -> None:
        self._fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self._measured: dict[str, Shape] = {}
        self._measuring: set[str] = set()

    def of(self, operation: OperationDefinitionNode) -> Shape:
        return self._selections(operation.selection_set)

    def _selections(self, selections: SelectionSetNode | None) -> Shape:
        total = Shape()
        for selection in selections.selections if selections else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self._selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, node: FieldNode) -> Shape:
        below = self._selections(node.selection_set)
        if node.name.value.startswith("__"):  # introspection: a fixed schema, never deep
            depth = 0
        else:
            depth = below.depth + 1 if node.selection_set is not None else 0
        return Shape(
            fields=min(1 + below.fields, _SATURATED),
            aliases=min(below.aliases + (node.alias is not None), _SATURATED),
            depth=depth,
        )

    def _fragment(self, name: str) -> Shape:
        if name in self._measured:
            return self._measured[name]
        fragment = self._fragments.get(name)
        if fragment is None or name in self._measuring:  # unknown or cyclic: rules report it
            return Shape()
        self._measuring.add(name)
        shape = self._selections(fragment.selection_set)
        self._measuring.discard(name)
        self._measured[name] = shape
        return shape


def document_problem(document: DocumentNode) -> str | None:
    """Why `document` is refused, or None: the first bound an operation exceeds."""
    measure = DocumentMeasure(document)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    try:
        shapes = [(o, measure.of(o)) for o in operations]
    except RecursionError:
        return f"the document nests deeper than the maximum operation depth of {MAX_DEPTH}"
    aliases = sum(shape.aliases for _, shape in shapes)
    if aliases > MAX_ALIASES:
        return f"{aliases} aliases found. Allowed: {MAX_ALIASES}"
    for operation, shape in shapes:
        name = operation.name.value if operation.name else "anonymous"
        if shape.depth > MAX_DEPTH:
            return f"'{name}' exceeds maximum operation depth of {MAX_DEPTH}"
        if shape.fields > MAX_FIELDS:
            return (
                f"'{name}' expands to more than {MAX_FIELDS:,} fields (fragments count each "
                "time they are spread); ask for less"
            )
    return None


class DocumentLimits(SchemaExtension):
    """Refuses, before validation, a caller who may not read and a document over a bound."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            error = self._refusal(context.context, document)
            if error is not None:  # errors set here skip every validation rule
                context.pre_execution_errors = [error]
        yield

    @staticmethod
    def _refusal(caller: dict[str, object], document: DocumentNode) -> GraphQLError | None:
        try:
            require(caller, Permission.READ)  # every role reads; a role-less caller does nothing
        except BatonError as refused:
            return GraphQLError(str(refused), original_error=refused)
        problem = document_problem(document)
        if problem is not None:
            return GraphQLError(problem, extensions={"code": "GRAPHQL_VALIDATION_FAILED"})
        return None
