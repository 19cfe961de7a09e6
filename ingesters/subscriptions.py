"""Alert subscription files: routes alerts take besides their owners' (or mutes), kept in
the graph so every change to who hears what is in the ledger (docs/alerts.md).

    version: 1
    name: platform                 # the file's source is subscriptions:platform
    subscriptions:
      - {name: every failed run, events: ["run.failed"], to: ["slack:#data-platform"]}

A pure reader and a snapshot, like every ingester: re-ingesting a file replaces what its
earlier version said, ending (with history) the subscriptions it no longer holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.alerts.settings import Subscription
from catalog.domain import IngestError, NodeKind, NodeRef, SnapshotBuilder, SourceSnapshot
from ingesters.documents import read_yaml, validation_errors

SOURCE_PREFIX = "subscriptions:"


class SubscriptionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    subscriptions: list[Subscription] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SubscriptionsFile:
        names = [s.name for s in self.subscriptions]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"subscription names must be unique: {', '.join(twice)}")
        return self


def subscription_ref(group: str, name: str) -> NodeRef:
    """A subscription: its file's (or the API's) name is the namespace."""
    return NodeRef(kind=NodeKind.SUBSCRIPTION, namespace=group, name=name)


def read_subscriptions(path: Path) -> tuple[SubscriptionsFile | None, list[IngestError]]:
    """The file, or None and every problem (file, JSON path, reason)."""
    document, errors = read_yaml(path)
    if errors:
        return None, errors
    try:
        return SubscriptionsFile.model_validate(document), []
    except ValidationError as invalid:
        return None, validation_errors(path.as_posix(), invalid)


def snapshot(group: str, subscriptions: list[Subscription]) -> SourceSnapshot:
    builder = SnapshotBuilder(SOURCE_PREFIX + group)
    for subscription in subscriptions:
        builder.node(subscription_ref(group, subscription.name), **subscription.model_dump())
    return builder.build()
