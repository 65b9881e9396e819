"""Gerrit client: the Gerrit REST endpoints the bot reads and writes, over the transport.

Reads: the server version, change queries page by page, a change, group members and
audit log, hashtags. Writes (hashtags, review messages) are sent once; a lost answer
raises GerritWriteUnconfirmed, and `hashtags_show` / `review_posted` read back to
learn whether it happened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from reviewbot.config import Config, Secrets, secret_value
from reviewbot.gerrit.errors import GerritProtocolError
from reviewbot.gerrit.rest_shapes import ChangeInfo
from reviewbot.gerrit.transport import GerritTransport, with_query
from reviewbot.gerrit.wire import change_page_from_json

log = logging.getLogger(__name__)

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


class ChangePage(list[ChangeInfo]):
    """One page of validated ChangeInfo (`reviewbot.gerrit.rest_shapes`), remembering the URL
    it came from (for error lines)."""

    url: str = ""


def change_path(change: int | str) -> str:
    """`{change-id}` for a URL path. Numbers as-is; `project~number` ids are already
    URL-encoded by Gerrit (ChangeInfo.id), so only a literal `/` is encoded."""
    text = str(change)
    return text if text.isdigit() else text.replace("/", "%2F")


class GerritClient(GerritTransport):
    """Typed, retrying access to one Gerrit server. Anonymous unless given credentials."""

    _version: str | None = None  # read once per client (server_version)

    @classmethod
    def from_config(cls, config: Config, secrets: Secrets | None = None) -> GerritClient:
        secrets = secrets or Secrets.from_env()
        return cls(
            config.gerrit.url,
            username=secrets.gerrit_username,
            password=secret_value(secrets.gerrit_password),
            timeout=config.gerrit.timeout,
            retries=config.gerrit.retries,
        )

    def __repr__(self) -> str:
        mode = "authenticated" if self.authenticated else "anonymous"
        return f"GerritClient({self.url!r}, {mode})"

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
            # Parsed and validated in one pass from the bytes (pydantic-core): a bad
            # ChangeInfo fails the page here, naming the change and where in it.
            page = self.get("changes/", params, parse=change_page_from_json)
            more = bool(page and page[-1].get("_more_changes"))
            fresh = ChangePage()
            fresh.url = self.last_url or with_query(url, params)
            for change in page:
                number = change["_number"]
                if number not in seen:
                    seen.add(number)
                    fresh.append(change)
            start += len(page)
            del page
            if fresh:
                yield fresh
            if not more:
                return

    def get_change(
        self, number_or_id: int | str, options: Sequence[str] = SYNC_OPTIONS
    ) -> dict[str, Any]:
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

        Sent once: a lost answer raises GerritWriteUnconfirmed (see `hashtags_show`).
        """
        endpoint = f"changes/{change_path(change)}/hashtags"
        tags = self._request("POST", endpoint, body={"add": list(add), "remove": list(remove)})
        if not isinstance(tags, list):
            raise GerritProtocolError(self._rest.make_url(endpoint), "expected a list of strings")
        return tags

    def hashtags_show(
        self, change: int | str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> list[str] | None:
        """Read back: the change's hashtags if they already show this write, else None.

        Gerrit compares hashtags case-insensitively, and so does this.
        """
        tags = self.get_hashtags(change)
        have = {t.lower() for t in tags}
        done = all(a.lower() in have for a in add) and not any(r.lower() in have for r in remove)
        return tags if done else None

    def post_review(
        self,
        change: int | str,
        revision: str | int = "current",
        *,
        message: str,
        tag: str,
        notify: str = "NONE",
        labels: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        """Post a review message. Sent once: a lost answer raises GerritWriteUnconfirmed."""
        endpoint = f"changes/{change_path(change)}/revisions/{revision}/review"
        body: dict[str, Any] = {
            "message": message,
            "tag": tag,
            "notify": notify,
            "omit_duplicate_comments": True,
        }
        if labels:
            body["labels"] = dict(labels)
        result = self._request("POST", endpoint, body=body)
        return result if isinstance(result, dict) else {}

    def review_posted(self, change: int | str, patch_set: int, tag: str) -> bool:
        """Read back: does the change show a message with `tag` on `patch_set`?"""
        endpoint = f"changes/{change_path(change)}/messages"
        messages = self.get(endpoint)
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise GerritProtocolError(self._rest.make_url(endpoint),
                                      "expected a JSON list of ChangeMessageInfo objects")
        return any(m.get("tag") == tag and m.get("_revision_number") == patch_set
                   for m in messages)
