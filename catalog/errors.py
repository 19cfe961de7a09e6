"""Errors the services raise; the API and CLI turn each into a typed, readable message."""


class BatonError(Exception):
    code = "INTERNAL"


class NotFound(BatonError):
    code = "NOT_FOUND"


class InvalidArgument(BatonError):
    code = "INVALID_ARGUMENT"


class LimitExceeded(BatonError):
    """A request asked for more than a configured bound (depth, page size, result size)."""

    code = "LIMIT_EXCEEDED"


class QueryTimeout(BatonError):
    """A store query ran past its time budget and was stopped."""

    code = "TIMEOUT"
