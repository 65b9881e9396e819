"""Digest test doubles on loopback: a real SMTP server (aiosmtpd) and a Matrix homeserver
stand-in speaking the client-server API's `PUT .../send/m.room.message/{txnId}`.

The stand-in behaves as the Matrix spec says a homeserver does: a bearer token is
required, and an event sent twice with the same txnId is stored once (the second PUT
answers the first event id). `lose_answers` stores the event and then fails the
answer, as a proxy losing a response would, to prove a retry posts once.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content or envelope.content,
                                     policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, box
    finally:
        controller.stop()


@dataclass
class MatrixRoom:
    token: str
    events: dict[str, dict] = field(default_factory=dict)  # (room|txn) -> event
    requests: list[tuple[str, str]] = field(default_factory=list)  # (room, txn)
    fail_next: int = 0  # answer 500 without storing
    lose_answers: int = 0  # store, then answer 500


@contextmanager
def matrix_server(token: str) -> Iterator[tuple[str, MatrixRoom]]:
    state = MatrixRoom(token)
    lock = threading.Lock()
    prefix = "/_matrix/client/v3/rooms/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args) -> None:
            pass

        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                self._answer(401, {"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown token"})
                return
            path = self.path
            if not path.startswith(prefix) or "/send/m.room.message/" not in path:
                self._answer(404, {"errcode": "M_UNRECOGNIZED", "error": "Unrecognized"})
                return
            room_part, txn = path[len(prefix):].split("/send/m.room.message/")
            room = unquote(room_part)
            with lock:
                state.requests.append((room, txn))
                if state.fail_next:
                    state.fail_next -= 1
                    self._answer(500, {"errcode": "M_UNKNOWN", "error": "try again"})
                    return
                key = f"{room}|{txn}"
                if key not in state.events:
                    state.events[key] = {"room": room, "txn": txn, "content": body,
                                         "event_id": f"$event{len(state.events) + 1}"}
                if state.lose_answers:
                    state.lose_answers -= 1
                    self._answer(502, {"errcode": "M_UNKNOWN", "error": "bad gateway"})
                    return
                self._answer(200, {"event_id": state.events[key]["event_id"]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
