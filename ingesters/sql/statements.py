"""Split a SQL script into statements, each with the line it starts on.

Splitting on the tokenizer's semicolons (not on text) keeps semicolons inside strings and
comments harmless, and lets one unparsable statement fail alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from ingesters.sql.dialects import sqlglot_dialect


@dataclass(frozen=True)
class ScriptTokens:
    """A statement's tokens as the script's tokenizer read them: their positions and lines
    count from the start of `script`."""

    script: str
    tokens: list[Token]


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the file
    line: int  # 1-based line where the statement starts
    text: str
    tokens: ScriptTokens | None = field(default=None, compare=False, repr=False)
    """The statement's tokens from splitting the script, so it is parsed without being
    tokenized again; None once parsed, and for text Baton writes."""


class ScriptError(ValueError):
    """The script cannot even be tokenized (e.g. an unterminated string)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def split_statements(script: str, dialect: str) -> list[Statement]:
    try:
        tokens = sqlglot_dialect(dialect).tokenize(script)
    except TokenError as error:
        raise ScriptError(str(error), _line_of(str(error))) from error
    semicolon = TokenType.SEMICOLON
    ends = [position for position, token in enumerate(tokens) if token.token_type is semicolon]
    statements: list[Statement] = []
    start = 0
    for stop in [*ends, len(tokens)]:
        if start < stop:
            first = tokens[start]
            end = tokens[stop].start if stop < len(tokens) else len(script)
            text = script[first.start : end].strip()
            own = ScriptTokens(script, tokens[start:stop])
            statements.append(Statement(len(statements) + 1, first.line, text, own))
        start = stop + 1
    return statements


def _line_of(message: str) -> int | None:
    """sqlglot tokenizer errors say 'Error tokenizing ... line N'; pick N when present."""
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split()[0].rstrip(",:.")
        if digits.isdigit():
            return int(digits)
    return None
