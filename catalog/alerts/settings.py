"""The alerting configuration: channels (with secrets taken from the environment, never
from the file), default routing's fallback, subscriptions, delivery and escalation policy.

Read from the YAML file `BATON_ALERTS` names (`examples/alerts/alerts.yaml` is a complete
one); every problem is reported with the file and the JSON path of the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from catalog.domain import IngestError
from catalog.durations import seconds
from catalog.errors import InvalidArgument
from ingesters.documents import read_yaml, validation_errors

_DESTINATION = re.compile(r"^(webhook|slack|pagerduty|email):.+$")
Destination = Annotated[str, Field(pattern=_DESTINATION.pattern)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookSpec(_Strict):
    url: str = Field(pattern=r"^https?://")
    secret_env: str
    """Environment variable holding the HMAC-SHA256 signing secret."""


class SlackSpec(_Strict):
    webhook_url_env: str
    """Environment variable holding the channel's incoming-webhook URL (a secret)."""


class PagerDutySpec(_Strict):
    routing_key_env: str
    """Environment variable holding the service's Events API v2 integration key."""
    url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=r"^https?://")


class EmailSpec(_Strict):
    host: str
    port: int = 587
    starttls: bool = True
    username_env: str | None = None
    password_env: str | None = None
    sender: str
    timeout_seconds: float = Field(default=10.0, gt=0)
    ca_file: str | None = None
    """CA certificates (PEM) the server's certificate is checked against, for a server
    whose certificate a private CA signed; default: the system's."""


class Channels(_Strict):
    webhooks: dict[str, WebhookSpec] = Field(default_factory=dict)
    slack: dict[str, SlackSpec] = Field(default_factory=dict)
    """Keyed by the channel name owner records use (`slack: "#analytics-eng"`)."""
    pagerduty: dict[str, PagerDutySpec] = Field(default_factory=dict)
    """Keyed by the name owner records use (`pager: analytics-eng-oncall`)."""
    email: EmailSpec | None = None


class Subscription(_Strict):
    """A route added to the defaults: events matching every filter also go to `to`; or,
    with `mute`, a route taken away: matching events do not go to destinations matching
    the `to` globs (`pagerduty:*`), whoever routed them there."""

    name: str
    events: list[str] = Field(default_factory=lambda: ["*"])
    """Globs over event types: `check.*`, `run.failed`."""
    severity: list[str] = Field(default_factory=list)
    """Only these severities (none listed: any)."""
    match: str = "*"
    """Glob over the affected asset as `namespace/name`."""
    owner: str | None = None
    """Only alerts routed to this owner (`team:analytics-engineering`)."""
    domain: str | None = None
    """Only alerts affecting a dataset of this domain (its `domain` or dbt `meta.domain`)."""
    to: list[str] = Field(min_length=1)
    mute: bool = False

    @model_validator(mode="after")
    def _destinations(self) -> Subscription:
        bad = [d for d in self.to if not self.mute and not _DESTINATION.match(d)]
        if bad:
            raise ValueError(f"not a destination (channel:name): {', '.join(bad)}")
        return self

    def matches(
        self,
        event_type: str,
        severity: str,
        assets: list[str],
        owners: list[str],
        domains: frozenset[str] = frozenset(),
    ) -> bool:
        return (
            any(fnmatchcase(event_type, glob) for glob in self.events)
            and (not self.severity or severity in self.severity)
            and any(fnmatchcase(asset, self.match) for asset in assets)
            and (self.owner is None or self.owner in owners)
            and (self.domain is None or self.domain in domains)
        )


class DeliveryPolicy(_Strict):
    max_attempts: int = Field(default=12, ge=1, le=100)
    backoff_seconds: float = Field(default=2.0, gt=0)
    """Delay before the first retry; it doubles each attempt, with jitter."""
    max_backoff_seconds: float = Field(default=600.0, gt=0)
    rate_per_second: float = Field(default=50.0, gt=0)
    """Deliveries per second to any one destination (a burst of that many is allowed)."""
    timeout_seconds: float = Field(default=10.0, gt=0)


class AlertsFile(_Strict):
    version: int = Field(ge=1, le=1)
    console_url: str = Field(default="http://localhost:8000", pattern=r"^https?://")
    """Base URL links in messages point to."""
    escalate_after: str = "30m"
    """Delay before an unacknowledged firing alert goes to the next name on its owner's
    escalation list (and again after each step)."""
    judge_every: str = "1m"
    """How often `baton serve` judges what time alone changes: freshness SLAs, and the
    sign-offs open handoffs wait for."""
    recent_hours: int = Field(default=24, ge=1, le=24 * 30)
    """How far back upstream suspects (failed runs upstream) are looked for."""
    channels: Channels = Field(default_factory=Channels)
    fallback: list[Destination] = Field(default_factory=list)
    """Where alerts go when no owner in the routed role can be reached."""
    subscriptions: list[Subscription] = Field(default_factory=list)
    delivery: DeliveryPolicy = Field(default_factory=DeliveryPolicy)

    def secret_variables(self) -> dict[str, str]:
        """Environment variables the channels name -> the JSON path of the naming field."""
        channels = self.channels
        found = {
            w.secret_env: f"$.channels.webhooks.{k}.secret_env"
            for k, w in channels.webhooks.items()
        }
        found |= {
            s.webhook_url_env: f"$.channels.slack.{k}.webhook_url_env"
            for k, s in channels.slack.items()
        }
        found |= {
            p.routing_key_env: f"$.channels.pagerduty.{k}.routing_key_env"
            for k, p in channels.pagerduty.items()
        }
        if channels.email is not None:
            for name in ("username_env", "password_env"):
                variable = getattr(channels.email, name)
                if variable:
                    found[variable] = f"$.channels.email.{name}"
        return found

    @model_validator(mode="after")
    def _durations(self) -> AlertsFile:
        seconds(self.escalate_after)
        seconds(self.judge_every)
        return self


@dataclass(frozen=True)
class AlertSettings:
    """The file with its secrets resolved from the environment; secrets never in a repr."""

    file: AlertsFile
    source: str
    secrets: Mapping[str, str] = field(repr=False, default_factory=dict)
    """Environment variable name -> value, for the variables the channels name."""

    @classmethod
    def unconfigured(cls) -> AlertSettings:
        """No channels: alerts open, update and resolve, visible in the CLI, GraphQL and
        the console, but nothing is sent."""
        return cls(AlertsFile(version=1), "(no BATON_ALERTS)")

    @property
    def escalate_after(self) -> float:
        return seconds(self.file.escalate_after)

    def configured(self, destination: str) -> bool:
        """Whether a destination names a channel this file configures."""
        kind, _, name = destination.partition(":")
        channels = self.file.channels
        return {
            "webhook": name in channels.webhooks,
            "slack": name in channels.slack,
            "pagerduty": name in channels.pagerduty,
            "email": channels.email is not None and "@" in name,
        }.get(kind, False)

    def secret(self, variable: str | None) -> str | None:
        return self.secrets.get(variable) if variable else None

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced, for errors that may quote a URL."""
        for value in self.secrets.values():
            if value:
                text = text.replace(value, "[secret]")
        return text


def load(path: Path, environ: Mapping[str, str] | None = None) -> AlertSettings:
    """The alerting configuration in `path`; InvalidArgument listing every problem."""
    environ = os.environ if environ is None else environ
    source = path.as_posix()
    document, errors = read_yaml(path)
    parsed: AlertsFile | None = None
    if not errors:
        try:
            parsed = AlertsFile.model_validate(document)
        except ValidationError as invalid:
            errors = validation_errors(source, invalid)
    if parsed is not None:
        errors = _unknown_destinations(source, parsed) + _missing_secrets(source, parsed, environ)
    if errors or parsed is None:
        raise InvalidArgument("; ".join(str(e) for e in errors))
    variables = parsed.secret_variables()
    return AlertSettings(parsed, source, {v: environ[v] for v in variables if v in environ})


def _missing_secrets(
    source: str, parsed: AlertsFile, environ: Mapping[str, str]
) -> list[IngestError]:
    return [
        IngestError(source=source, field=where, message=f"environment variable {v} is not set")
        for v, where in parsed.secret_variables().items()
        if not environ.get(v)
    ]


def _unknown_destinations(source: str, parsed: AlertsFile) -> list[IngestError]:
    probe = AlertSettings(parsed, source)
    named = [(f"$.fallback[{i}]", d) for i, d in enumerate(parsed.fallback)]
    named += [
        (f"$.subscriptions[{i}].to[{j}]", d)
        for i, s in enumerate(parsed.subscriptions)
        if not s.mute
        for j, d in enumerate(s.to)
    ]
    return [
        IngestError(
            source=source,
            field=where,
            message=f"{destination!r} names no channel configured under `channels`",
        )
        for where, destination in named
        if not probe.configured(destination)
    ]
