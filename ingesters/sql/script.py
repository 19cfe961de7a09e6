"""Lineage of one SQL script as a whole: statements in order, temporary tables collapsed.

A script's lineage is what its persistent tables derive from. Tables that are temporary
(CREATE TEMP, T-SQL `#t`) or created and dropped inside the script are intermediate steps:
flows through them are composed, so `x -> #tmp -> y` reads as `x -> y`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from catalog.collector import collector_paused
from ingesters.sql.columns import Indirect, Transformation, stronger
from ingesters.sql.dialects import sqlglot_dialect
from ingesters.sql.lineage import StatementLineage, statement_lineage
from ingesters.sql.names import (
    Defaults,
    Schema,
    TableName,
    dotted,
    partially_named,
    prepare,
    table_name,
)  # fmt: skip
from ingesters.sql.statements import ScriptError, Statement, split_statements
from ingesters.sql.steps import ColumnRef, StepTracker, collapse_steps

MAX_STATEMENT_CHARS = 1_000_000
"""Longer statements are reported, not parsed: generated SQL that size is pathological."""


ColumnLineage = dict[ColumnRef, dict[ColumnRef, Transformation]]
"""Downstream column -> its upstream columns, each with the strongest transformation."""


@dataclass(frozen=True)
class StatementError:
    line: int | None
    message: str
    unparsed: bool = False
    """True when the statement could not be parsed at all (it counts as a statement)."""


@dataclass
class ScriptLineage:
    in_tables: list[TableName] = field(default_factory=list)
    out_tables: list[TableName] = field(default_factory=list)
    column_lineage: ColumnLineage = field(default_factory=dict)
    indirect_lineage: list[tuple[TableName, ColumnRef, Indirect]] = field(default_factory=list)
    """(table, column deciding its rows, how): joins, filters, grouping, sorting."""
    errors: list[StatementError] = field(default_factory=list)
    notes: list[StatementError] = field(default_factory=list)
    """What a statement's lineage leaves out and why (ambiguous or unexpanded columns)."""
    statements: int = 0
    understood: int = 0

    def as_json(self) -> dict[str, object]:
        """The documented output of `baton sql lineage` (and the accuracy scorer's input)."""
        return {
            "in_tables": [_dotted(t) for t in self.in_tables],
            "out_tables": [_dotted(t) for t in self.out_tables],
            "column_lineage": [
                {
                    "downstream": _column(down),
                    "upstreams": sorted(_column(up) for up in ups),
                    "kind": "DIRECT",
                    "subtype": _subtype(ups.values()),
                }
                for down, ups in self.column_lineage.items()
            ],
            "indirect_lineage": [
                {
                    "downstream": _dotted(table),
                    "upstream": _column(column),
                    "kind": "INDIRECT",
                    "subtype": subtype.value,
                }
                for table, column, subtype in self.indirect_lineage
            ],
            "errors": [{"line": e.line, "message": e.message} for e in self.errors],
            "notes": [{"line": n.line, "message": n.message} for n in self.notes],
            "statements": self.statements,
            "understood": self.understood,
        }


def _dotted(name: TableName | None) -> str:
    return dotted(name or ())


def _column(ref: ColumnRef) -> str:
    table, column = ref
    return f"{_dotted(table)}.{column}" if table else column


def _subtype(kinds: Iterable[Transformation]) -> str:
    strongest = Transformation.IDENTITY
    for kind in kinds:
        strongest = stronger(strongest, kind)
    return strongest.value


def parse_statements(
    text: str, dialect: str, defaults: Defaults, errors: list[StatementError]
) -> Iterator[tuple[Statement, exp.Expr]]:
    """Each statement of a script, parsed and prepared; procedure bodies are unpacked."""
    try:
        statements = split_statements(text, dialect)
    except ScriptError as error:
        errors.append(StatementError(error.line, f"cannot tokenize: {error}", True))
        return
    for statement in statements:
        expressions = expressions_of(statement, dialect, defaults, errors)
        parsed = Statement(statement.index, statement.line, statement.text)  # tokens let go
        for expression in expressions:
            yield parsed, expression


def expressions_of(
    statement: Statement, dialect: str, defaults: Defaults, errors: list[StatementError]
) -> list[exp.Expr]:
    """A statement parsed and prepared: usually one expression, several for a procedure."""
    return [
        prepare(inner, dialect, defaults)
        for expression in _parse(statement, dialect, errors)
        for inner in _unpack(expression)
    ]


_TOKEN = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+.*?>")
_CLASS = re.compile(r"<class 'sqlglot\.[\w.]+\.(\w+)'>")


def readable(description: object) -> str:
    """sqlglot's parse error with its token and class objects written as SQL words."""
    text = _TOKEN.sub(
        lambda m: "the end of the statement" if m[1] == "SENTINEL" else repr(m[2]),
        str(description),
    )
    return _CLASS.sub(lambda m: m[1].upper(), text)


def _parse(statement: Statement, dialect: str, errors: list[StatementError]) -> list[exp.Expr]:
    """Parse one statement, with two fallbacks when it does not parse as a whole.

    - A procedure header (`CREATE PROCEDURE p() BEGIN ...`) runs to the first semicolon
      of its body: parse what follows BEGIN.
    - What sqlglot does not parse but means something it does is written that way
      (`_rewritten`): T-SQL's compound assignments (`SET x += e`), Teradata's data
      attribute phrases (`DOB (TITLE 'Birthdate')`), Hive's `EXCHANGE PARTITION`.
    - T-SQL needs no semicolons: split before each top-level INSERT, UPDATE, DELETE,
      MERGE, CREATE, DROP or TRUNCATE and parse the pieces.
    """
    if len(statement.text) > MAX_STATEMENT_CHARS:
        errors.append(
            StatementError(
                statement.line, f"statement longer than {MAX_STATEMENT_CHARS} characters", True
            )
        )
        return []
    try:
        expression: exp.Expr | None = _parse_one(statement, dialect)
        problem = None
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        # The line sqlglot reports counts from the start of the text it tokenized.
        lines_before = 0 if statement.tokens is not None else statement.line - 1
        line = lines_before + int(first["line"]) if "line" in first else statement.line
        reason = readable(first.get("description", error))
        expression, problem = None, StatementError(line, f"cannot parse: {reason}", True)
    except (SqlglotError, RecursionError) as error:
        reason = readable(error)
        expression, problem = None, StatementError(statement.line, f"cannot parse: {reason}", True)
    if expression is None or isinstance(expression, exp.Command) or _is_routine(expression):
        body = _after_begin(statement, dialect)
        if body is not None:
            return _parse(body, dialect, errors)
    if expression is None or isinstance(expression, exp.Command):
        rewritten = _rewritten(statement, dialect)
        if rewritten is not None:
            return _parse(rewritten, dialect, errors)
    if expression is None:
        pieces = _unterminated(statement, dialect)
        if len(pieces) > 1:
            return [e for piece in pieces for e in _parse(piece, dialect, errors)]
    if problem is not None:
        errors.append(problem)
    return [_without_positions(expression)] if expression is not None else []


def _parse_one(statement: Statement, dialect: str) -> exp.Expr:
    """`sqlglot.parse_one`, from the script tokenizer's tokens when the statement has them."""
    speaking = sqlglot_dialect(dialect)
    if statement.tokens is None:
        return sqlglot.parse_one(statement.text, dialect=speaking)
    result = speaking.parser().parse(statement.tokens.tokens, statement.tokens.script)
    if not result or result[0] is None:
        raise ParseError(f"No expression was parsed from '{statement.text}'")
    return exp.Block(expressions=result) if len(result) > 1 else result[0]


def _without_positions(expression: exp.Expr) -> exp.Expr:
    """Drop the token positions sqlglot keeps on nodes: Baton locates statements itself,
    and copying them is most of the cost of every tree copy the analysis makes."""
    for node in expression.walk():
        node._meta = None
    return expression


def _rewritten(statement: Statement, dialect: str) -> Statement | None:
    """The statement written in SQL sqlglot parses with the same lineage, or None."""
    try:
        tokens = sqlglot_dialect(dialect).tokenize(statement.text)
    except SqlglotError:
        return None
    for rewrite in (_compound_assignments_expanded, _attribute_phrases_removed, _exchange):
        text = rewrite(statement.text, tokens)
        if text is not None:
            return Statement(statement.index, statement.line, text)
    return None


_ATTRIBUTE_PHRASES = frozenset({
    "TITLE", "FORMAT", "NAMED", "UPPERCASE", "CASESPECIFIC", "NOT", "CHARACTER", "COMPRESS",
})  # fmt: skip
"""Teradata data attribute phrases, written in parentheses after an expression:
`salary (FORMAT '$$9.99', TITLE 'Pay')`. Only NAMED changes the column's name."""


def _attribute_phrases_removed(text: str, tokens: list[Token]) -> str | None:
    """Teradata's `expr (TITLE 'x')`, `(FORMAT '...')`, `(NAMED y)` (an alias: `AS y`)
    written as the plain expression. Only after an expression (a name, a literal or a
    closing parenthesis), never a function's own parentheses."""
    ends = {TokenType.VAR, TokenType.IDENTIFIER, TokenType.R_PAREN, TokenType.NUMBER,
            TokenType.STRING}  # fmt: skip
    edits = []
    position = 1
    while position < len(tokens) - 1:
        opening, first = tokens[position], tokens[position + 1]
        if (
            opening.token_type is TokenType.L_PAREN
            and first.text.upper() in _ATTRIBUTE_PHRASES
            and tokens[position - 1].token_type in ends
            and tokens[position - 1].end + 1 != opening.start  # `f(` is a call: no space
        ):
            closing = _matching(tokens, position)
            if closing is None:
                return None
            inner = tokens[position + 1 : closing]
            named = [
                inner[i + 1].text for i, t in enumerate(inner[:-1]) if t.text.upper() == "NAMED"
            ]
            replacement = f" AS {named[0]}" if named else ""
            edits.append((opening.start, tokens[closing].end + 1, replacement))
            position = closing
        position += 1
    for begin, end, replacement in reversed(edits):
        text = text[:begin] + replacement + text[end:]
    return text if edits else None


def _exchange(text: str, tokens: list[Token]) -> str | None:
    """Hive's `ALTER TABLE a EXCHANGE PARTITION (spec) WITH TABLE b` moves b's partition
    into a (the two share a schema): written as `INSERT INTO a SELECT * FROM b`."""
    words = [t.text.upper() for t in tokens]
    if words[:2] != ["ALTER", "TABLE"] or "EXCHANGE" not in words:
        return None
    exchange = words.index("EXCHANGE")
    if exchange < 3 or words[exchange + 1 : exchange + 3] != ["PARTITION", "("]:
        return None
    closing = _matching(tokens, exchange + 2)
    if closing is None or words[closing + 1 : closing + 3] != ["WITH", "TABLE"]:
        return None
    last = len(tokens) - (1 if tokens[-1].token_type is TokenType.SEMICOLON else 0)
    if last <= closing + 3:
        return None
    target = text[tokens[2].start : tokens[exchange - 1].end + 1]
    source = text[tokens[closing + 3].start : tokens[last - 1].end + 1]
    # Analysed, never executed: the text Baton reads lineage from, from the user's own SQL.
    return f"INSERT INTO {target} SELECT * FROM {source}"  # noqa: S608


def _matching(tokens: list[Token], opening: int) -> int | None:
    """The index of the parenthesis closing the one at `opening`."""
    depth = 0
    for index in range(opening, len(tokens)):
        kind = tokens[index].token_type
        depth += 1 if kind is TokenType.L_PAREN else -1 if kind is TokenType.R_PAREN else 0
        if depth == 0:
            return index
    return None


_COMPOUND_OPERATORS = {
    TokenType.PLUS, TokenType.DASH, TokenType.STAR, TokenType.SLASH, TokenType.MOD,
    TokenType.AMP, TokenType.PIPE, TokenType.CARET,
}  # fmt: skip


def _compound_assignments_expanded(text: str, tokens: list[Token]) -> str | None:
    """The statement with each `target op= value` written `target = target op value`, or
    None when it has none. Precedence may differ from the original (`x -= a + b` becomes
    `x = x - a + b`): the columns that flow, and how, are the same."""
    edits = []
    for position in range(2, len(tokens)):
        operator, equals = tokens[position - 1], tokens[position]
        if (
            equals.token_type is not TokenType.EQ
            or operator.token_type not in _COMPOUND_OPERATORS
            or operator.end + 1 != equals.start
        ):
            continue
        first = position - 2  # the target: a dotted name, or a variable (`@total`)
        while first >= 2 and tokens[first - 1].token_type is TokenType.DOT:
            first -= 2
        if first >= 1 and tokens[first - 1].token_type is TokenType.PARAMETER:
            first -= 1
        target = text[tokens[first].start : operator.start].strip()
        edits.append((operator.start, equals.end + 1, f"= {target} {operator.text} "))
    for begin, end, replacement in reversed(edits):
        text = text[:begin] + replacement + text[end:]
    return text if edits else None


_STATEMENT_STARTS = {
    TokenType.INSERT,
    TokenType.UPDATE,
    TokenType.DELETE,
    TokenType.MERGE,
    TokenType.CREATE,
    TokenType.DROP,
    TokenType.TRUNCATE,
}


def _unterminated(statement: Statement, dialect: str) -> list[Statement]:
    """Split a statement before every top-level keyword that can only start a statement."""
    tokens = sqlglot_dialect(dialect).tokenize(statement.text)
    depth, starts = 0, [0]
    for position, token in enumerate(tokens):
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
        elif position and depth == 0 and token.token_type in _STATEMENT_STARTS:
            starts.append(position)
    pieces = []
    for begin, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        first, last = tokens[begin], tokens[end - 1]
        text = statement.text[first.start : last.end + 1]
        pieces.append(Statement(statement.index, statement.line + first.line - 1, text))
    return pieces


def _after_begin(statement: Statement, dialect: str) -> Statement | None:
    """The text after the first block BEGIN of a statement, if it has one."""
    tokens = sqlglot_dialect(dialect).tokenize(statement.text)
    for position, token in enumerate(tokens):
        if (
            token.token_type not in (TokenType.BEGIN, TokenType.COMMAND)
            or token.text.upper() != "BEGIN"
        ):
            continue
        following = tokens[position + 1] if position + 1 < len(tokens) else None
        if following is None or following.text.upper() in _NOT_A_BLOCK:
            return None
        if following.text.upper() in ("TRY", "CATCH") and position + 2 < len(tokens):
            following = tokens[position + 2]
        rest = statement.text[following.start :]
        return Statement(statement.index, statement.line + token.line - 1, rest)
    return None


def _is_routine(expression: exp.Expr) -> bool:
    kind = str(expression.args.get("kind") or "").upper()
    return isinstance(expression, exp.Create) and kind in ("PROCEDURE", "FUNCTION")


_NOT_A_BLOCK = {"TRANSACTION", "TRAN", "WORK", "DISTRIBUTED"}


def _unpack(expression: exp.Expr) -> Iterator[exp.Expr]:
    """Statements inside procedure bodies and BEGIN ... END blocks, in order."""
    body = expression.expression if isinstance(expression, exp.Create) else None
    if isinstance(expression, exp.Block) or (
        isinstance(expression, exp.Create) and isinstance(body, exp.Block)
    ):
        block = expression if isinstance(expression, exp.Block) else body
        assert block is not None
        for inner in block.expressions:
            yield from _unpack(inner)
    else:
        yield expression


@collector_paused()
def analyse_script(
    text: str, dialect: str, schema: Schema | None = None, defaults: Defaults | None = None
) -> ScriptLineage:
    """Tables read and written, and end-to-end column lineage, of a whole script."""
    result = ScriptLineage()
    given: Schema = schema or {}
    known: dict[TableName, dict[str, str]] = {k: dict(v) for k, v in given.items()}
    tracker = StepTracker()
    analysed: list[StatementLineage] = []
    unparsed: list[StatementError] = []
    statements = parse_statements(text, dialect, defaults or Defaults(), unparsed)
    for statement, expression in statements:
        result.statements += 1
        tracker.see(expression, statement.line)
        if isinstance(expression, exp.Drop):
            result.understood += 1
            continue
        if isinstance(expression, exp.Command):
            result.errors.append(
                StatementError(statement.line, f"not understood: {expression.sql()[:80]}")
            )
            continue
        named = [table_name(t) for t in expression.find_all(exp.Table) if t.name] if known else []
        visible = known | partially_named(known, named) if named else known
        vouched = {**given, **partially_named(given, named)} if named and given else given
        try:
            lineage = statement_lineage(expression, dialect, visible, vouched)
        except (SqlglotError, RecursionError) as error:
            result.errors.append(StatementError(statement.line, f"cannot analyse: {error}"))
            continue
        result.understood += 1
        if lineage is None:
            continue
        result.notes += [StatementError(statement.line, note) for note in lineage.notes]
        result.errors += [
            StatementError(statement.line, f"column {_dotted(table)}.{column} is not in the "
                           f"given schema of {_dotted(table)}: left unresolved")
            for table, column in lineage.unknown_columns
        ]  # fmt: skip
        if lineage.target is not None and lineage.columns and lineage.target not in known:
            known[lineage.target] = {
                c: lineage.column_types.get(c, "UNKNOWN") for c in lineage.columns
            }
        analysed.append(lineage)
    result.statements += len(unparsed)
    result.errors = sorted([*unparsed, *result.errors], key=lambda e: e.line or 0)
    persistent = [s for s in collapse_steps(analysed, tracker.steps_of(analysed)) if s is not None]
    result.in_tables = list(dict.fromkeys(r for s in persistent for r in s.reads if r != s.target))
    result.out_tables = list(dict.fromkeys(s.target for s in persistent if s.target is not None))
    result.column_lineage = end_to_end(persistent)
    result.indirect_lineage = [
        (lineage.target, (table, column), subtype)
        for lineage in persistent
        if lineage.target is not None
        for table, column, subtype in lineage.influences
    ]
    return result


def end_to_end(
    analysed: list[StatementLineage],
) -> dict[ColumnRef, dict[ColumnRef, Transformation]]:
    """Column lineage from the script's source columns to its final columns.

    Columns both written and read inside the script are intermediate: flows through them
    are composed, keeping the strongest transformation on the way. A column assigned from
    itself (`SET a = a + 1`) keeps that pair.
    """
    upstream: dict[ColumnRef, dict[ColumnRef, Transformation]] = defaultdict(dict)
    self_derived: dict[ColumnRef, Transformation] = {}
    for lineage in analysed:
        for flow in lineage.flows:
            down: ColumnRef = (lineage.target, flow.target_column)
            up: ColumnRef = (flow.source_table, flow.source_column)
            if up == down:
                self_derived[down] = flow.transformation
            else:
                known = upstream[down].get(up, flow.transformation)
                upstream[down][up] = stronger(known, flow.transformation)
    read = {up for ups in upstream.values() for up in ups}

    def roots(
        ref: ColumnRef, kind: Transformation, seen: frozenset[ColumnRef]
    ) -> Iterator[tuple[ColumnRef, Transformation]]:
        if ref not in upstream or ref in seen:
            yield ref, kind
            return
        for up, step in upstream[ref].items():
            yield from roots(up, stronger(kind, step), seen | {ref})

    pairs: dict[ColumnRef, dict[ColumnRef, Transformation]] = {}
    for down in [*upstream, *self_derived]:
        if down in read and down not in self_derived:
            continue
        found: dict[ColumnRef, Transformation] = {}
        for root, kind in roots(down, Transformation.IDENTITY, frozenset()):
            if root != down:
                found[root] = stronger(found.get(root, kind), kind)
        if down in self_derived:
            found[down] = self_derived[down]
        if found:
            pairs[down] = found
    return pairs
