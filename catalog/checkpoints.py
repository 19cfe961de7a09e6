"""Signed checkpoints of the ledger head, as transparency logs publish them.

The hash chain shows any edit inside the ledger, but not two attacks on its end: deleting
the newest entries, or rewriting the whole chain and re-hashing it. A checkpoint is the
head's sequence number and hash, signed with an Ed25519 key kept outside the store; anyone
holding the public key and a checkpoint (kept in the data directory, included in exports,
and best also published elsewhere) can tell that the ledger they are shown still holds,
unchanged, every entry the checkpoint vouches for.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from catalog.domain import canonical_json, sha256_hex
from catalog.errors import InvalidArgument

CHECKPOINT_KEY = "checkpoint"
"""The key of a checkpoint line in `checkpoints.jsonl` and in exports."""


@dataclass(frozen=True)
class Checkpoint:
    """What a signature vouches for: the ledger held `seq` entries, ending in `hash`."""

    seq: int
    hash: str
    at: str
    key_id: str

    def signed_text(self) -> bytes:
        return canonical_json(asdict(self)).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    signature: str
    """Ed25519 signature of `checkpoint.signed_text()`, base64."""

    def line(self) -> str:
        return canonical_json(
            {CHECKPOINT_KEY: asdict(self.checkpoint), "signature": self.signature}
        )

    @classmethod
    def from_line(cls, line: str) -> SignedCheckpoint:
        record = json.loads(line)
        return cls(Checkpoint(**record[CHECKPOINT_KEY]), str(record["signature"]))


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return sha256_hex(raw.hex())[:16]


def new_key_pair() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair as PEM: (private, public)."""
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = _load(path, serialization.load_pem_private_key, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidArgument(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = _load(path, serialization.load_pem_public_key)
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidArgument(f"{path} is not an Ed25519 public key")
    return key


def _load(path: Path, loader: object, **options: object) -> object:
    try:
        return loader(path.read_bytes(), **options)  # type: ignore[operator]
    except (OSError, ValueError, TypeError) as error:
        raise InvalidArgument(f"cannot read the key {path}: {error}") from error


def sign(seq: int, head_hash: str, at: datetime, key: Ed25519PrivateKey) -> SignedCheckpoint:
    checkpoint = Checkpoint(seq, head_hash, at.isoformat(), key_id(key.public_key()))
    signature = key.sign(checkpoint.signed_text())
    return SignedCheckpoint(checkpoint, base64.b64encode(signature).decode())


def checkpoint_problem(
    signed: Iterable[SignedCheckpoint], hashes: dict[int, str], key: Ed25519PublicKey
) -> str | None:
    """Why the ledger whose entry hashes are `hashes` (seq -> hash) contradicts a
    checkpoint signed by `key`, or None. Checkpoints by other keys are not evidence."""
    head = max(hashes, default=0)
    ours = key_id(key)
    for item in signed:
        point = item.checkpoint
        if point.key_id != ours:
            continue
        try:
            key.verify(base64.b64decode(item.signature), point.signed_text())
        except (InvalidSignature, ValueError):
            return f"the checkpoint of entry {point.seq} signed at {point.at} has a bad signature"
        if point.seq > head:
            return (
                f"a checkpoint signed at {point.at} vouches for {point.seq} entries, the ledger "
                f"ends at {head}: its newest entries were deleted"
            )
        if point.seq > 0 and hashes[point.seq] != point.hash:
            return (
                f"entry {point.seq} does not have the hash a checkpoint signed at {point.at} "
                "vouches for: the chain was rewritten"
            )
    return None


class CheckpointLog:
    """`checkpoints.jsonl` in the data directory: signed checkpoints, appended."""

    def __init__(self, home: Path) -> None:
        self.path = home / "checkpoints.jsonl"

    def append(self, signed: SignedCheckpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            log.write(signed.line() + "\n")
            log.flush()

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        return [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]

    def all(self) -> list[SignedCheckpoint]:
        return [SignedCheckpoint.from_line(line) for line in self.lines()]
