"""Gerrit client transport: one HTTP request to Gerrit, retried when safe, its body decoded.

Built on pygerrit2's GerritRestAPI for URL building, auth and headers. HTTP
retries are urllib3's Retry (5xx/429 with Retry-After, timeouts and resets, for
reads only; a connection that never opened for anything). A body that arrives
truncated or garbled is fetched again, alone, by one small loop in `get`. A
write is never re-sent blindly: when its answer is lost (timeout, reset, 5xx)
it raises GerritWriteUnconfirmed, and the caller reads back to learn whether it
happened (`reviewbot.gerrit.client`). Errors name the URL and problem.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from typing import Any

import orjson
import requests
from pygerrit2 import Anonymous, GerritRestAPI, HTTPBasicAuth
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

from reviewbot.gerrit.errors import (
    GerritProtocolError,
    GerritUnavailable,
    GerritWireError,
    GerritWriteUnconfirmed,
    after_retries,
    http_error,
)
from reviewbot.gerrit.wire import NUL_ESCAPE, WireError, WireJSONError, without_nul

log = logging.getLogger(__name__)

XSSI_PREFIX = ")]}'"
_XSSI_BYTES = XSSI_PREFIX.encode()


# Retried on reads: overload and gateway answers. 429 and 503 carry Retry-After.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses after which a write may still have happened (Gerrit or a proxy failed late).
UNCONFIRMED_STATUSES = frozenset({500, 502, 503, 504})


class _CountedRetry(Retry):
    """urllib3's Retry, telling the client about every retry it makes (for request counts)."""

    def __init__(self, *args: Any, on_retry: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_retry = on_retry

    def new(self, **kw: Any) -> _CountedRetry:
        retry = super().new(**kw)
        retry.on_retry = self.on_retry
        return retry

    def increment(self, *args: Any, **kwargs: Any) -> _CountedRetry:
        retry = super().increment(*args, **kwargs)  # raises when retries are used up
        if self.on_retry is not None:
            self.on_retry(retry.history[-1])
        return retry


class GerritTransport:
    """One Gerrit server over HTTP: requests with retries, decoded bodies, typed errors."""

    # Seconds; doubled per attempt with jitter. Tests set these to ~0.
    backoff_base = 1.0
    backoff_max = 60.0

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
    ):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.authenticated = bool(username and password)
        auth = HTTPBasicAuth(username, password) if self.authenticated else Anonymous()
        # Anonymous() explicitly: without it pygerrit2 silently reads ~/.netrc.
        self._adapter = HTTPAdapter(max_retries=self._retry_policy())
        self._rest = GerritRestAPI(self.url, auth=auth, adapter=self._adapter)
        self.requests_made = 0  # HTTP attempts, retries included
        self.responses_by_status: dict[str, int] = {}  # every attempt's status or no-response
        self.last_url: str | None = None  # of the latest request, for error messages
        self._retried = 0

    def _retry_policy(self) -> Retry:
        """urllib3's Retry for one request, from the current settings.

        Reads are retried on RETRY_STATUSES, timeouts and resets; a write only
        when the connection never opened: urllib3 retries read errors and statuses
        for `allowed_methods` only (GET), connect errors (nothing sent) for every
        method. Retry-After is honoured up to backoff_max.
        """
        return _CountedRetry(
            total=None, connect=self.retries, read=self.retries, status=self.retries,
            other=0, redirect=5, allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES, raise_on_status=False,
            backoff_factor=self.backoff_base, backoff_max=self.backoff_max,
            backoff_jitter=self.backoff_base, respect_retry_after_header=True,
            retry_after_max=int(self.backoff_max), on_retry=self._on_retry,
        )

    def _on_retry(self, attempt: Any) -> None:
        self.requests_made += 1
        self._retried += 1
        self._count(str(attempt.status) if attempt.status else "no-response")
        log.debug("%s %s: %s, retry %d/%d", attempt.method, attempt.url,
                  f"HTTP {attempt.status}" if attempt.status else _describe(attempt.error),
                  self._retried, self.retries)

    def _count(self, key: str) -> None:
        self.responses_by_status[key] = self.responses_by_status.get(key, 0) + 1

    def _wait(self, attempt: int) -> float:
        delay = self.backoff_base * 2.0**attempt
        return min(self.backoff_max, delay * (0.5 + random.random()))

    def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        parse: Any = None,
    ) -> Any:
        """Send one request (urllib3 retrying what is safe to retry) and decode the JSON body
        (with `parse`, e.g. a pydantic validator, when given)."""
        url = self._rest.make_url(endpoint)
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if params is not None:
            kwargs["params"] = params
        if body is not None:
            kwargs["json"] = body
        args = self._rest.translate_kwargs(**kwargs)
        full_url = with_query(url, params) if params else url  # for error lines
        write = method != "GET"
        # The tests (and config) may change retries/backoff after construction.
        self._adapter.max_retries = self._retry_policy()
        self._retried = 0
        self.requests_made += 1
        try:
            response = self._rest.session.request(method, url, **args)
        except requests.exceptions.ChunkedEncodingError as exc:
            self._count("truncated")  # the status line arrived, the whole body did not
            problem = f"truncated response body ({exc})"
            if write:
                raise GerritWriteUnconfirmed(full_url, problem) from None
            raise GerritProtocolError(full_url, problem) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            self._count("no-response")
            problem = _describe(exc) + after_retries(self._retried)
            if write and not _never_sent(exc):
                raise GerritWriteUnconfirmed(full_url, problem) from None
            raise GerritUnavailable(full_url, problem) from None
        shown = self.last_url = response.url or url
        status = response.status_code
        self._count(str(status))
        if write and status in UNCONFIRMED_STATUSES:
            body_text = " ".join(response.text.split())[:200] or "(empty body)"
            raise GerritWriteUnconfirmed(shown, f"HTTP {status}: {body_text}", status)
        if status >= 400:
            raise http_error(status, shown, response.text, self._retried)
        return _decode(shown, response, parse)

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None,
            parse: Any = None) -> Any:
        """GET and decode. A body that arrives truncated or garbled is fetched again, alone.

        urllib3 retries what HTTP can tell (status, timeout, reset); a 200 whose
        body is cut short or is not Gerrit's JSON only shows when it is decoded,
        so that retry is this loop: the same URL, bounded, with backoff. (A
        back-fill page is never restarted from the first page for it.) JSON of the
        wrong shape (GerritWireError) is not read again: it would come back the same.
        """
        attempt = 0
        while True:
            try:
                return self._request("GET", endpoint, params=params, parse=parse)
            except GerritWireError:
                raise
            except GerritProtocolError as exc:
                if attempt >= self.retries:
                    if attempt:
                        exc.args = (f"{exc} (after {attempt} retries)",)
                    raise
                wait = self._wait(attempt)
                attempt += 1
                log.warning("%s; reading it again (%d/%d) in %.2fs", exc, attempt,
                            self.retries, wait)
                time.sleep(wait)

def _decode(url: str, response: requests.Response, parse: Any = None) -> Any:
    """Strip the XSSI prefix and parse JSON (with `parse` when given); anything else is a
    protocol error, and JSON of the wrong shape a GerritWireError naming where."""
    raw = response.content
    if not raw.strip():
        return None  # 204 and friends
    if not raw.startswith(_XSSI_BYTES):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise GerritProtocolError(url, "response body is not UTF-8") from None
        snippet = " ".join(text[:60].split())
        raise GerritProtocolError(
            url, f"response lacks Gerrit's )]}}' prefix (starts {snippet!r})"
        )
    body = memoryview(raw)[len(_XSSI_BYTES) :]  # skips the prefix without a copy
    value = _MISSING
    if parse is not None:
        try:
            value = parse(body)
        except WireJSONError:
            pass  # not JSON: orjson below says how, in the same words as for any body
        except WireError as exc:
            raise GerritWireError(url, str(exc)) from None
    try:
        # orjson decodes the bytes directly (it checks UTF-8 itself): a back-fill
        # page is ~10 MB of ChangeInfo, and the stdlib decoder was a third of the
        # client's CPU time.
        if value is _MISSING:
            value = orjson.loads(body)
            if parse is not None:  # JSON to orjson, yet not to pydantic: never unchecked
                raise GerritProtocolError(url, "response is not valid JSON to the validator")
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in exc.msg:
            raise GerritProtocolError(url, "response body is not UTF-8") from None
        declared = response.headers.get("Content-Length")
        size = f"{len(raw)} bytes" + (f" of {declared} declared" if declared else "")
        raise GerritProtocolError(
            url, f"response is not valid JSON ({exc.msg} at char {exc.pos}; {size}): "
            "truncated or garbled"
        ) from None
    if NUL_ESCAPE in raw:
        value, removed = without_nul(value)
        if removed:
            log.warning("%s: removed %d NUL characters from Gerrit's text (a database "
                        "cannot store them); the rest is kept as sent", url, removed)
    return value


_MISSING = object()


def _cause(exc: BaseException | None) -> BaseException | None:
    """The urllib3 exception behind a requests one: requests wraps it (in args[0]), and
    urllib3 wraps the last attempt's error in MaxRetryError when retries ran out."""
    if isinstance(exc, requests.exceptions.RequestException) and exc.args:
        inner = exc.args[0]
        exc = inner if isinstance(inner, BaseException) else exc
    if isinstance(exc, MaxRetryError):
        exc = exc.reason
    return exc


def _never_sent(exc: Exception) -> bool:
    """The connection never opened, so no byte of the request reached Gerrit.

    urllib3 says so by type: NewConnectionError (refused, unreachable, name not
    resolved) and ConnectTimeoutError (no answer to the TCP handshake). A read
    timeout or a reset (ProtocolError) comes after the request went out.
    """
    return isinstance(_cause(exc), (NewConnectionError, ConnectTimeoutError))


def _describe(exc: BaseException | None) -> str:
    """`timed out (ReadTimeoutError)` / `connection failed (NewConnectionError)`, by type."""
    cause = _cause(exc)
    name = type(cause).__name__
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 (for history): test it first.
    if isinstance(cause, NewConnectionError):
        return f"connection failed ({name})"
    if isinstance(cause, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)) or isinstance(
            exc, requests.exceptions.Timeout):
        return f"timed out ({name})"
    return f"connection failed ({name})"


def with_query(url: str, params: Mapping[str, Any]) -> str:
    prepared = requests.Request("GET", url, params=params).prepare()
    return prepared.url or url
