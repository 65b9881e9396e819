"""Digest: compose each subscriber's digest of the day at T — the daily core digest and the
weekly PTL summary — and render it as Markdown and plain text (Jinja templates).

Composing reads the store only through the queues (`queue_view.queue_for`), the PTL
report (`reporting.report_as_of`) and the trends (`trends.queue_size_at`), so a digest
says exactly what the dashboard says at the same time. Sending is `digest_send`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlmodel import Session

from reviewbot.clock import full_days
from reviewbot.config import Config, DigestSubscriber
from reviewbot.metrics.queue import QueueItem
from reviewbot.metrics.report import STATES, ReportChange
from reviewbot.store.queue_reads import find_reviewer
from reviewbot.views.queue_view import queue_for
from reviewbot.views.reporting import report_as_of
from reviewbot.views.trends import queue_size_at

TEMPLATES = Path(__file__).resolve().parent / "digest_templates"
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                   autoescape=False, keep_trailing_newline=True, trim_blocks=True,
                   lstrip_blocks=True)


def _md(text: str) -> str:
    """Subjects are people's text: keep them from turning into Markdown links or emphasis."""
    for ch in "\\`*_[]<>|#":
        text = text.replace(ch, "\\" + ch)
    return text


_ENV.filters["md"] = _md


@dataclass(frozen=True, slots=True)
class DigestItem:
    number: int
    subject: str
    project: str
    priority: str | None
    score: int | None
    wait_days: int
    dashboard_url: str | None
    gerrit_url: str


@dataclass(frozen=True, slots=True)
class DailyDigest:
    """A reviewer's queue today: counts, the oldest wait, the top changes."""

    kind: str  # core | first-crack
    total: int
    priority: int
    oldest_days: int | None
    items: tuple[DigestItem, ...]
    queue_url: str | None

    def line(self) -> str:
        if self.kind == "first-crack":
            head = (f"your first-crack queue today: {self.total} gated change"
                    f"{'' if self.total == 1 else 's'} waiting for a non-core +1")
        else:
            head = (f"your queue today: {self.priority} priority change"
                    f"{'' if self.priority == 1 else 's'}, {self.total} open to you")
        if self.oldest_days is not None:
            head += f"; oldest waits {self.oldest_days} day{'' if self.oldest_days == 1 else 's'}"
        return head


@dataclass(frozen=True, slots=True)
class DigestPriorityRow:
    title: str
    open: int
    merged: int
    abandoned: int
    states: dict[str, int]
    stale: int


@dataclass(frozen=True, slots=True)
class WeeklySummary:
    """The PTL report's summary table and what changed since a week before T."""

    since: datetime
    rows: tuple[DigestPriorityRow, ...]
    merged: tuple[DigestItem, ...]  # merged in the week
    newly_stale: tuple[DigestItem, ...]  # stale at T, not a week before
    queue_size: int
    queue_size_before: int
    report_url: str | None

    @property
    def queue_change(self) -> str:
        delta = self.queue_size - self.queue_size_before
        return f"{delta:+d}" if delta else "unchanged"


@dataclass
class Digest:
    """One person's one digest of the day (daily part, weekly part, or both)."""

    digest_id: str
    username: str
    day: date
    as_of: datetime
    cycle: str
    daily: DailyDigest | None = None
    weekly: WeeklySummary | None = None
    problem: str | None = None  # why it could not be composed (unknown user)
    markdown: str = ""
    text: str = ""
    subject: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def kinds(self) -> str:
        return "+".join(k for k, part in (("daily", self.daily), ("weekly", self.weekly))
                        if part is not None)

    def as_json(self) -> dict[str, Any]:
        return {"digest_id": self.digest_id, "username": self.username,
                "day": self.day.isoformat(), "as_of": self.as_of.isoformat(),
                "kinds": self.kinds, "subject": self.subject, "problem": self.problem,
                "daily": asdict(self.daily) if self.daily else None,
                "weekly": _weekly_json(self.weekly) if self.weekly else None,
                "markdown": self.markdown, "text": self.text, "results": self.results}


def _weekly_json(w: WeeklySummary) -> dict[str, Any]:
    data = asdict(w)
    data["since"] = w.since.isoformat()
    return data


def digest_id(username: str, day: date) -> str:
    """The digest's identity: one per person per UTC day (the Matrix txnId derives from it)."""
    return f"digest:{username}:{day.isoformat()}"


def is_weekly_day(config: Config, at: datetime) -> bool:
    return at.weekday() == config.digest.weekly_day


def _links(config: Config, project: str, number: int) -> tuple[str | None, str]:
    base = config.digest.dashboard_url.rstrip("/") if config.digest.dashboard_url else None
    return (f"{base}/changes/{number}" if base else None,
            f"{config.gerrit_web_base}/c/{project}/+/{number}")


def daily_digest(session: Session, config: Config, username: str, at: datetime,
                 *, present: bool = False) -> DailyDigest | None:
    """The reviewer's queue at T as a digest (None: no such account synced). `present`:
    T is now, so the queue is the stored present's (no replay), as `/queue` shows it."""
    reviewer = find_reviewer(session, username)
    if reviewer is None:
        return None
    answer = queue_for(session, config, reviewer, None if present else at, now=at)
    rows = answer.rows
    waits = [full_days(r.item.uploaded, at) for r in rows if r.item.uploaded]
    items = []
    for row in rows[:config.digest.top]:
        item, summary = row.item, row.summary
        dash, gerrit = _links(config, summary.project, item.number)
        core_item = item if isinstance(item, QueueItem) else None
        items.append(DigestItem(
            item.number, summary.subject, summary.project,
            core_item.priority if core_item else None, core_item.score if core_item else None,
            full_days(item.uploaded, at) if item.uploaded else 0, dash, gerrit))
    base = config.digest.dashboard_url.rstrip("/") if config.digest.dashboard_url else None
    return DailyDigest(
        answer.kind, answer.total,
        sum(1 for r in rows if isinstance(r.item, QueueItem) and r.item.priority),
        max(waits) if waits else None, tuple(items),
        f"{base}/queue?reviewer={reviewer.label}" if base else None)


def weekly_summary(session: Session, config: Config, at: datetime) -> WeeklySummary:
    """The report's summary table at T, and what changed since T minus 7 days."""
    since = at - timedelta(days=7)
    now_report = report_as_of(session, config, at)
    before = report_as_of(session, config, since)
    stale_before = {r.number for r in before.rows if r.stale}
    rows = tuple(DigestPriorityRow(p.title, p.open, p.merged, p.abandoned, dict(p.states),
                            len(p.stale)) for p in [*now_report.priorities, now_report.other])

    def item(r: ReportChange) -> DigestItem:
        dash, gerrit = _links(config, r.project, r.number)
        return DigestItem(r.number, r.subject, r.project,
                          r.priorities[0] if r.priorities else None, None,
                          int(r.wait_days or 0), dash, gerrit)

    merged = tuple(item(r) for r in now_report.rows
                   if r.status == "merged" and r.closed is not None and since < r.closed <= at)
    stale = tuple(item(r) for r in now_report.rows if r.stale and r.number not in stale_before)
    base = config.digest.dashboard_url.rstrip("/") if config.digest.dashboard_url else None
    return WeeklySummary(since, rows, merged, stale, queue_size_at(session, config, at),
                         queue_size_at(session, config, since),
                         f"{base}/priorities" if base else None)


def compose(session: Session, config: Config, subscriber: DigestSubscriber, at: datetime,
            weekly: WeeklySummary | None = None, *, present: bool = False) -> Digest | None:
    """The subscriber's digest of T's day, rendered; None when they get nothing that day.
    `weekly` is the week's summary when the caller already built it (it is everyone's)."""
    wants_weekly = subscriber.weekly and is_weekly_day(config, at)
    if not subscriber.daily and not wants_weekly:
        return None
    digest = Digest(digest_id(subscriber.username, at.date()), subscriber.username, at.date(),
                    at, config.cycle.name)
    if subscriber.daily:
        digest.daily = daily_digest(session, config, subscriber.username, at,
                                    present=present)
        if digest.daily is None:
            digest.problem = (f"no Gerrit account {subscriber.username!r} has been synced "
                              "(check digest.subscribers username)")
            return digest
    if wants_weekly:
        digest.weekly = weekly or weekly_summary(session, config, at)
    render(digest)
    return digest


def render(digest: Digest) -> None:
    """Fill the digest's subject, Markdown and plain text from the templates."""
    context = {"d": digest, "states": STATES}
    digest.subject = _ENV.get_template("subject.j2").render(context).strip()
    digest.markdown = _ENV.get_template("digest.md.j2").render(context)
    digest.text = _ENV.get_template("digest.txt.j2").render(context)
