"""Freshness: is each dataset with a freshness SLA written as often as promised?

SLAs come from the latest version of each data contract (ODCS `slaProperties` with
property `freshness` or `latency`, for the contract's datasets or the table its `element`
names) and from `freshness` rules in ownership maps (a `freshness_sla` fact on the
dataset). The last successful write is the dataset's `last_written_at` fact, recorded by
OpenLineage COMPLETE events and dbt run results. When several SLAs cover a dataset, the
strictest holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from catalog import durations
from catalog.alerts.events import AlertEvent, EventType
from catalog.alerts.queue import AlertQueue
from catalog.contracts import latest_versions
from catalog.domain import WRITTEN_SOURCE_PREFIX, NodeRef
from catalog.services import contracts
from catalog.stores.protocol import Store
from ingesters.ownership import SOURCE_PREFIX as OWNERSHIP_SOURCE_PREFIX

FRESHNESS_PROPERTIES = frozenset({"freshness", "latency"})


class State(StrEnum):
    FRESH = "fresh"
    STALE = "stale"
    UNKNOWN = "unknown"
    """No successful write recorded: Baton cannot tell (reported, never called fresh)."""


@dataclass(frozen=True)
class Sla:
    within: float
    """Seconds a dataset may go without a successful write."""
    source: str
    """Where the promise is made: `contract <id> <version>`, `ownership-map:<name> rule N`."""


@dataclass(frozen=True)
class Freshness:
    key: str
    """The dataset's node key (`dataset` builds its ref: scans judge many, print few)."""
    sla: Sla
    state: State
    last_written_at: datetime | None
    age: float | None
    """Seconds since the last successful write."""

    @property
    def dataset(self) -> NodeRef:
        return NodeRef.from_key(self.key)

    def detail(self) -> str:
        """`last written 6h 10m ago (2026-11-30T06:00:00+00:00); SLA 4h (contract ...)`."""
        promise = f"SLA {durations.spoken(self.sla.within)} ({self.sla.source})"
        if self.last_written_at is None or self.age is None:
            return f"no successful write recorded; {promise}"
        written = self.last_written_at.isoformat(timespec="seconds")
        return f"last written {durations.spoken(self.age)} ago ({written}); {promise}"


def contract_slas(store: Store) -> dict[str, Sla]:
    """The strictest freshness SLA the latest contract versions promise, by dataset key."""
    found: dict[str, Sla] = {}
    for version in latest_versions(contracts.all_versions(store)):
        for sla in version.sla:
            within = durations.of(sla.value, sla.unit)
            if sla.property.lower() not in FRESHNESS_PROPERTIES or within is None:
                continue
            table = (sla.element or "").split(".")[0]
            for dataset in version.datasets:
                if table and table not in (dataset.object_name, dataset.ref.name.split(".")[-1]):
                    continue
                promise = Sla(within, f"contract {version.contract_id} {version.version}")
                key = dataset.ref.key
                if key not in found or promise.within < found[key].within:
                    found[key] = promise
    return found


def map_slas(store: Store) -> dict[str, Sla]:
    """The freshness ownership-map rules promise (their `freshness_sla` facts), by key."""
    found = {}
    for key, rule in store.source_facts(OWNERSHIP_SOURCE_PREFIX, "freshness_sla"):
        if isinstance(rule, dict) and isinstance(rule.get("seconds"), int | float):
            found[key] = Sla(float(rule["seconds"]), str(rule.get("source") or "ownership map"))
    return found


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def evaluate(store: Store, now: datetime | None = None) -> list[Freshness]:
    """Every dataset with a freshness SLA, and whether it is kept, by key. Reads
    only the promises and the last writes, never every dataset's attributes."""
    now = now or datetime.now(UTC)
    promised = contract_slas(store)
    for key, sla in map_slas(store).items():
        if key not in promised or sla.within < promised[key].within:
            promised[key] = sla
    written = dict(store.source_facts(WRITTEN_SOURCE_PREFIX, "last_written_at"))
    results = []
    for key in sorted(promised):
        sla, last = promised[key], _moment(written.get(key))
        age = (now - last).total_seconds() if last else None
        state = State.UNKNOWN if age is None else State.STALE if age > sla.within else State.FRESH
        results.append(Freshness(key, sla, state, last, age))
    return results


def raise_alerts(store: Store, queue: AlertQueue, now: datetime | None = None) -> list[Freshness]:
    """Evaluate, and put in the outbox a `freshness.breached` for each stale dataset not
    already alerting and a `freshness.recovered` for each alerting one now fresh (or no
    longer promised): a breach fires once, not at every evaluation."""
    now = now or datetime.now(UTC)
    results = evaluate(store, now)
    family = f"{EventType.FRESHNESS_BREACHED.value}|"
    firing = {key.removeprefix(family) for key in queue.firing_keys_of(family[:-1])}
    judged = {r.key: r for r in results}
    events = [
        AlertEvent(EventType.FRESHNESS_BREACHED, r.dataset, r.sla.source, _observed(r))
        for r in results
        if r.state is State.STALE and r.key not in firing
    ]
    for key in sorted(firing):
        result = judged.get(key)
        if result is None or result.state is State.FRESH:
            observed = _observed(result) if result else {"detail": "no freshness SLA any more"}
            source = result.sla.source if result else "freshness"
            events.append(
                AlertEvent(EventType.FRESHNESS_RECOVERED, NodeRef.from_key(key), source, observed)
            )
    if events:
        queue.enqueue_events(events)
    return results


def _observed(result: Freshness) -> dict[str, object]:
    return {
        "state": result.state.value,
        "sla_seconds": result.sla.within,
        "sla": durations.spoken(result.sla.within),
        "sla_source": result.sla.source,
        "last_written_at": result.last_written_at.isoformat() if result.last_written_at else None,
        "age_seconds": round(result.age) if result.age is not None else None,
        "detail": result.detail(),
    }
