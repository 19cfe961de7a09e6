"""Files Baton writes beside its store (tokens, exports): whole or not at all."""

from __future__ import annotations

import errno
import os
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
        raise
    return result
