"""Pausing Python's cyclic garbage collector around bursts of allocation."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a burst of work, on again after (if it was on).

    A burst that allocates many objects sets off a collection every few hundred, each
    walking every young object still alive: a large write's rows, changes and keys (a
    third of a 500k-assertion write went to collections), or the syntax trees of a SQL
    statement under analysis (a sixth of analysing GitLab's dbt models). Refcounting
    still frees acyclic garbage at once; cyclic garbage made meanwhile (syntax trees link
    parents and children) waits for the first collection after, so what is held is one
    burst's worth. Also usable as a decorator.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
