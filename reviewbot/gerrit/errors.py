"""Gerrit client errors: what went wrong talking to Gerrit, by kind; each names the URL."""

from __future__ import annotations


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


class GerritWriteUnconfirmed(GerritUnavailable):
    """A write was sent but its answer was lost (timeout, reset, 5xx): it may have happened.

    Never answered by sending it again; read back first (`hashtags_show`, `review_posted`).
    """


class GerritProtocolError(GerritError):
    """A response we cannot trust: no XSSI prefix, truncated, not JSON, wrong shape."""


class GerritWireError(GerritProtocolError):
    """Well-formed JSON of the wrong shape (the message names where): reading the same
    URL again would only bring the same answer, so it is not retried."""


_HTTP_ERRORS = {403: GerritForbidden, 404: GerritNotFound, 429: GerritRateLimited}


def http_error(status: int, url: str, text: str, retried: int) -> GerritError:
    if status >= 500 or status == 429:
        body = " ".join(text.split())[:200] or "(empty body)"
        if status >= 500:
            return GerritUnavailable(url, f"HTTP {status}: {body}{after_retries(retried)}", status)
        err = GerritRateLimited(status, url, text)
        err.args = (f"{url}: HTTP 429: {body}{after_retries(retried)}",)
        return err
    return _HTTP_ERRORS.get(status, GerritHTTPError)(status, url, text)


def after_retries(retried: int) -> str:
    return f" (after {retried} retries)" if retried else ""
