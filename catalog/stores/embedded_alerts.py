"""The alert queue on the embedded store's SQLite file (tables of migration 0005)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from catalog.alerts.events import AlertEvent, EventType
from catalog.alerts.model import (
    Action,
    Alert,
    AlertStatus,
    Delivery,
    DeliveryStatus,
    OutboxEvent,
    Silence,
)
from catalog.domain import NodeRef
from catalog.stores.protocol import WriteTx

T = TypeVar("T")

_ALERT_COLUMNS = (
    "key, type, subject, severity, status, summary, details, occurrences, first_seq, last_seq,"
    " opened_at, updated_at, resolved_at, acked_by, acked_at, escalation_level, escalate_at,"
    " silenced_by"
)
_DELIVERY_COLUMNS = (
    "alert_id, action, destination, idempotency_key, message, next_attempt_at, created_at,"
    " status, attempts, last_error, delivered_at"
)
_SILENCE_COLUMNS = "events, subjects, ends_at, created_by, reason, created_at"


def _alert(row: sqlite3.Row) -> Alert:
    (id_, key, type_, subject, severity, status, summary, details, *rest) = row
    return Alert(
        key,
        type_,
        subject,
        severity,
        AlertStatus(status),
        summary,
        json.loads(details),
        rest[1],
        rest[2],
        rest[3],
        rest[4],
        occurrences=rest[0],
        resolved_at=rest[5],
        acked_by=rest[6],
        acked_at=rest[7],
        escalation_level=rest[8],
        escalate_at=rest[9],
        silenced_by=rest[10],
        id=id_,
    )


def _alert_row(alert: Alert) -> tuple[Any, ...]:
    return (
        alert.key,
        alert.type,
        alert.subject,
        alert.severity,
        alert.status.value,
        alert.summary,
        json.dumps(alert.details, sort_keys=True),
        alert.occurrences,
        alert.first_seq,
        alert.last_seq,
        alert.opened_at,
        alert.updated_at,
        alert.resolved_at,
        alert.acked_by,
        alert.acked_at,
        alert.escalation_level,
        alert.escalate_at,
        alert.silenced_by,
    )


def _delivery(row: sqlite3.Row) -> Delivery:
    id_, alert_id, action, destination, key, message, next_at, created, *rest = row
    return Delivery(
        alert_id,
        Action(action),
        destination,
        key,
        json.loads(message),
        next_at,
        created,
        status=DeliveryStatus(rest[0]),
        attempts=rest[1],
        last_error=rest[2],
        delivered_at=rest[3],
        id=id_,
    )


def _silence(row: sqlite3.Row) -> Silence:
    id_, events, subjects, ends_at, created_by, reason, created_at = row
    return Silence(events, subjects, ends_at, created_by, reason, created_at, id=id_)


class _SqliteAlertTx:
    def __init__(self, conn: sqlite3.Connection, graph: WriteTx) -> None:
        self._conn = conn
        self.graph = graph

    def firing(self, key: str) -> Alert | None:
        return _firing(self._conn, key)

    def alert(self, alert_id: int) -> Alert | None:
        return _one_alert(self._conn, alert_id)

    def save(self, alert: Alert) -> int:
        if alert.id is None:
            cursor = self._conn.execute(
                f"INSERT INTO alerts ({_ALERT_COLUMNS}) VALUES ({', '.join('?' * 18)})",  # noqa: S608
                _alert_row(alert),
            )
            alert.id = int(cursor.lastrowid or 0)
        else:
            assignments = ", ".join(f"{c.strip()} = ?" for c in _ALERT_COLUMNS.split(","))
            self._conn.execute(
                f"UPDATE alerts SET {assignments} WHERE id = ?",  # noqa: S608
                (*_alert_row(alert), alert.id),
            )
        return alert.id

    def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        self._conn.executemany(
            f"INSERT INTO alert_deliveries ({_DELIVERY_COLUMNS}) VALUES ({', '.join('?' * 11)})"  # noqa: S608
            " ON CONFLICT (idempotency_key) DO NOTHING",
            (
                (
                    d.alert_id,
                    d.action.value,
                    d.destination,
                    d.idempotency_key,
                    json.dumps(d.message, sort_keys=True),
                    d.next_attempt_at,
                    d.created_at,
                    d.status.value,
                    d.attempts,
                    d.last_error,
                    d.delivered_at,
                )
                for d in deliveries
            ),
        )

    def claim(self, event_id: int) -> bool:
        cursor = self._conn.execute(
            "UPDATE alert_outbox SET processed = 1 WHERE id = ? AND processed = 0", (event_id,)
        )
        return cursor.rowcount == 1

    def silences(self, now: float) -> list[Silence]:
        return _silences(self._conn, now)


def _firing(conn: sqlite3.Connection, key: str) -> Alert | None:
    row = conn.execute(
        f"SELECT id, {_ALERT_COLUMNS} FROM alerts WHERE key = ? AND status = 'firing'",  # noqa: S608
        (key,),
    ).fetchone()
    return _alert(row) if row else None


def _one_alert(conn: sqlite3.Connection, alert_id: int) -> Alert | None:
    row = conn.execute(
        f"SELECT id, {_ALERT_COLUMNS} FROM alerts WHERE id = ?",  # noqa: S608
        (alert_id,),
    ).fetchone()
    return _alert(row) if row else None


def _silences(conn: sqlite3.Connection, now: float) -> list[Silence]:
    rows = conn.execute(
        f"SELECT id, {_SILENCE_COLUMNS} FROM alert_silences WHERE ends_at > ? ORDER BY id",  # noqa: S608
        (now,),
    )
    return [_silence(r) for r in rows]


def enqueue_events(conn: sqlite3.Connection, seq: int, events: Sequence[AlertEvent]) -> None:
    """The write path's half: the events of ledger entry `seq`, in its transaction."""
    conn.executemany(
        "INSERT INTO alert_outbox (seq, type, subject, source, attrs) VALUES (?, ?, ?, ?, ?)",
        (
            (seq, e.type.value, e.subject.key, e.source, json.dumps(e.attrs, sort_keys=True))
            for e in events
        ),
    )


class SqliteHost(Protocol):
    """What the queue needs of the embedded store: its connections and its write lock."""

    def connection(self) -> sqlite3.Connection: ...

    def locked(self, unit: Callable[[sqlite3.Connection], T]) -> T: ...

    def write_tx(self, conn: sqlite3.Connection) -> WriteTx:
        """The graph's write transaction on the same connection (and transaction)."""


class SqliteAlertQueue:
    """`AlertQueue` over the store's connections; transactions take the store's write lock."""

    def __init__(self, host: SqliteHost) -> None:
        self._conn = host.connection
        self._locked = host.locked
        self._graph = host.write_tx

    def transaction(self, unit: Callable[[_SqliteAlertTx], T]) -> T:
        return self._locked(lambda conn: unit(_SqliteAlertTx(conn, self._graph(conn))))

    def firing_keys(self, keys: Sequence[str]) -> set[str]:
        rows = self._conn().execute(
            "SELECT key FROM alerts WHERE status = 'firing'"
            " AND key IN (SELECT value FROM json_each(?))",
            (json.dumps(list(keys)),),
        )
        return {key for (key,) in rows}

    def firing_keys_of(self, alert_type: str) -> set[str]:
        rows = self._conn().execute(
            "SELECT key FROM alerts WHERE status = 'firing' AND type = ?", (alert_type,)
        )
        return {key for (key,) in rows}

    def enqueue_events(self, events: Sequence[AlertEvent]) -> None:
        def unit(conn: sqlite3.Connection) -> None:
            (head,) = conn.execute("SELECT max(seq) FROM ledger").fetchone()
            if head is not None:  # no ledger: nothing could have been judged
                enqueue_events(conn, head, events)

        self._locked(unit)

    def pending_events(self, limit: int) -> list[OutboxEvent]:
        rows = self._conn().execute(
            "SELECT id, seq, type, subject, source, attrs FROM alert_outbox"
            " WHERE processed = 0 ORDER BY id LIMIT ?",
            (limit,),
        )
        return [
            OutboxEvent(
                id_,
                seq,
                AlertEvent(EventType(type_), NodeRef.from_key(subject), source, json.loads(attrs)),
            )
            for id_, seq, type_, subject, source, attrs in rows
        ]

    def due(self, now: float, limit: int) -> list[Delivery]:
        rows = self._conn().execute(
            f"SELECT id, {_DELIVERY_COLUMNS} FROM alert_deliveries"  # noqa: S608
            " WHERE status = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (now, limit),
        )
        return [_delivery(r) for r in rows]

    def update(self, deliveries: Sequence[Delivery]) -> None:
        def unit(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE alert_deliveries SET status = ?, attempts = ?, next_attempt_at = ?,"
                " last_error = ?, delivered_at = ? WHERE id = ?",
                (
                    (
                        d.status.value,
                        d.attempts,
                        d.next_attempt_at,
                        d.last_error,
                        d.delivered_at,
                        d.id,
                    )
                    for d in deliveries
                ),
            )

        self._locked(unit)

    def escalations_due(self, now: float) -> list[Alert]:
        rows = self._conn().execute(
            f"SELECT id, {_ALERT_COLUMNS} FROM alerts"  # noqa: S608
            " WHERE status = 'firing' AND escalate_at <= ? AND acked_by IS NULL"
            " AND silenced_by IS NULL ORDER BY escalate_at",
            (now,),
        )
        return [_alert(r) for r in rows]

    def alerts(
        self, *, status: str | None = None, before_id: int | None = None, limit: int = 50
    ) -> list[Alert]:
        rows = self._conn().execute(
            f"SELECT id, {_ALERT_COLUMNS} FROM alerts"  # noqa: S608
            " WHERE (:status IS NULL OR status = :status) AND (:before IS NULL OR id < :before)"
            " ORDER BY id DESC LIMIT :limit",
            {"status": status, "before": before_id, "limit": limit},
        )
        return [_alert(r) for r in rows]

    def alert(self, alert_id: int) -> Alert | None:
        return _one_alert(self._conn(), alert_id)

    def firing_about(self, dataset: str) -> list[Alert]:
        rows = self._conn().execute(
            f"SELECT id, {_ALERT_COLUMNS} FROM alerts"  # noqa: S608
            " WHERE status = 'firing' AND EXISTS ("
            "   SELECT 1 FROM json_each(alerts.details, '$.assets') asset"
            "   WHERE json_extract(asset.value, '$.ref') = :dataset"
            "      OR substr(json_extract(asset.value, '$.ref'), 1, length(:columns)) = :columns)"
            " ORDER BY id DESC LIMIT 100",
            {"dataset": dataset, "columns": dataset + "."},
        )
        return [_alert(r) for r in rows]

    def deliveries(
        self, *, alert_id: int | None = None, status: str | None = None, limit: int = 200
    ) -> list[Delivery]:
        rows = self._conn().execute(
            f"SELECT id, {_DELIVERY_COLUMNS} FROM alert_deliveries"  # noqa: S608
            " WHERE (:alert IS NULL OR alert_id = :alert) AND (:status IS NULL OR status = :status)"
            " ORDER BY id DESC LIMIT :limit",
            {"alert": alert_id, "status": status, "limit": limit},
        )
        return [_delivery(r) for r in rows]

    def retry(self, delivery_ids: Sequence[int], now: float) -> int:
        def unit(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "UPDATE alert_deliveries SET status = 'pending', next_attempt_at = ?"
                " WHERE status = 'dead' AND id IN (SELECT value FROM json_each(?))",
                (now, json.dumps(list(delivery_ids))),
            )
            return cursor.rowcount

        return self._locked(unit)

    def add_silence(self, silence: Silence) -> int:
        def unit(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                f"INSERT INTO alert_silences ({_SILENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
                (
                    silence.events,
                    silence.subjects,
                    silence.ends_at,
                    silence.created_by,
                    silence.reason,
                    silence.created_at,
                ),
            )
            return int(cursor.lastrowid or 0)

        return self._locked(unit)

    def silences(self, now: float) -> list[Silence]:
        return _silences(self._conn(), now)

    def backlog(self) -> tuple[int, int]:
        conn = self._conn()
        events = conn.execute("SELECT count(*) FROM alert_outbox WHERE processed = 0").fetchone()
        pending = conn.execute(
            "SELECT count(*) FROM alert_deliveries WHERE status = 'pending'"
        ).fetchone()
        return int(events[0]), int(pending[0])
