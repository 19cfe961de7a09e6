"""Handing memory the C heap holds freed back to the operating system."""

from __future__ import annotations

import ctypes


def release_freed_heap() -> None:
    """Return what the C library's heap holds freed to the OS (glibc's `malloc_trim`).

    A large parse done outside Python's object allocator (pydantic-core validating GitLab's
    manifest, and the JSON text it read) leaves about 100 MB freed in that heap, resident
    for the rest of the process: Python's small objects live in arenas of their own and
    never reuse it. A no-op where the C library has no such call.
    """
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)
