"""A cost bound for GraphQL operations, checked after validation and before anything runs.

Depth, alias and token limits bound a query's size, but nested lists multiply: 500
datasets x their columns x each column's lineage is small to write and huge to answer.
Each field costs its weight times the number of times it can run: the product of the
page sizes above it (`first` / `limit` arguments, literal or from variables, capped at
what the services accept; their defaults; or `ASSUMED_LIST_SIZE` for lists without one).
An operation over `MAX_COST` is refused with `QUERY_TOO_COSTLY` and its computed cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
)

MAX_COST = 200_000
ASSUMED_LIST_SIZE = 50
"""How many items a list without a page-size argument is assumed to hold."""
PAGE_ARGUMENTS = {"first": 500, "limit": 5_000}
"""Page-size arguments and the most any service accepts (larger values are refused there
with LIMIT_EXCEEDED, so they are counted at the cap here)."""
WEIGHTS = {
    "Query.lineage": 50,
    "Query.history": 20,
    "Query.ledgerVerification": 1_000,
    "Query.ledgerEntry": 50,
    "Query.impact": 200,
    "Query.impactOfSql": 500,
    "Query.impactOfContract": 200,
    "Query.unowned": 200,
    "Query.handoffs": 10,
    "Query.search": 20,
    "Handoff.evaluation": 500,
    "Handoff.signOffs": 5,
    "Dataset.columns": 2,
    "Mutation.createHandoff": 50,
    "Mutation.signHandoff": 500,
    "Mutation.completeHandoff": 500,
    "Mutation.publishContract": 50,
}
"""Fields whose resolvers do more than read one record (walks, evaluations, whole-ledger
checks), in units of a plain field."""


class CostLimit(SchemaExtension):
    """Refuses an operation whose cost exceeds `MAX_COST` before it executes."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = _operation(document, context.operation_name) if document else None
        if document is not None and operation is not None:
            schema = self.execution_context.schema._schema
            cost = QueryCost(schema, document, context.variables or {})
            total = cost.of(operation)
            if total > MAX_COST:
                context.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"query cost {total:,} exceeds the limit of {MAX_COST:,}: ask for "
                            "smaller pages or fewer nested lists",
                            operation,
                            extensions={"code": "QUERY_TOO_COSTLY"},
                        )
                    ],
                )
        yield


def _operation(document: DocumentNode | None, name: str | None) -> OperationDefinitionNode | None:
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class QueryCost:
    """The cost of operations of one document, with the request's variable values."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def of(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._selection_cost(root, operation.selection_set, 1, None, set())

    def _selection_cost(
        self,
        parent: GraphQLObjectType,
        selections: SelectionSetNode | None,
        runs: int,
        page: int | None,
        spreading: set[str],
    ) -> int:
        """Cost of `selections` on `parent`, run `runs` times; `page` is a page size set
        above (a connection's `first`) that the next list below takes."""
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(parent, selection, runs, page, spreading)
            elif isinstance(selection, InlineFragmentNode):
                total += self._fragment_cost(
                    selection.type_condition.name.value if selection.type_condition else None,
                    parent, selection.selection_set, runs, page, spreading,
                )  # fmt: skip
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in spreading:  # unknown or cyclic: other rules
                    continue
                total += self._fragment_cost(
                    fragment.type_condition.name.value, parent, fragment.selection_set,
                    runs, page, spreading | {name},
                )  # fmt: skip
        return total

    def _fragment_cost(
        self,
        condition: str | None,
        parent: GraphQLObjectType,
        selections: SelectionSetNode,
        runs: int,
        page: int | None,
        spreading: set[str],
    ) -> int:
        on = self.schema.get_type(condition) if condition else parent
        target = on if isinstance(on, GraphQLObjectType) else parent
        return self._selection_cost(target, selections, runs, page, spreading)

    def _field_cost(
        self,
        parent: GraphQLObjectType,
        node: FieldNode,
        runs: int,
        page: int | None,
        spreading: set[str],
    ) -> int:
        name = node.name.value
        field = parent.fields.get(name)
        if field is None:  # __typename, or unknown (another rule reports it)
            return runs
        kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
        is_list = isinstance(kind, GraphQLList)
        own_page = self._page_size(node, field)
        if is_list:
            size = own_page or page or ASSUMED_LIST_SIZE
            page, below = None, runs * size
        else:
            page, below = (own_page or page), runs
        cost = runs * WEIGHTS.get(f"{parent.name}.{name}", 1)
        child = get_named_type(field.type)
        if isinstance(child, GraphQLObjectType):
            cost += self._selection_cost(child, node.selection_set, below, page, spreading)
        return cost

    def _page_size(self, node: FieldNode, field: GraphQLField) -> int | None:
        """The page size a field is asked for (a literal or a variable's value, capped),
        or its argument's default."""
        given = {a.name.value: a.value for a in node.arguments or ()}
        for name, cap in PAGE_ARGUMENTS.items():
            value = given.get(name)
            if isinstance(value, IntValueNode):
                return min(max(int(value.value), 1), cap)
            if isinstance(value, VariableNode):
                bound = self.variables.get(value.name.value)
                return min(max(bound, 1), cap) if isinstance(bound, int) else cap
            argument = field.args.get(name)
            if argument is not None and isinstance(argument.default_value, int):
                return min(max(argument.default_value, 1), cap)
        return None


def operation_cost(
    schema: GraphQLSchema, query: str, variables: dict[str, Any] | None = None
) -> int:
    """The cost of the (single) operation in `query`; for tests and tooling."""
    document = parse(query)
    operation = _operation(document, None)
    assert operation is not None, "one operation expected"
    return QueryCost(schema, document, variables or {}).of(operation)
