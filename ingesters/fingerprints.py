"""What an ingester's output is a function of, as one digest.

An ingester is pure: the same input bytes, options and code give the same batch. So an
input whose fingerprint the catalog already holds (asserted by the write that ingested
it, and still valid) need not be analysed again: its batch would change nothing. The
code is part of the fingerprint, so an upgrade of Baton or of sqlglot analyses again.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import catalog
import ingesters
from catalog.domain import canonical_json, sha256_hex

ANALYSIS_LIBRARIES = ("sqlglot", "pydantic")
"""Libraries whose upgrade can change what an ingester reads out of the same input."""


@lru_cache(maxsize=1)
def code_digest() -> str:
    """The source of Baton's `catalog` and `ingesters` packages and the versions of the
    libraries the analysis depends on: any change to them means a new analysis."""
    digest = hashlib.sha256()
    for package in (catalog, ingesters):
        root = Path(str(package.__file__)).parent
        for file in sorted(root.rglob("*.py")):
            digest.update(file.relative_to(root.parent).as_posix().encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    for library in ANALYSIS_LIBRARIES:
        digest.update(f"{library}=={version(library)}".encode())
    return digest.hexdigest()


def input_fingerprint(content_digest: str, options: Any) -> str:
    """The fingerprint of reading content (by its digest) with `options` (JSON-able)."""
    return sha256_hex(canonical_json([code_digest(), options, content_digest]))
