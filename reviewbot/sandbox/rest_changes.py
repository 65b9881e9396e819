"""Sandbox Gerrit REST: the /changes/ endpoints (query, reads, and the writes a bot makes).

Called by `SandboxGerrit`'s dispatch (server.py) with the sandbox itself; each
function answers one endpoint the way Gerrit's REST documentation describes it,
with Gerrit's error texts and status codes.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from reviewbot.sandbox.model import LABELS, Account, Change
from reviewbot.sandbox.query import compile_query
from reviewbot.sandbox.render import (
    DETAIL_OPTIONS,
    KNOWN_OPTIONS,
    PREFIX,
    Renderer,
    account_info,
    change_bytes,
)
from reviewbot.sandbox.transport import DEFAULT_LIMIT, HttpError, Reply, int_param, json_reply

if TYPE_CHECKING:
    from reviewbot.sandbox.server import SandboxGerrit

_CHANGE_TRIPLET = re.compile(
    r"^(?P<project>[^~]+)~(?P<branch>[^~]+)~(?P<cid>I[0-9a-f]{40})(?:/(?P<rest>.*))?$"
)
_CHANGE_PROJ_NUM = re.compile(r"^(?P<project>[^~]+)~(?P<num>\d+)(?:/(?P<rest>.*))?$")
_CHANGE_SINGLE = re.compile(r"^(?P<single>[^/]+)(?:/(?P<rest>.*))?$")


def _options(params: dict[str, list[str]]) -> frozenset[str]:
    opts = []
    for value in params.get("o", []):
        name = value.strip().upper()
        if name not in KNOWN_OPTIONS:
            raise HttpError(400, f'"{value}" is not a valid value for "-o"')
        opts.append(name)
    return frozenset(opts)


def _matching(
    gerrit: SandboxGerrit, query: str, user: Account | None
) -> tuple[list[Change], int | None]:
    key = (query, user.username if user else None)
    with gerrit.lock:
        cached = gerrit.query_cache.get(key)
        if cached is not None and cached[0] == gerrit.version:
            return cached[1], cached[2]
        pred, limit = compile_query(gerrit, query, gerrit.now)
        visible = [
            c
            for c in gerrit.ordered()
            if (not c.private or (user is not None and user.id == c.owner)) and pred(c)
        ]
        if len(gerrit.query_cache) > 64:
            gerrit.query_cache.clear()
        gerrit.query_cache[key] = (gerrit.version, visible, limit)
        return visible, limit


def query_changes(
    gerrit: SandboxGerrit, params: dict[str, list[str]], user: Account | None
) -> Reply:
    """`GET /changes/?q=..`: each query's page of changes, newest-updated first."""
    options = _options(params)
    queries = params.get("q") or ["status:open"]
    n = int_param(params, "n", "limit")
    start = int_param(params, "S", "start") or 0
    pages = []
    with gerrit.lock:
        for query in queries:
            matching, limit = _matching(gerrit, query, user)
            size = DEFAULT_LIMIT if not n else min(n, DEFAULT_LIMIT)
            if limit is not None:
                size = min(size, limit)
            page = matching[start : start + size]
            more = len(matching) > start + size and bool(page)
            chunks = [change_bytes(gerrit, c, options) for c in page]
            if more:
                chunks[-1] = chunks[-1][:-1] + b',"_more_changes":true}'
            pages.append(b"[" + b",".join(chunks) + b"]")
    body = pages[0] if len(queries) == 1 else b"[" + b",".join(pages) + b"]"
    return Reply(200, PREFIX + body, "application/json; charset=UTF-8")


def find_change(gerrit: SandboxGerrit, ident: str, user: Account | None) -> tuple[Change, str]:
    """Resolve `project~number` (encoded or literal /), triplet, number or Change-Id."""
    change: Change | None = None
    rest = ""
    m = _CHANGE_TRIPLET.match(ident)
    if m:
        project, branch, cid = unquote(m["project"]), unquote(m["branch"]), m["cid"]
        rest = m["rest"] or ""
        change = next(
            (
                c
                for c in gerrit.changes.values()
                if c.change_id == cid and c.project == project and c.branch == branch
            ),
            None,
        )
        shown = unquote(ident.split("/" + rest)[0] if rest else ident)
    else:
        m = _CHANGE_PROJ_NUM.match(ident)
        if m:
            project, number = unquote(m["project"]), int(m["num"])
            rest = m["rest"] or ""
            found = gerrit.changes.get(number)
            change = found if found is not None and found.project == project else None
            shown = f"{project}~{number}"
        else:
            m = _CHANGE_SINGLE.match(ident)
            single = unquote(m["single"]) if m else ident
            rest = (m["rest"] or "") if m else ""
            if single.isdigit():
                change = gerrit.changes.get(int(single))
            else:
                hits = [c for c in gerrit.changes.values() if c.change_id == single]
                change = hits[0] if len(hits) == 1 else None
            shown = single
    if change is None or (change.private and (user is None or user.id != change.owner)):
        raise HttpError(404, f"Not found: {shown}")
    return change, rest.strip("/")


def change_endpoint(
    gerrit: SandboxGerrit,
    method: str,
    ident: str,
    params: dict[str, list[str]],
    body: bytes,
    headers: dict[str, str],
    user: Account | None,
) -> Reply:
    with gerrit.lock:
        change, sub = find_change(gerrit, ident, user)
        if method == "GET":
            if sub == "":
                return _change_json(gerrit, change, _options(params))
            if sub == "detail":
                return _change_json(gerrit, change, _options(params) | DETAIL_OPTIONS)
            if sub == "messages":
                return json_reply(_legacy_messages(gerrit, change))
            if sub == "hashtags":
                return json_reply(sorted(change.hashtags))
            if sub == "topic":
                return json_reply(change.topic or "")
            if sub in ("reviewers", "reviewers/"):
                return json_reply(_reviewer_infos(gerrit, change))
            if sub == "comments":
                return json_reply({})
        if user is None:  # anonymous: only the reads above (dispatch refused the writes)
            raise HttpError(404, "Not Found" if method == "GET" else "Method Not Allowed")
        if method in ("PUT", "DELETE") and sub == "topic":
            return _put_topic(gerrit, change, method, body, headers, user)
        if method == "POST" and sub in ("wip", "ready"):
            if user.id != change.owner and not gerrit.is_core(user.id):
                raise HttpError(403, "not permitted: toggle work in progress state")
            gerrit.set_wip(change.number, sub == "wip", when=gerrit.now(), by=user.id)
            return Reply(200, b"", "text/plain; charset=UTF-8")
        m = re.fullmatch(r"reviewers/([^/]+)/votes/([^/]+)", sub)
        if method == "DELETE" and m:
            return _delete_vote(gerrit, change, unquote(m[1]), unquote(m[2]), user)
        if method == "POST" and sub == "hashtags":
            return _post_hashtags(gerrit, change, body, headers, user)
        if method == "POST":
            m = re.fullmatch(r"revisions/([^/]+)/review", sub)
            if m:
                return _post_review(gerrit, change, unquote(m[1]), body, headers, user)
        raise HttpError(404, "Not Found" if method == "GET" else "Method Not Allowed")


def _legacy_messages(gerrit: SandboxGerrit, change: Change) -> list[dict]:
    """`GET .../messages`: detailed authors, `<GERRIT_ACCOUNT_n>` replaced by names."""
    r = Renderer(gerrit, frozenset({"DETAILED_ACCOUNTS"}))
    out = []
    for k, m in enumerate(change.messages):
        info = r.message(change, k)
        for account_id in m.accounts:
            a = gerrit.accounts[account_id]
            info["message"] = info["message"].replace(
                f"<GERRIT_ACCOUNT_{account_id}>", f"{a.name} <{a.email}>"
            )
        out.append(info)
    return out


def _put_topic(
    gerrit: SandboxGerrit,
    change: Change,
    method: str,
    body: bytes,
    headers: dict[str, str],
    user: Account,
) -> Reply:
    topic = None
    if method == "PUT":
        topic = _json_body(body, headers).get("topic")
        if topic is not None and not isinstance(topic, str):
            raise HttpError(400, "Invalid application/json in request")
        if topic and '"' in topic:
            raise HttpError(400, "topic must not contain quotation marks")
    gerrit.set_topic(change.number, user.id, topic, when=gerrit.now())
    if change.topic is None:
        return Reply(204, b"", "text/plain; charset=UTF-8")
    return json_reply(change.topic)


def _delete_vote(
    gerrit: SandboxGerrit, change: Change, who: str, label: str, user: Account
) -> Reply:
    try:
        voter = gerrit.account(user.id if who in ("self", "me") else who)
    except ValueError:
        raise HttpError(404, f"Not found: {who}") from None
    vote = change.current.approvals.get(label, {}).get(voter.id)
    if vote is None or not vote.value:
        raise HttpError(404, f"Not found: {label}")
    if voter.id != user.id and not gerrit.is_core(user.id):
        raise HttpError(403, f"delete vote not permitted: {label} on change {change.number}")
    gerrit.delete_vote(change.number, voter.id, label, by=user.id, when=gerrit.now())
    return Reply(204, b"", "text/plain; charset=UTF-8")


def _change_json(gerrit: SandboxGerrit, change: Change, options: frozenset[str]) -> Reply:
    return Reply(
        200, PREFIX + change_bytes(gerrit, change, options), "application/json; charset=UTF-8"
    )


def _reviewer_infos(gerrit: SandboxGerrit, change: Change) -> list[dict]:
    out = []
    for account_id in change.reviewers:
        info = account_info(gerrit.accounts[account_id], True, gerrit.is_service_user(account_id))
        approvals = {}
        for label in LABELS:
            vote = change.current.approvals.get(label, {}).get(account_id)
            approvals[label] = " 0" if vote is None or not vote.value else f"{vote.value:+d}"
        info["approvals"] = approvals
        out.append(info)
    return out


def _json_body(body: bytes, headers: dict[str, str]) -> dict:
    ctype = headers.get("content-type", "")
    if body and not ctype.startswith("application/json"):
        raise HttpError(400, f"Invalid Content-Type: {ctype or '(none)'}; use application/json")
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        raise HttpError(400, "Invalid application/json in request") from None
    if not isinstance(data, dict):
        raise HttpError(400, "Invalid application/json in request")
    return data


def _post_hashtags(
    gerrit: SandboxGerrit, change: Change, body: bytes, headers: dict[str, str], user: Account
) -> Reply:
    data = _json_body(body, headers)
    add, remove = data.get("add"), data.get("remove")
    if add is None and remove is None:
        return json_reply([])  # Gerrit's SetHashtagsOp quirk
    if not user.may_edit_hashtags and user.id != change.owner:
        raise HttpError(403, f"not permitted: edit hashtags on change {change.number}")

    def clean(values: object) -> list[str]:
        if values is None:
            return []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise HttpError(400, "Invalid application/json in request")
        out = []
        for v in values:
            tag = v.lstrip().lstrip("#").strip()
            if "," in tag:
                raise HttpError(400, "hashtags may not contain commas")
            if tag:
                out.append(tag)
        return out

    result = gerrit.set_hashtags(
        change.number, user.id, add=clean(add), remove=clean(remove), when=gerrit.now()
    )
    return json_reply(result)


def _post_review(
    gerrit: SandboxGerrit,
    change: Change,
    revision: str,
    body: bytes,
    headers: dict[str, str],
    user: Account,
) -> Reply:
    data = _json_body(body, headers)
    ps = _revision(change, revision)
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise HttpError(400, "Invalid application/json in request")
    labels = {k: int(v) for k, v in labels.items() if k in LABELS}
    if labels and change.status != "NEW":
        raise HttpError(409, "change is closed")
    for label, value in labels.items():
        lo, hi = gerrit.voting_range(user.id, label, change.owner)
        if value and not lo <= value <= hi:
            raise HttpError(403, f'Applying label "{label}": {value:+d} is restricted')
    comments = data.get("comments") or {}
    n_comments = sum(len(v) for v in comments.values()) if isinstance(comments, dict) else 0
    message = data.get("message") or ""
    tag = data.get("tag")
    if labels or message or n_comments:
        gerrit.review(
            change.number,
            user.id,
            labels=labels,
            message=message,
            comments=n_comments,
            when=gerrit.now(),
            patch_set=ps,
            tag=tag,
        )
    return json_reply({"labels": labels} if labels else {})


def _revision(change: Change, revision: str) -> int:
    if revision == "current":
        return change.current.number
    if revision.isdigit() and 0 < int(revision) <= len(change.patch_sets):
        return int(revision)
    if len(revision) >= 4:
        for ps in change.patch_sets:
            if ps.sha.startswith(revision):
                return ps.number
    raise HttpError(404, f"Not found: {revision}")
