"""Split a SQL script into statements, each with the line it starts on.

Splitting on the tokenizer's semicolons (not on text) keeps semicolons inside strings and
comments harmless, and lets one unparsable statement fail alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import Dialect
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import TokenType


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the file
    line: int  # 1-based line where the statement starts
    text: str


class ScriptError(ValueError):
    """The script cannot even be tokenized (e.g. an unterminated string)."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


def split_statements(script: str, dialect: str) -> list[Statement]:
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(script)
    except TokenError as error:
        raise ScriptError(str(error), _line_of(str(error))) from error
    statements: list[Statement] = []
    start = None
    for token in [*tokens, None]:
        if token is None or token.token_type is TokenType.SEMICOLON:
            if start is not None:
                end = token.start if token is not None else len(script)
                text = script[start.start : end].strip()
                statements.append(Statement(len(statements) + 1, start.line, text))
            start = None
        elif start is None:
            start = token
    return statements


def _line_of(message: str) -> int | None:
    """sqlglot tokenizer errors say 'Error tokenizing ... line N'; pick N when present."""
    marker = "line "
    if marker in message:
        digits = message.split(marker, 1)[1].split()[0].rstrip(",:.")
        if digits.isdigit():
            return int(digits)
    return None
