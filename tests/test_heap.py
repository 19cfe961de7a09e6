"""Freed C-heap memory handed back to the operating system after a large parse."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest

from catalog.heap import release_freed_heap


def _resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(
    not hasattr(ctypes.CDLL(None), "malloc_trim"), reason="the C library has no malloc_trim"
)
def test_memory_freed_between_live_blocks_is_handed_back() -> None:
    # 128 MB in blocks under glibc's mmap threshold, every eighth kept: the freed ones sit
    # between live ones, where the heap's own trimming of its top never reaches.
    blocks = [bytearray(64 * 1024) for _ in range(2048)]
    kept = blocks[::8]
    del blocks
    held = _resident_mb()
    release_freed_heap()
    assert held - _resident_mb() > 64
    assert len(kept) == 256
