"""Files Baton writes beside its store (tokens, exports): whole or not at all."""

from __future__ import annotations

import errno
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from catalog.errors import DiskFull

T = TypeVar("T")


def write_atomically(path: Path, fill: Callable[[TextIO], T], *, mode: int = 0o644) -> T:
    """Write `path` through `fill` into a temporary file beside it, then rename it into
    place: a reader sees the old file or the new one, never half of one. On any failure
    the temporary file is removed and `path` is unchanged; a full disk is `DiskFull`."""
    temporary = path.with_name(f".{path.name}.partial")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
            result = fill(sink)
            sink.flush()
            os.fsync(sink.fileno())
        temporary.replace(path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"disk full: cannot write {path}; it is unchanged") from error
        if isinstance(error, OSError):
            raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from error
        raise
    return result


class UnreadableFile(OSError):
    """Input Baton will not read: not a regular file, malformed gzip, or too large."""


class TooLarge(UnreadableFile):
    """Input larger than its bound (as stored, or once inflated)."""


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `limit` of them.
    A FIFO, socket or device (`/dev/zero`, `/dev/stdin`...) is refused at once instead
    of hanging or reading without end; so is a file longer than `limit`."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"{path}: not a regular file (a FIFO, socket or device)")
        if info.st_size > limit:
            raise TooLarge(f"{path}: larger than {limit:,} bytes")
        with os.fdopen(descriptor, "rb", closefd=False) as source:
            data = source.read(limit + 1)
    finally:
        os.close(descriptor)
    if len(data) > limit:  # it grew while being read
        raise TooLarge(f"{path}: larger than {limit:,} bytes")
    return data


def read_bounded_text(path: Path, limit: int) -> str:
    """`read_bounded` as UTF-8 text (`UnicodeDecodeError` otherwise)."""
    return read_bounded(path, limit).decode("utf-8")


def inflate_bounded(data: bytes, limit: int, name: str) -> bytes:
    """The gzip member `data` inflated, refused (`UnreadableFile`) past `limit` bytes,
    truncated, or followed by anything: a small file never becomes gigabytes in memory."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    inflated = inflater.decompress(data, limit + 1)
    if len(inflated) > limit or inflater.unconsumed_tail:
        raise TooLarge(f"{name}: inflates to more than {limit:,} bytes")
    if not inflater.eof:
        raise UnreadableFile(f"{name}: the gzip stream ends early")
    if inflater.unused_data:
        raise UnreadableFile(f"{name}: bytes after the gzip member")
    return inflated
