"""Sandbox Gerrit server: a real threaded HTTP server in front of the endpoints a bot uses.

A real `http.server.ThreadingHTTPServer` on a port of its own in a daemon
thread (the Zuul fake-Gerrit model), so production code (pygerrit2 +
requests) runs unchanged against it. Every request is recorded; faults
injected with `inject_fault` answer the next matching requests
(transport.py does the recording and the damage). This module is the sandbox's
front: lifecycle, request log, faults, authentication and routing; the endpoints
answer in rest_changes.py (/changes/) and rest_accounts.py (/groups/, /accounts/),
the web pages in pages.py.
"""

from __future__ import annotations

import base64
import contextlib
import random
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import unquote

from reviewbot.clock import utcnow
from reviewbot.sandbox.model import Account, Change
from reviewbot.sandbox.pages import change_page, change_path, dashboard_page
from reviewbot.sandbox.query_tokens import QueryError
from reviewbot.sandbox.render import change_bytes
from reviewbot.sandbox.rest_accounts import accounts_endpoint, groups_endpoint
from reviewbot.sandbox.rest_changes import change_endpoint, find_change, query_changes
from reviewbot.sandbox.state import State
from reviewbot.sandbox.transport import (
    FAULT_KINDS,
    VERSION,
    Fault,
    GerritHandler,
    HttpError,
    RecordedRequest,
    Reply,
    json_reply,
    text_reply,
)

if TYPE_CHECKING:
    from reviewbot.sandbox.activity import Activity

__all__ = ["FAULT_KINDS", "SYNC_OPTIONS", "VERSION", "RecordedRequest", "SandboxGerrit"]

# What `reviewbot sync` asks for (issue 2): pre-rendered by `prewarm()`.
SYNC_OPTIONS = frozenset(
    {
        "DETAILED_LABELS",
        "DETAILED_ACCOUNTS",
        "MESSAGES",
        "ALL_REVISIONS",
        "CURRENT_COMMIT",
        "CURRENT_FILES",
    }
)

# Web URLs: /c/<project>/+/<n>[/<patch set>[/<file>]] and the short /<n>.
_WEB_CHANGE = re.compile(r"/c/(?P<project>.+?)/\+/(?P<num>\d+)(?:/\d+(?:/.*)?)?/?")
_WEB_NUMBER = re.compile(r"/(?P<num>\d+)/?")


def _html(body: bytes) -> Reply:
    return Reply(200, body, "text/html; charset=UTF-8")


class SandboxGerrit(State):
    """Gerrit REST emulator: State + HTTP server + request log + fault switches."""

    def __init__(self, *, now: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.now = now or utcnow
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.fault_random = random.Random(0)
        self.version_string = VERSION
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # /changes/ matches per (query, user), good while `version` holds (rest_changes.py).
        self.query_cache: dict[tuple[str, str | None], tuple[int, list[Change], int | None]] = {}
        self._activity: Activity | None = None
        self.url: str | None = None

    # ---- lifecycle -------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        if self._server is not None and self.url is not None:
            return self.url
        sandbox = self

        class Handler(GerritHandler):
            gerrit = sandbox

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="sandbox-gerrit",
            daemon=True,
        )
        self._thread.start()
        bound_host = server.server_address[0]  # an IPv4 socket's address: (str, port)
        if isinstance(bound_host, bytes):
            bound_host = bound_host.decode()
        self.url = f"http://{bound_host}:{server.server_port}"
        return self.url

    def stop(self) -> None:
        self.stop_activity()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._thread = None

    @contextlib.contextmanager
    def running(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        url = self.start(port=port, host=host)
        try:
            yield url
        finally:
            self.stop()

    def prewarm(self, options: Iterable[str] = SYNC_OPTIONS) -> int:
        """Render every change for `options` ahead of the first query (benchmarks, demo).

        Holds the lock per change only, so the server keeps answering meanwhile.
        Returns how many changes were rendered.
        """
        opts = frozenset(options)
        with self.lock:
            numbers = list(self.changes)
        done = 0
        for number in numbers:
            with self.lock:
                change = self.changes.get(number)
                if change is not None:
                    change_bytes(self, change, opts)
                    done += 1
        return done

    def start_activity(self, every_seconds: float = 3.0, seed: int = 0) -> None:
        from reviewbot.sandbox.activity import Activity

        self.stop_activity()
        activity = Activity(self, every_seconds=every_seconds, seed=seed)
        self._activity = activity
        activity.start()

    def stop_activity(self) -> None:
        if self._activity is not None:
            self._activity.stop()
            self._activity = None

    # ---- request log and faults ------------------------------------------------------

    def clear_requests(self) -> None:
        with self.lock:
            self.requests.clear()

    def inject_fault(
        self,
        kind: str,
        *,
        count: int = 1,
        path_contains: str | None = None,
        status: int = 503,
        retry_after: str | int | None = None,
        delay: float = 0.0,
        method: str | None = None,
        chance: float | None = None,
    ) -> None:
        """Answer the next `count` matching requests with a fault (see FAULT_KINDS).

        A request matches when its path and query contain `path_contains` and, if
        given, its method is `method`. With `chance`, each matching request is hit
        with that probability (drawn from `fault_random`, seed it for a repeatable
        run) until `count` hits are used up.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        with self.lock:
            self.faults.append(
                Fault(
                    kind,
                    count,
                    path_contains,
                    status,
                    None if retry_after is None else str(retry_after),
                    delay,
                    method,
                    chance,
                )
            )

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, target: str, method: str = "GET") -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and (
                    fault.path_contains is None or fault.path_contains in target
                ) and (fault.method is None or fault.method == method) and (
                    fault.chance is None or self.fault_random.random() < fault.chance
                ):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # ---- dispatch --------------------------------------------------------------------

    def handle(
        self,
        method: str,
        raw_path: str,
        params: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[Reply, str | None]:
        user: Account | None = None
        path = raw_path
        if path == "/a" or path.startswith("/a/"):
            user = self._authenticate(headers)
            if user is None:
                return text_reply(
                    401, "Unauthorized", {"WWW-Authenticate": 'Basic realm="Gerrit Code Review"'}
                ), None
            path = path[2:] or "/"
        try:
            reply = self._route(method, path, params, body, headers, user)
        except HttpError as exc:
            reply = text_reply(exc.status, exc.text, exc.headers)
        except QueryError as exc:
            reply = text_reply(400, str(exc))
        return reply, (user.username if user else None)

    def _authenticate(self, headers: dict[str, str]) -> Account | None:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("basic "):
            return None
        try:
            username, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        with self.lock:
            account = self.by_username.get(username)
        if account is None or account.password is None or account.password != password:
            return None
        return account

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, list[str]],
        body: bytes,
        headers: dict[str, str],
        user: Account | None,
    ) -> Reply:
        if method in ("POST", "PUT", "DELETE") and user is None:
            raise HttpError(403, "Authentication required")
        parts = path.strip("/").split("/", 1)
        root, rest = parts[0], (parts[1] if len(parts) > 1 else "")
        if root == "config" and rest.strip("/") == "server/version" and method == "GET":
            return json_reply(self.version_string)
        if root == "changes":
            if rest.strip("/") == "":
                if method != "GET":
                    raise HttpError(405, "Method Not Allowed")
                return query_changes(self, params, user)
            return change_endpoint(self, method, rest, params, body, headers, user)
        if root == "groups" and method == "GET":
            return groups_endpoint(self, rest, params, user)
        if root == "accounts" and method == "GET":
            return accounts_endpoint(self, rest, params, user)
        if method == "GET":
            page = self._web_page(path, params, user)
            if page is not None:
                return page
        raise HttpError(404, "Not Found")

    # ---- web pages (the URLs people follow from the app's links) ----------------------

    def _web_page(self, path: str, params: dict[str, list[str]],
                  user: Account | None) -> Reply | None:
        m = _WEB_CHANGE.fullmatch(path)
        if m:
            with self.lock:
                change, _ = find_change(self, f"{unquote(m['project'])}~{m['num']}", user)
                return _html(change_page(self, change))
        m = _WEB_NUMBER.fullmatch(path)
        if m:
            with self.lock:
                change, _ = find_change(self, m["num"], user)
                # Gerrit answers the short form with a redirect to the canonical URL.
                return Reply(302, b"", "text/plain; charset=UTF-8",
                             {"Location": change_path(change)})
        if path in ("/dashboard", "/dashboard/"):
            def visible(c: Change) -> bool:
                return not c.private or (user is not None and user.id == c.owner)

            with self.lock:
                return _html(dashboard_page(self, params, visible, self.now))
        return None
