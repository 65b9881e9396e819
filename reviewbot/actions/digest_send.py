"""Digest step: send each subscriber's digest of the day by SMTP and/or to a Matrix room,
at most one per person per UTC day and channel, each logged like a write-back.

Off unless `digest.enabled`; `dry_run` composes and logs `planned` without sending.
Secrets come from the environment only (REVIEWBOT_SMTP_PASSWORD, REVIEWBOT_MATRIX_TOKEN).
The Matrix txnId derives from the digest id, so a retry after a lost answer posts once.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col
from urllib3.util.retry import Retry

from reviewbot.actions.digest import Digest, compose, is_weekly_day, weekly_summary
from reviewbot.clock import utcnow
from reviewbot.config import Config, DigestSubscriber, Secrets, secret_value
from reviewbot.store import session_scope
from reviewbot.store.tables import DigestLog

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A digest could not be delivered; the message says why (no secret in it)."""


@dataclass
class DigestRun:
    as_of: datetime
    dry_run: bool
    digests: list[Digest] = field(default_factory=list)
    sent: int = 0
    planned: int = 0
    skipped: int = 0  # already sent today on that channel
    failed: int = 0

    def summary(self) -> str:
        mode = "dry run: " if self.dry_run else ""
        return (f"{mode}digests as of {self.as_of:%Y-%m-%d %H:%M} UTC: {self.sent} sent, "
                f"{self.planned} planned, {self.skipped} already sent today, "
                f"{self.failed} failed")

    def as_json(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "dry_run": self.dry_run, "sent": self.sent,
                "planned": self.planned, "skipped": self.skipped, "failed": self.failed,
                "digests": [d.as_json() for d in self.digests]}


def channels(subscriber: DigestSubscriber) -> list[tuple[str, str]]:
    out = []
    if subscriber.email:
        out.append(("email", subscriber.email))
    if subscriber.matrix_room:
        out.append(("matrix", subscriber.matrix_room))
    return out


def matrix_txn_id(digest_id: str, room: str) -> str:
    """Same digest, same room -> same txnId: the homeserver then stores the event once."""
    return "reviewbot-" + hashlib.sha256(f"{digest_id}|{room}".encode()).hexdigest()[:32]


def send_email(config: Config, secrets: Secrets, to: str, digest: Digest) -> str:
    smtp = config.digest.smtp
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = smtp.sender or ""
    message["To"] = to
    message["Message-ID"] = make_msgid(idstring=digest.digest_id.replace(":", "."))
    message.set_content(digest.text)
    # The Markdown rendering as an alternative part (RFC 7763), for clients that show it.
    message.add_alternative(digest.markdown, subtype="markdown")
    if smtp.username and not secrets.smtp_password:
        raise DeliveryError("digest.smtp.username is set but REVIEWBOT_SMTP_PASSWORD is not")
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, secret_value(secrets.smtp_password) or "")
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP refused {', '.join(refused)}")
    return str(message["Message-ID"])


def _matrix_session() -> requests.Session:
    session = requests.Session()
    # A PUT with the same txnId is idempotent (the Matrix spec), so retrying it is safe.
    retry = Retry(total=3, connect=2, read=2, status=2, backoff_factor=0.2,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods={"PUT"},
                  respect_retry_after_header=True)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


def send_matrix(config: Config, secrets: Secrets, room: str, digest: Digest) -> str:
    matrix = config.digest.matrix
    if not secrets.matrix_token:
        raise DeliveryError("REVIEWBOT_MATRIX_TOKEN is not set")
    txn = matrix_txn_id(digest.digest_id, room)
    url = (f"{matrix.homeserver}/_matrix/client/v3/rooms/{quote(room, safe='')}/send/"
           f"m.room.message/{txn}")
    body = {"msgtype": "m.notice", "body": digest.markdown}
    try:
        with _matrix_session() as session:
            token = secret_value(secrets.matrix_token)
            response = session.put(url, json=body, timeout=matrix.timeout,
                                   headers={"Authorization": f"Bearer {token}"})
    except requests.RequestException as exc:
        raise DeliveryError(f"Matrix {matrix.homeserver}: {type(exc).__name__}") from None
    if response.status_code != 200:
        try:
            problem = response.json().get("error") or response.text[:200]
        except ValueError:
            problem = response.text[:200]
        raise DeliveryError(f"Matrix answered {response.status_code}: {problem}")
    try:
        return str(response.json().get("event_id") or txn)
    except ValueError:
        return txn


def already_sent(engine: Engine, username: str, day: date, channel: str) -> bool:
    with session_scope(engine) as session:
        return session.execute(select(col(DigestLog.id)).where(
            col(DigestLog.username) == username, col(DigestLog.day) == day,
            col(DigestLog.channel) == channel, col(DigestLog.result) == "sent").limit(1)).first() \
            is not None


def _log(engine: Engine, digest: Digest, channel: str, destination: str, result: str,
         reason: str, error: str | None = None, detail: dict[str, Any] | None = None) -> None:
    with session_scope(engine) as session:
        session.add(DigestLog(
            digest_id=digest.digest_id, username=digest.username, day=digest.day,
            kinds=digest.kinds or "-", channel=channel, destination=destination, result=result,
            reason=reason, error=error, detail=detail or {}, created=utcnow()))
    digest.results.append({"channel": channel, "destination": destination, "result": result,
                           "reason": reason, "error": error})


def run_digests(engine: Engine, config: Config, secrets: Secrets, at: datetime | None = None,
                *, dry_run: bool = False, log_results: bool = True) -> DigestRun:
    """Compose every subscriber's digest of T's day and send (or plan) it on each channel
    it has not been sent on today. `log_results=False` (a preview as of a past date)
    writes nothing to the store."""
    present = at is None  # the worker's step: the stored present answers, nothing replayed
    at = at or utcnow()
    run = DigestRun(at, dry_run)
    weekly = None
    for subscriber in config.digest.subscribers:
        with session_scope(engine) as session:
            if weekly is None and subscriber.weekly and is_weekly_day(config, at):
                weekly = weekly_summary(session, config, at)
            digest = compose(session, config, subscriber, at, weekly, present=present)
        if digest is None:
            continue
        run.digests.append(digest)
        for channel, destination in channels(subscriber):
            reason = f"{digest.kinds or 'digest'} digest of {digest.day} for {subscriber.username}"
            if not log_results:
                digest.results.append({"channel": channel, "destination": destination,
                                       "result": "preview", "reason": reason, "error": None})
                run.planned += 1
                continue
            if already_sent(engine, subscriber.username, digest.day, channel):
                run.skipped += 1
                digest.results.append({"channel": channel, "destination": destination,
                                       "result": "skipped", "error": None,
                                       "reason": "already sent today (one digest a day)"})
                continue
            if digest.problem:
                run.failed += 1
                _log(engine, digest, channel, destination, "failed", reason, digest.problem)
                continue
            if dry_run:
                run.planned += 1
                _log(engine, digest, channel, destination, "planned", reason,
                     detail={"subject": digest.subject})
                continue
            try:
                sent_id = (send_email if channel == "email" else send_matrix)(
                    config, secrets, destination, digest)
            except DeliveryError as exc:
                log.warning("digest %s to %s failed: %s", digest.digest_id, channel, exc)
                run.failed += 1
                _log(engine, digest, channel, destination, "failed", reason, str(exc))
                continue
            run.sent += 1
            _log(engine, digest, channel, destination, "sent", reason,
                 detail={"subject": digest.subject, "id": sent_id})
    return run
