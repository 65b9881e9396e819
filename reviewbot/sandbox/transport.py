"""Sandbox Gerrit transport: the HTTP handler, request-log records, replies and injected faults.

Kept apart from the REST endpoints (server.py, rest_changes.py, rest_accounts.py):
this layer reads and writes bytes, records every request and damages answers on
purpose when a test has injected a fault. The endpoints share its replies, errors
and paging parameters.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from reviewbot.sandbox.render import PREFIX, encode

if TYPE_CHECKING:
    from reviewbot.sandbox.server import SandboxGerrit

VERSION = "3.9.1"
DEFAULT_LIMIT = 500  # a query's page size when it asks for none (changes and accounts)
# slow: wait `delay`, then handle and answer. slow_after_apply: handle (a write is applied),
# then wait `delay` before answering (a Gerrit slower than the client's timeout).
# reset: drop the connection (TCP RST) without handling; reset_after_apply: handle, then drop.
FAULT_KINDS = ("status", "rate_limit", "slow", "truncate", "garbage", "no_prefix", "disconnect",
               "reset", "reset_after_apply", "slow_after_apply")


@dataclass
class RecordedRequest:
    method: str
    path: str  # URL path as sent (still percent-encoded), without the query string
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    user: str | None = None  # authenticated username, None for anonymous
    query_string: str = ""
    # time.monotonic() when it arrived: the log is in order of completion, and a slow
    # answer completes after requests that arrived later.
    received: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    kind: str
    count: int
    path_contains: str | None
    status: int
    retry_after: str | None
    delay: float
    method: str | None = None  # only requests of this method (None: any)
    chance: float | None = None  # each matching request hit with this probability


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.headers = headers or {}


def int_param(params: dict[str, list[str]], *names: str) -> int | None:
    """A paging parameter (`n`/`limit`, `S`/`start`): absent, or a non-negative integer."""
    for name in names:
        if name in params and params[name]:
            raw = params[name][-1]
            try:
                value = int(raw)
            except ValueError:
                raise HttpError(400, f'"{raw}" is not a valid value for "-{name}"') from None
            if value < 0:
                raise HttpError(400, f'"{raw}" is not a valid value for "-{name}"')
            return value
    return None


def json_reply(obj: object, status: int = 200) -> Reply:
    return Reply(status, PREFIX + encode(obj), "application/json; charset=UTF-8")


def text_reply(status: int, text: str, headers: dict[str, str] | None = None) -> Reply:
    body = text if text.endswith("\n") else text + "\n"
    return Reply(status, body.encode(), "text/plain; charset=UTF-8", headers or {})


class GerritHandler(BaseHTTPRequestHandler):
    """Thin HTTP shell: read, record, apply faults, write."""

    gerrit: SandboxGerrit
    protocol_version = "HTTP/1.1"
    server_version = "SandboxGerrit/" + VERSION

    def log_message(self, format: str, *args: object) -> None:  # stdlib name
        pass  # the request log is `SandboxGerrit.requests`

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        sb = self.gerrit
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        params = parse_qs(split.query, keep_blank_values=True)
        record = RecordedRequest(
            method, split.path, params, headers, body, query_string=split.query
        )
        fault = sb._take_fault(self.path, method)
        if fault is not None and fault.kind in ("status", "rate_limit"):
            if fault.kind == "status":
                reply = text_reply(fault.status, _STATUS_TEXT.get(fault.status, "Error"))
            else:
                reply = text_reply(
                    429,
                    "Exceeded rate limit of 100 REST API requests/hour "
                    "(or idle time used up in bursts of max 20 requests)",
                    {"Retry-After": fault.retry_after or "1"},
                )
        elif fault is not None and fault.kind == "reset":
            with sb.lock:
                sb.requests.append(record)  # status 0: no answer
            self._reset()
            return
        else:
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.delay)
            reply, record.user = sb.handle(method, split.path, params, headers, body)
            if fault is not None and reply.content_type.startswith("application/json"):
                reply = _damage(reply, fault.kind)
        record.status = reply.status
        with sb.lock:
            sb.requests.append(record)
        if fault is not None and fault.kind == "reset_after_apply":
            self._reset()
            return
        if fault is not None and fault.kind == "slow_after_apply":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "disconnect":
            self._write(reply, declared=len(reply.body) + 1000, cut=len(reply.body) // 2)
            self.close_connection = True
            return
        self._write(reply)

    def _reset(self) -> None:
        """Close with a TCP reset and no answer (SO_LINGER 0), like a crashed proxy."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        self.close_connection = True

    def _write(self, reply: Reply, declared: int | None = None, cut: int | None = None) -> None:
        body = reply.body if cut is None else reply.body[:cut]
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(declared if declared is not None else len(body)))
        if reply.content_type.startswith("application/json"):
            self.send_header("Content-Disposition", "attachment")
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


def _damage(reply: Reply, kind: str) -> Reply:
    if kind == "truncate":
        return Reply(
            reply.status,
            reply.body[: max(len(PREFIX) + 1, len(reply.body) // 2)],
            reply.content_type,
            reply.headers,
        )
    if kind == "garbage":
        return Reply(
            reply.status,
            b"<html><body><h1>502 Bad Gateway</h1></body></html>\n",
            reply.content_type,
            reply.headers,
        )
    if kind == "no_prefix":
        return Reply(
            reply.status, reply.body.removeprefix(PREFIX), reply.content_type, reply.headers
        )
    return reply


_STATUS_TEXT = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
