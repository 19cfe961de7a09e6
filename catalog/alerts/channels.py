"""Delivery channels: each renders the neutral message its way and sends it once.

- generic webhook: the message as JSON, signed (`X-Baton-Signature: v1=<hex HMAC-SHA256
  of "<timestamp>.<body>">` with `X-Baton-Timestamp`), `Idempotency-Key` header;
- Slack incoming webhook: a Block Kit message;
- PagerDuty Events API v2: trigger / acknowledge / resolve with the alert's dedup key;
- email over SMTP (STARTTLS and login when configured).

A send that does not end in a 2xx (or an accepted mail) raises `SendFailed` with a reason
that never quotes a secret (Slack's URL is one).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import ssl
import threading
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from catalog.alerts.messages import headline, link, text
from catalog.alerts.model import Delivery
from catalog.alerts.settings import AlertSettings
from catalog.domain import JsonObject

SIGNATURE_HEADER = "X-Baton-Signature"
TIMESTAMP_HEADER = "X-Baton-Timestamp"
USER_AGENT = "baton-alerts/1"


class SendFailed(Exception):
    """One attempt failed; the worker retries later (or gives up: dead letter)."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What a receiver recomputes to trust a webhook: v1=HMAC-SHA256(secret, ts + "." + body)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def slack_blocks(message: JsonObject) -> JsonObject:
    """A Block Kit message: headline, the facts as fields, the runbook and a link."""
    alert = message["alert"]
    fields = [f"*Severity*\n{alert['severity']}", f"*Status*\n{alert['status']}"]
    fields += [f"*Affected*\n<{a['url']}|{a['ref']}>" for a in (message.get("assets") or [])[:4]]
    owners = ", ".join(r["owner"] for r in message.get("recipients") or []) or "unowned"
    fields.append(f"*Owners*\n{owners}")
    blocks: list[JsonObject] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(message)[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields[:10]]},
    ]
    details = text(message).split("\n\n", 1)[-1]
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": details[:2900]}})
    url = link(message)
    if url:
        blocks.append({
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open in Baton"},
                          "url": url}],
        })  # fmt: skip
    return {"text": headline(message), "blocks": blocks}


_PD_ACTIONS = {"trigger": "trigger", "escalate": "trigger", "acknowledge": "acknowledge",
               "resolve": "resolve"}  # fmt: skip
_PD_SEVERITY = {"critical": "critical", "error": "error", "warning": "warning"}


def pagerduty_event(message: JsonObject, routing_key: str) -> JsonObject:
    alert = message["alert"]
    event: JsonObject = {
        "routing_key": routing_key,
        "event_action": _PD_ACTIONS[message["action"]],
        "dedup_key": f"baton-{alert['id']}-{alert['key']}"[:255],
    }
    if event["event_action"] == "trigger":
        event["payload"] = {
            "summary": alert["summary"][:1024],
            "source": (message.get("subject") or {}).get("ref") or "baton",
            "severity": _PD_SEVERITY.get(alert["severity"], "info"),
            "component": ", ".join(a["ref"] for a in message.get("assets") or [])[:255],
            "group": alert["type"],
            "class": alert["type"],
            "custom_details": {k: message.get(k) for k in ("observed", "source", "runbook",
                                                            "upstream_suspects", "downstream")},
        }  # fmt: skip
        url = link(message)
        event["links"] = [{"href": url, "text": "Open in Baton"}] if url else []
    return event


def email_message(message: JsonObject, sender: str, to: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = headline(message)[:200]
    mail["From"] = sender
    mail["To"] = to
    mail["X-Baton-Idempotency-Key"] = message["idempotency_key"]
    mail.set_content(text(message))
    return mail


class HttpPoster:
    """POSTs with one kept-alive connection per host and thread (delivering thousands of
    alerts to one receiver must not open thousands of connections)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        key = (parts.scheme, parts.netloc)
        pool: dict[Any, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        for attempt in (1, 2):  # a kept-alive connection the server closed: reconnect once
            conn = pool.get(key) or self._connect(parts.scheme, parts.netloc)
            pool[key] = conn
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.will_close:
                    conn.close()
                    pool.pop(key, None)
                return response.status
            except (http.client.HTTPException, OSError) as error:
                conn.close()
                pool.pop(key, None)
                if attempt == 2 or not isinstance(
                    error, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError
                ):
                    raise SendFailed(f"{type(error).__name__}: {error}") from None
        raise AssertionError("unreachable")

    def _connect(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if scheme == "https":
            return http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(netloc, timeout=self.timeout)


class Channels:
    """Sends a delivery through the channel its destination names."""

    def __init__(self, settings: AlertSettings) -> None:
        self.settings = settings
        self.http = HttpPoster(settings.file.delivery.timeout_seconds)

    def send(self, delivery: Delivery, now: float) -> None:
        kind, _, name = delivery.destination.partition(":")
        try:
            {
                "webhook": self._webhook,
                "slack": self._slack,
                "pagerduty": self._pagerduty,
                "email": self._email,
            }[kind](name, delivery, now)
        except SendFailed as failed:
            raise SendFailed(self.settings.redact(str(failed))) from None
        except KeyError:
            raise SendFailed(f"{delivery.destination!r} names no channel") from None

    def _json(self, url: str, payload: JsonObject, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        status = self.http.post(url, body, headers)
        if not 200 <= status < 300:
            raise SendFailed(f"HTTP {status}")

    def _webhook(self, name: str, delivery: Delivery, now: float) -> None:
        spec = self.settings.file.channels.webhooks[name]
        secret = self.settings.secret(spec.secret_env) or ""
        body = json.dumps(delivery.message, sort_keys=True).encode()
        timestamp = str(int(now))
        self._json(
            spec.url,
            delivery.message,
            {
                "Idempotency-Key": delivery.idempotency_key,
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(secret, timestamp, body),
            },
        )

    def _slack(self, name: str, delivery: Delivery, now: float) -> None:
        spec = self.settings.file.channels.slack[name]
        url = self.settings.secret(spec.webhook_url_env) or ""
        self._json(url, slack_blocks(delivery.message))

    def _pagerduty(self, name: str, delivery: Delivery, now: float) -> None:
        spec = self.settings.file.channels.pagerduty[name]
        key = self.settings.secret(spec.routing_key_env) or ""
        self._json(spec.url, pagerduty_event(delivery.message, key))

    def _email(self, to: str, delivery: Delivery, now: float) -> None:
        spec = self.settings.file.channels.email
        assert spec is not None
        mail = email_message(delivery.message, spec.sender, to)
        try:
            with smtplib.SMTP(spec.host, spec.port, timeout=spec.timeout_seconds) as smtp:
                if spec.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=spec.ca_file))
                user = self.settings.secret(spec.username_env)
                if user:
                    smtp.login(user, self.settings.secret(spec.password_env) or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            raise SendFailed(f"SMTP: {type(error).__name__}: {error}") from None
