"""Gerrit client: the only code that speaks HTTP to Gerrit (reads with retries, typed errors).

Built on pygerrit2's GerritRestAPI for URL building, auth and headers; the
retry policy and the response decoding are ours so that a bad page fails
loudly with the URL and the problem instead of pygerrit2's generic errors.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson
import requests
from pygerrit2 import Anonymous, GerritRestAPI, HTTPBasicAuth
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from reviewbot.config import Config, Secrets
from reviewbot.wire import NUL_ESCAPE, without_nul

log = logging.getLogger(__name__)

XSSI_PREFIX = ")]}'"
_XSSI_BYTES = XSSI_PREFIX.encode()
# The change-query options a sync needs: who voted what on every patch set
# (messages), current votes with account details, and the current commit/files
# that the priority matchers read.
SYNC_OPTIONS = (
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
    "MESSAGES",
    "ALL_REVISIONS",
    "CURRENT_COMMIT",
    "CURRENT_FILES",
)


class GerritError(Exception):
    """Anything that went wrong talking to Gerrit; the message names the URL."""

    def __init__(self, url: str, problem: str):
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class GerritHTTPError(GerritError):
    def __init__(self, status: int, url: str, text: str):
        self.status = status
        self.text = text
        body = " ".join(text.split())[:200] or "(empty body)"
        super().__init__(url, f"HTTP {status}: {body}")


class GerritForbidden(GerritHTTPError):
    """403: not permitted (anonymous write, label range, hashtag rights)."""


class GerritNotFound(GerritHTTPError):
    """404: missing or not visible to us (Gerrit does not tell which)."""


class GerritRateLimited(GerritHTTPError):
    """429 after all retries."""


class GerritUnavailable(GerritError):
    """5xx, timeouts or connection errors after all retries (`status` None if no response)."""

    def __init__(self, url: str, problem: str, status: int | None = None):
        self.status = status
        super().__init__(url, problem)


class GerritProtocolError(GerritError):
    """A response we cannot trust: no XSSI prefix, truncated, not JSON, wrong shape."""


class ChangePage(list):
    """One page of ChangeInfo dicts, remembering the URL it came from (for error lines)."""

    url: str = ""


_HTTP_ERRORS = {403: GerritForbidden, 404: GerritNotFound, 429: GerritRateLimited}


def _no_urllib3_retries() -> HTTPAdapter:
    # pygerrit2 mounts its own urllib3 Retry (5 tries on 500/502/504); ours
    # decides instead, so one failure is not retried 5 x retries times.
    # read=False makes urllib3 re-raise a read timeout as itself (requests' ReadTimeout)
    # instead of wrapping it as a generic connection error.
    return HTTPAdapter(max_retries=Retry(total=0, connect=0, read=False, redirect=5, status=0))


def change_path(change: int | str) -> str:
    """`{change-id}` for a URL path. Numbers as-is; `project~number` ids are already
    URL-encoded by Gerrit (ChangeInfo.id), so only a literal `/` is encoded."""
    text = str(change)
    return text if text.isdigit() else text.replace("/", "%2F")


class GerritClient:
    """Typed, retrying access to one Gerrit server. Anonymous unless given credentials."""

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
        self._rest = GerritRestAPI(self.url, auth=auth, adapter=_no_urllib3_retries())
        self.requests_made = 0
        self.last_url: str | None = None  # of the latest request, for error messages
        self._version: str | None = None

    @classmethod
    def from_config(cls, config: Config, secrets: Secrets | None = None) -> GerritClient:
        secrets = secrets or Secrets.from_env()
        return cls(
            config.gerrit.url,
            username=secrets.gerrit_username,
            password=secrets.gerrit_password,
            timeout=config.gerrit.timeout,
            retries=config.gerrit.retries,
        )

    def __repr__(self) -> str:
        mode = "authenticated" if self.authenticated else "anonymous"
        return f"GerritClient({self.url!r}, {mode})"

    # -- transport ---------------------------------------------------------

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            seconds = _retry_after_seconds(retry_after)
            if seconds is not None:
                return min(seconds, self.backoff_max)
        delay = self.backoff_base * (2**attempt)
        return min(self.backoff_max, delay * (0.5 + random.random()))

    def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        retry_server_errors: bool = True,
    ) -> Any:
        """Send one request (retrying what is safe to retry) and decode the JSON body."""
        url = self._rest.make_url(endpoint)
        kwargs: dict[str, Any] = {"timeout": self.timeout}
        if params is not None:
            kwargs["params"] = params
        if body is not None:
            kwargs["json"] = body
        args = self._rest.translate_kwargs(**kwargs)
        full_url = _with_query(url, params) if params else url  # for error lines
        attempt = 0
        while True:
            shown = full_url
            try:
                self.requests_made += 1
                response = self._rest.session.request(method, url, **args)
                shown = self.last_url = response.url or url
                status = response.status_code
                retryable = status == 429 or (status >= 500 and retry_server_errors)
                if retryable and attempt < self.retries:
                    wait = self._wait(attempt, response.headers.get("Retry-After"))
                    log.debug("%s %s: HTTP %s, retry %d/%d in %.2fs",
                              method, shown, status, attempt + 1, self.retries, wait)
                    attempt += 1
                    time.sleep(wait)
                    continue
                if status >= 400:
                    raise _http_error(status, shown, response.text, attempt)
                return _decode(shown, response)
            except requests.exceptions.ChunkedEncodingError as exc:
                raise GerritProtocolError(shown, f"truncated response body ({exc})") from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                # A read may always be retried. A write only when it provably never
                # reached the server: a second review post would be a duplicate.
                safe = retry_server_errors or _never_sent(exc)
                if safe and attempt < self.retries:
                    wait = self._wait(attempt, None)
                    log.debug("%s %s: %s, retry %d/%d in %.2fs",
                              method, full_url, _describe(exc), attempt + 1, self.retries, wait)
                    attempt += 1
                    time.sleep(wait)
                    continue
                raise GerritUnavailable(full_url, _describe(exc) + _after(attempt)) from None

    def get(self, endpoint: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._request("GET", endpoint, params=params)

    # -- reads -------------------------------------------------------------

    def server_version(self) -> str:
        """`GET /config/server/version`, read once per client and logged."""
        if self._version is None:
            version = self.get("config/server/version")
            if not isinstance(version, str):
                raise GerritProtocolError(
                    self._rest.make_url("config/server/version"),
                    f"expected the version as a JSON string, got {type(version).__name__}",
                )
            self._version = version
            log.info("Gerrit %s at %s (%s)", version, self.url, repr(self))
        return self._version

    def query_changes(
        self,
        query: str,
        options: Sequence[str] = SYNC_OPTIONS,
        page_size: int = 500,
    ) -> Iterator[ChangePage]:
        """Pages of ChangeInfo for `query`, newest-updated first, deduplicated by `_number`.

        Offset paging (`S`) over a list that moves while we read can repeat a
        change; repeats are dropped here. A page is only yielded once it has
        been fully read and checked.
        """
        seen: set[int] = set()
        start = 0
        while True:
            params: dict[str, Any] = {"q": query, "n": page_size}
            if options:
                params["o"] = list(options)
            if start:
                params["S"] = start
            url = self._rest.make_url("changes/")
            page = self.get("changes/", params)
            if not isinstance(page, list) or not all(isinstance(c, dict) for c in page):
                raise GerritProtocolError(
                    _with_query(url, params), "expected a JSON list of ChangeInfo objects"
                )
            more = bool(page and page[-1].get("_more_changes"))
            fresh = ChangePage()
            fresh.url = self.last_url or _with_query(url, params)
            for change in page:
                number = change.get("_number")
                if not isinstance(number, int):
                    raise GerritProtocolError(
                        _with_query(url, params), f"ChangeInfo without an integer _number: "
                        f"{str(change.get('_number'))[:40]!r}",
                    )
                if number not in seen:
                    seen.add(number)
                    fresh.append(change)
            start += len(page)
            del page
            if fresh:
                yield fresh
            if not more:
                return

    def get_change(self, number_or_id: int | str, options: Sequence[str] = SYNC_OPTIONS) -> dict:
        change = self.get(f"changes/{change_path(number_or_id)}", {"o": list(options)})
        if not isinstance(change, dict):
            raise GerritProtocolError(
                self._rest.make_url(f"changes/{change_path(number_or_id)}"),
                "expected a ChangeInfo object",
            )
        return change

    def group_members(self, name: str, recursive: bool = True) -> list[dict[str, Any]]:
        """Members of a group (detailed AccountInfo). Empty when we may not see them."""
        endpoint = f"groups/{quote(name, safe='')}/members/"
        members = self.get(endpoint + ("?recursive" if recursive else ""))
        if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
            raise GerritProtocolError(
                self._rest.make_url(endpoint), "expected a JSON list of AccountInfo objects"
            )
        return members

    def group_audit_log(self, name: str) -> list[dict[str, Any]]:
        """`GET /groups/{id}/log.audit`: the group's GroupAuditEventInfo list, newest first.
        Gerrit serves it to group owners and administrators only (403 otherwise:
        `GerritForbidden`); an unknown group is `GerritNotFound`."""
        endpoint = f"groups/{quote(name, safe='')}/log.audit"
        events = self.get(endpoint)
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise GerritProtocolError(
                self._rest.make_url(endpoint), "expected a JSON list of GroupAuditEventInfo"
            )
        return events

    def get_hashtags(self, change: int | str) -> list[str]:
        endpoint = f"changes/{change_path(change)}/hashtags"
        tags = self.get(endpoint)
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise GerritProtocolError(self._rest.make_url(endpoint), "expected a list of strings")
        return tags

    # -- writes ------------------------------------------------------------

    def set_hashtags(
        self, change: int | str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> list[str]:
        """Add/remove hashtags; returns the change's hashtags afterwards.

        Safe to retry: adding a present tag or removing an absent one is a no-op.
        """
        endpoint = f"changes/{change_path(change)}/hashtags"
        tags = self._request(
            "POST", endpoint, body={"add": list(add), "remove": list(remove)}
        )
        if not isinstance(tags, list):
            raise GerritProtocolError(self._rest.make_url(endpoint), "expected a list of strings")
        return tags

    def post_review(
        self,
        change: int | str,
        revision: str | int = "current",
        *,
        message: str,
        tag: str,
        notify: str = "NONE",
        labels: Mapping[str, int] | None = None,
    ) -> dict:
        """Post a review message. Not retried on 5xx: a second post could duplicate it."""
        endpoint = f"changes/{change_path(change)}/revisions/{revision}/review"
        body: dict[str, Any] = {
            "message": message,
            "tag": tag,
            "notify": notify,
            "omit_duplicate_comments": True,
        }
        if labels:
            body["labels"] = dict(labels)
        result = self._request("POST", endpoint, body=body, retry_server_errors=False)
        return result if isinstance(result, dict) else {}


def _decode(url: str, response: requests.Response) -> Any:
    """Strip the XSSI prefix and parse JSON; anything else is a protocol error."""
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
    try:
        # orjson decodes the bytes directly (it checks UTF-8 itself): a back-fill
        # page is ~10 MB of ChangeInfo, and the stdlib decoder was a third of the
        # client's CPU time. The memoryview skips the prefix without a copy.
        value = orjson.loads(memoryview(raw)[len(_XSSI_BYTES) :])
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


def _http_error(status: int, url: str, text: str, retried: int) -> GerritError:
    if status >= 500 or status == 429:
        body = " ".join(text.split())[:200] or "(empty body)"
        if status >= 500:
            return GerritUnavailable(url, f"HTTP {status}: {body}{_after(retried)}", status)
        err = GerritRateLimited(status, url, text)
        err.args = (f"{url}: HTTP 429: {body}{_after(retried)}",)
        return err
    return _HTTP_ERRORS.get(status, GerritHTTPError)(status, url, text)


def _after(retried: int) -> str:
    return f" (after {retried} retries)" if retried else ""


def _never_sent(exc: Exception) -> bool:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = str(exc)
    return isinstance(exc, requests.exceptions.ConnectionError) and (
        "NewConnectionError" in text or "Failed to establish" in text
    )


def _retry_after_seconds(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc):
        return f"timed out ({type(exc).__name__})"
    return f"connection failed ({type(exc).__name__})"


def _with_query(url: str, params: Mapping[str, Any]) -> str:
    prepared = requests.Request("GET", url, params=params).prepare()
    return prepared.url or url
