"""Web: admission — how many requests run at once, per lane, so the pool never runs dry.

Every request the app serves (a page, the API, an export) holds at most one
database connection and one worker thread at a time. Requests are admitted by
lane: at most `web.concurrency` ordinary pages and API calls, at most
`web.heavy_concurrency` expensive ones (the PTL report and its exports, the
reviewer standing pages, which replay a cycle's history), and OPS_LANE
`/healthz` and `/metrics` probes, each lane separate so a burst of reports
cannot starve the cheap pages nor a health check. A request beyond its lane's
size waits on the event loop, holding neither a thread nor a connection, and
runs as soon as one of its lane finishes.

Identical anonymous GETs of a heavy page that arrive while the same page is
being computed share that one answer instead of queueing to compute it again
(request coalescing, as caching proxies do). Without `as_of` the shared answer
is "now" as of the computation that was already running: at most one
computation older than the request, and the page says when it was computed.

The engine's pool (Config.web_pool_size) is the sum of the lanes plus a
reserve, so no admitted request ever waits on the pool; the worker thread pool
is the same size, so no request holding a connection waits for a thread to
hand it back (the lock-up the pool of 15 under 40 threads caused).
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reviewbot.config import OPS_LANE, POOL_RESERVE, Config

HEAVY_PREFIXES = ("/priorities", "/report.", "/api/v1/report", "/reviewers",
                  "/api/v1/reviewers")
OPS_PATHS = ("/healthz", "/metrics")
FREE_PREFIXES = ("/static/",)  # files from disk: no database, no lane


def lane_of(path: str) -> str | None:
    """The lane a request path is admitted through (None: no lane needed)."""
    if path.startswith(FREE_PREFIXES):
        return None
    if path in OPS_PATHS:
        return "ops"
    if path.startswith(HEAVY_PREFIXES):
        return "heavy"
    return "pages"


def lane_sizes(config: Config) -> dict[str, int]:
    return {"pages": config.web.concurrency, "heavy": config.web.heavy_concurrency,
            "ops": OPS_LANE}


def thread_tokens(config: Config) -> int:
    """Worker threads: one per admitted request, plus the reserve's background work."""
    return config.web_lanes_total + POOL_RESERVE


def _shared_key(scope: Scope) -> tuple | None:
    """Requests that may share one answer: the same anonymous GET of the same URL.

    The heavy pages read neither cookies nor credentials; a request carrying an
    Authorization header is never shared all the same.
    """
    if scope.get("method") not in ("GET", "HEAD"):
        return None
    headers = dict(scope.get("headers") or [])
    if b"authorization" in headers:
        return None
    return (scope["method"], scope["path"], scope.get("query_string", b""),
            headers.get(b"accept", b""), headers.get(b"accept-encoding", b""))


class _Answer:
    """One response as it was sent, for the requests that waited on the same computation."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.messages: list[Message] = []
        self.complete = False

    def recording(self, send: Send) -> Send:
        async def record(message: Message) -> None:
            self.messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.complete = True
            await send(message)
        return record


class Admission:
    """ASGI middleware: admit each HTTP request through its lane's limiter."""

    def __init__(self, app: ASGIApp, config: Config) -> None:
        self.app = app
        self.sizes = lane_sizes(config)
        self.tokens = thread_tokens(config)
        self._limiters: dict[str, anyio.CapacityLimiter] | None = None
        self._in_flight: dict[tuple, _Answer] = {}

    def _lanes(self) -> dict[str, anyio.CapacityLimiter]:
        # Made on the server's event loop at the first request (uvicorn may run without a
        # lifespan, as the demo does), together with the thread pool's size.
        if self._limiters is None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.tokens
            self._limiters = {name: anyio.CapacityLimiter(size)
                              for name, size in self.sizes.items()}
        return self._limiters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = lane_of(scope.get("path", "")) if scope["type"] == "http" else None
        if lane is None:
            await self.app(scope, receive, send)
            return
        key = _shared_key(scope) if lane == "heavy" else None
        if key is None:
            async with self._lanes()[lane]:
                await self.app(scope, receive, send)
            return
        while (waiting := self._in_flight.get(key)) is not None:
            # The same report is being computed: share its answer (a failed or cut-off
            # one is not shared; this request then computes its own).
            await waiting.done.wait()
            if waiting.complete:
                for message in waiting.messages:
                    await send(message)
                return
        answer = _Answer()
        self._in_flight[key] = answer
        try:
            async with self._lanes()[lane]:
                await self.app(scope, receive, answer.recording(send))
        finally:
            del self._in_flight[key]
            answer.done.set()
