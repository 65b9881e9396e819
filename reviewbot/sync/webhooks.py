"""Webhook hint: authenticate a Gerrit event and read which change it names.

An event is only a hint. Nothing of its payload goes into the store but the
change number: the web records a sync hint (reviewbot.service.hints) and the leading
worker re-fetches that change from Gerrit with the sync's own refresh function
and re-evaluates it, so a forged or malformed event can at most cause one
extra read.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from reviewbot.config import Config

# Gerrit event types (stream-events and the webhooks plugin) after which a change's
# review state may differ. Anything else is acknowledged and ignored.
HANDLED_EVENTS = frozenset({
    "patchset-created",
    "comment-added",
    "change-merged",
    "change-abandoned",
    "hashtags-changed",
    "wip-state-changed",
})

MAX_BODY_BYTES = 1_000_000  # a real event is a few kB; anything huge is not one


class MalformedEvent(ValueError):
    """The body is not a Gerrit event we can read; the message says what is wrong."""


@dataclass(frozen=True)
class ChangeHint:
    """The only facts taken from an event: its type and which change it names."""

    type: str
    number: int
    project: str


@dataclass(frozen=True)
class IgnoredEvent:
    type: str
    reason: str


def secret_matches(configured: SecretStr, presented: str | None) -> bool:
    """Constant-time comparison, so response timing reveals nothing about the secret."""
    if presented is None:
        return False
    return hmac.compare_digest(configured.get_secret_value().encode("utf-8"),
                               presented.encode("utf-8"))


def presented_secret(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The secret a caller sent: `Authorization: Bearer S`, `X-Reviewbot-Secret: S` or `?secret=S`.

    The query form exists because Gerrit's webhooks plugin cannot send custom
    headers; it puts the secret into Gerrit's config and access logs, so prefer
    the headers (e.g. through a proxy that adds them) where you can.
    """
    auth = headers.get("authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    header = headers.get("x-reviewbot-secret")
    if header:
        return header.strip()
    return query.get("secret")


def _project_name(value: object) -> str | None:
    # stream-events sends a string; the webhooks plugin serialises Project.NameKey
    # as an object {"name": ...}.
    if isinstance(value, str):
        return value
    name = value.get("name") if isinstance(value, dict) else None
    return name if isinstance(name, str) else None


def _change_number(value: object) -> int:
    # Some older servers sent numbers as strings; accept those, nothing else.
    if isinstance(value, bool):
        raise MalformedEvent("change.number must be a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise MalformedEvent("change.number is missing or not a number")
    if number <= 0:
        raise MalformedEvent("change.number must be positive")
    return number


def parse_event(body: bytes, config: Config) -> ChangeHint | IgnoredEvent:
    """Read an event body. MalformedEvent when it is not a readable Gerrit change event."""
    if len(body) > MAX_BODY_BYTES:
        raise MalformedEvent(f"body is larger than {MAX_BODY_BYTES} bytes")
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise MalformedEvent("body must be a JSON object")
    kind = event.get("type")
    if not isinstance(kind, str) or not kind:
        raise MalformedEvent("'type' is missing")
    if kind not in HANDLED_EVENTS:
        return IgnoredEvent(kind, f"event type {kind!r} is not one reviewbot acts on")
    change = event.get("change")
    if not isinstance(change, dict):
        raise MalformedEvent(f"{kind}: 'change' object is missing")
    number = _change_number(change.get("number"))
    project = _project_name(change.get("project")) or _project_name(event.get("project"))
    if not project:
        raise MalformedEvent(f"{kind}: change.project is missing")
    if project not in config.gerrit.projects:
        return IgnoredEvent(kind, f"project {project!r} is not configured")
    return ChangeHint(kind, number, project)
