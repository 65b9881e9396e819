"""Configuration: the declarative TOML sections, one pydantic model per table.

The matchers and branch policies are in matching.py, the [[team]] blocks in teams.py.
"""

from __future__ import annotations

import fnmatch
import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


# The base of every section: a key the model does not declare is an error, not ignored.
class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_glob(pattern: str) -> str:
    if not pattern:
        raise ValueError("empty glob")
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise ValueError(f"glob {pattern!r} has an unclosed '['")
    re.compile(fnmatch.translate(pattern))
    return pattern


class GerritSection(Section):
    url: str = "https://review.opendev.org"
    projects: list[str] = []  # required unless [[team]] blocks list the projects
    branches: list[str] = ["master"]
    core_group: str = ""
    bot_group: str = "Service Users"
    bot_accounts: list[str] = []
    page_size: int = Field(default=500, ge=1, le=10000)
    timeout: float = Field(default=30.0, gt=0)
    retries: int = Field(default=4, ge=0, le=10)
    slack_seconds: int = Field(default=300, ge=0)
    reconcile_every: int = Field(default=12, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


SCHEMES = ("sqlite", "postgresql", "postgres", "postgresql+psycopg")
CREATED_FOLDER = Path("data")  # the default data folder: a store under it may create it


def sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL (None: not SQLite, or in memory)."""
    if not url.startswith("sqlite:///") or url.startswith("sqlite:///:memory:"):
        return None
    return Path(url[len("sqlite:///"):]).expanduser()


def sqlite_folder_problem(url: str) -> str | None:
    """Why the SQLite file's folder cannot be used, or None.

    A missing folder is created only under the default data/ folder: anywhere else it is
    a typo more often than a wish, and creating it would put the store where nobody looks.
    """
    path = sqlite_file(url)
    if path is None or path.parent.is_dir():
        return None
    if not path.is_absolute() and path.parts[:1] == CREATED_FOLDER.parts:
        return None
    if path.parent.exists():
        return f"{str(path.parent)!r} is not a folder"
    return (f"the folder {str(path.parent)!r} does not exist; create it first (only a "
            f"store under {CREATED_FOLDER}/ gets its folder made)")


class DatabaseSection(Section):
    url: str = "sqlite:///reviewbot.db"
    # Connections the web process may hold at once; None: exactly what [web] needs
    # (Config.web_pool_size). Command-line tools and the worker keep SQLAlchemy's default.
    pool_size: int | None = Field(default=None, ge=1, le=1000)
    # A request that still finds every connection taken answers 503 after this long,
    # instead of waiting on the pool for ever.
    pool_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        scheme = value.partition(":")[0].lower() if "://" in value else ""
        if scheme not in SCHEMES:
            # Only the scheme is named: the rest of a URL may carry a password.
            raise ValueError(f"{'scheme ' + repr(scheme) if scheme else 'this'} is not a "
                             "supported database: use sqlite:///PATH or "
                             "postgresql://USER@HOST:PORT/NAME")
        if scheme == "sqlite" and not (value.startswith("sqlite:///") or value == "sqlite://"):
            raise ValueError("a SQLite URL is sqlite:///relative/path.db or "
                             "sqlite:////absolute/path.db")
        problem = sqlite_folder_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class LaunchpadSection(Section):
    enabled: bool = False
    service_root: str = "production"
    project: str = ""
    cache_ttl: int = Field(default=86400, ge=0)
    timeout: float = Field(default=10.0, gt=0)
    deadline_seconds: float = Field(default=60.0, gt=0)


class CycleSection(Section):
    name: str
    start: date
    end: date
    feature_freeze: date | None = None
    rc: date | None = None  # first release candidate
    release: date | None = None
    milestones: dict[str, date] = {}

    @model_validator(mode="after")
    def _order(self) -> CycleSection:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        # The schedule runs start <= feature freeze <= RC <= release <= end; a date out of
        # that order is a typo that would make the freeze begin at the wrong time.
        named = [("start", self.start), ("feature_freeze", self.feature_freeze),
                 ("rc", self.rc), ("release", self.release), ("end", self.end)]
        given = [(k, d) for k, d in named if d is not None]
        for (k1, d1), (k2, d2) in zip(given, given[1:], strict=False):
            if d2 < d1:
                raise ValueError(f"{k2} ({d2}) must not be before {k1} ({d1})")
        return self


class FreezeSection(Section):
    """After `cycle.feature_freeze`, non-priority feature work leaves the core queue."""

    enabled: bool = False
    exception_hashtag: str = "ffe"
    bug_tags: list[str] = []  # Launchpad tags marking release-critical bugs

    @field_validator("exception_hashtag")
    @classmethod
    def _hashtag(cls, value: str) -> str:
        if "," in value or not value.strip() or value != value.strip():
            raise ValueError("must be one hashtag: not empty, no commas or surrounding spaces")
        return value


class WritebackSection(Section):
    enabled: bool = False
    dry_run: bool = True
    priority_hashtag: str = "review-priority"
    gated_hashtag: str = "needs-noncore-review"
    priority_hashtag_prefix: str = "priority-"
    gated_message: bool = False
    gated_message_text: str = (
        "This change is not one of the cycle's review priorities, so the core reviewers "
        "will look at it once a non-core reviewer has +1'd the current patch set. "
        "Reviews from anyone are welcome."
    )

    @field_validator("priority_hashtag", "gated_hashtag", "priority_hashtag_prefix")
    @classmethod
    def _no_commas(cls, value: str) -> str:
        if "," in value or not value.strip():
            raise ValueError("hashtags may not be empty or contain commas")
        return value


class Criteria(Section):
    min_reviews: int | None = Field(default=None, ge=0)
    max_disagreement_ratio: float | None = Field(default=None, ge=0, le=1)
    min_minus1_catch_rate: float | None = Field(default=None, ge=0, le=1)
    min_thoughtful_minus1: int | None = Field(default=None, ge=0)
    min_months_active: float | None = Field(default=None, ge=0)
    min_priority_share: float | None = Field(default=None, ge=0, le=1)
    min_plus1_precision: float | None = Field(default=None, ge=0, le=1)
    min_gate_opens: int | None = Field(default=None, ge=0)


class StandingSection(Section):
    window_days: int = Field(default=180, ge=1)
    # Evidence first: a ratio criterion needs this many reviews behind it to be met.
    min_evidence: int = Field(default=20, ge=1)
    criteria: Criteria = Criteria()


class CoreHistoryEntry(Section):
    username: str
    joined: date
    left: date | None = None

    @model_validator(mode="after")
    def _order(self) -> CoreHistoryEntry:
        if self.left is not None and self.left < self.joined:
            raise ValueError("left must not be before joined")
        return self


class ReportSection(Section):
    stale_days: int = Field(default=14, ge=1)


class WorkerSection(Section):
    poll_seconds: int = Field(default=300, ge=5)
    # The leader's lease: renewed every third of it; a frozen leader is replaced
    # within about this long (see leadership.py).
    lease_seconds: int = Field(default=60, ge=3)


class WebSection(Section):
    gerrit_link_base: str | None = None
    # Requests served at once, per lane (dashboards.admission): each holds at most one
    # database connection and one thread; the rest wait their turn holding neither.
    # Python threads share one interpreter lock: past a few CPU-bound requests at once, more
    # only slows each (bench/web_load.py: 8+2 served as many requests as 16+4, faster).
    concurrency: int = Field(default=8, ge=1, le=500)
    heavy_concurrency: int = Field(default=2, ge=1, le=100)  # report and standing pages
    # Server processes (uvicorn workers); each has its own lanes and pool, so the database
    # sees up to workers x database pool connections.
    workers: int = Field(default=1, ge=1, le=64)
    # How long an idle client connection stays open. Longer than a proxy's or a busy
    # client's idle time (nginx and cloud load balancers: 60 s), so nobody sends a request
    # on a connection the server is closing at that instant (uvicorn's own default is 5 s).
    keep_alive_seconds: int = Field(default=75, ge=1, le=3600)


# Connections a web process needs besides its lanes: /healthz and /metrics (their own lane
# of OPS_LANE), the queue cache's change watcher, a webhook refresh or admin cycle.
OPS_LANE = 2
POOL_RESERVE = 3


class SmtpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=25, ge=1, le=65535)
    sender: str | None = None
    username: str | None = None  # the password comes from REVIEWBOT_SMTP_PASSWORD
    starttls: bool = False
    timeout: float = Field(default=30.0, gt=0)


class MatrixSettings(Section):
    homeserver: str | None = None  # the token comes from REVIEWBOT_MATRIX_TOKEN
    timeout: float = Field(default=30.0, gt=0)

    @field_validator("homeserver")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


class DigestSubscriber(Section):
    username: str = Field(min_length=1)
    email: str | None = None
    matrix_room: str | None = None
    daily: bool = True
    weekly: bool = False
    team: str | None = None  # whose queues and report (a [[team]] name); default the first

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("matrix_room")
    @classmethod
    def _room(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[!#][^:\s]+:\S+", value):
            raise ValueError(f"{value!r} is not a Matrix room id (!id:server) or alias "
                             "(#name:server)")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> DigestSubscriber:
        if not self.email and not self.matrix_room:
            raise ValueError("needs an email or a matrix_room to send the digest to")
        return self


class DigestSection(Section):
    """Daily per-core digests and the weekly PTL summary: off unless enabled, opt-in."""

    enabled: bool = False
    dashboard_url: str | None = None  # where the links in a digest point
    weekly_day: int = Field(default=0, ge=0, le=6)  # 0 = Monday
    top: int = Field(default=5, ge=1, le=50)
    smtp: SmtpSettings = SmtpSettings()
    matrix: MatrixSettings = MatrixSettings()
    subscribers: list[DigestSubscriber] = []

    @model_validator(mode="after")
    def _channels(self) -> DigestSection:
        seen: set[str] = set()
        for i, sub in enumerate(self.subscribers):
            if sub.username in seen:
                raise ValueError(f"subscribers[{i}].username: {sub.username!r} is listed twice")
            seen.add(sub.username)
            if sub.email and not self.smtp.sender:
                raise ValueError(f"subscribers[{i}].email: needs digest.smtp.sender (the From "
                                 "address)")
            if sub.matrix_room and not self.matrix.homeserver:
                raise ValueError(f"subscribers[{i}].matrix_room: needs digest.matrix.homeserver")
        return self
