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


class StoreUnavailable(BatonError):
    """The store cannot take the request now; nothing was written."""

    code = "UNAVAILABLE"


class StoreBusy(StoreUnavailable):
    """Another write held the store's write lock for longer than the caller may wait."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DiskFull(StoreUnavailable):
    """The store's disk is full: the write was rolled back whole."""


class DataLoss(BatonError):
    """Stored data cannot be read back as Baton wrote it (the store was edited by other
    means): answering from it would be a wrong answer, so the request fails instead."""

    code = "DATA_LOSS"


class QueryTimeout(BatonError):
    """A store query ran past its time budget and was stopped."""

    code = "TIMEOUT"
