"""Sandbox Gerrit web pages: minimal HTML at the change and dashboard URLs people follow.

Gerrit's own UI is a JavaScript application; the sandbox answers its URLs
(`/c/<project>/+/<n>[/<ps>]`, `/<n>`, `/dashboard/?title=..&foreach=..&Section=query`)
with one plain page that says it is the sandbox and shows what Gerrit would: the
change, its patch sets with their votes, its messages; a dashboard's sections with
their queries and the open changes each matches. Every piece of text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from reviewbot.sandbox.model import Account, Change
from reviewbot.sandbox.query import compile_query
from reviewbot.sandbox.query_tokens import QueryError
from reviewbot.sandbox.state import State

_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:60rem;"
    "padding:0 1rem;color:#1d2433}table{border-collapse:collapse;margin:.5rem 0 1rem}"
    "td,th{border-bottom:1px solid #dde;padding:.25rem .6rem;text-align:left;"
    "vertical-align:top}.note{background:#fff6d6;padding:.4rem .7rem}"
    "pre{white-space:pre-wrap;margin:.2rem 0 .8rem}code{word-break:break-all}"
)
# How many changes a dashboard section lists, as Gerrit's default section limit.
SECTION_LIMIT = 25


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def change_path(change: Change) -> str:
    """The canonical web path of a change, as Gerrit 3 writes it."""
    return f"/c/{quote(change.project, safe='/')}/+/{change.number}"


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        # No icon to fetch: a browser would otherwise ask for /favicon.ico and log a 404.
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>{_e(title)} · sandbox Gerrit</title><style>{_STYLE}</style></head><body>"
        "<p class=\"note\">Sandbox Gerrit: a plain page standing in for Gerrit's web UI, "
        "showing the data its REST API serves.</p>"
        f"{body}</body></html>\n"
    ).encode()


def _name(state: State, account_id: int | None) -> str:
    if account_id is None:
        return "Gerrit"
    account: Account | None = state.accounts.get(account_id)
    return f"{account.name} ({account.username})" if account else f"account {account_id}"


def _message_text(state: State, text: str, accounts: tuple[int, ...]) -> str:
    for account_id in accounts:
        text = text.replace(f"<GERRIT_ACCOUNT_{account_id}>", _name(state, account_id))
    return text


def change_page(state: State, change: Change) -> bytes:
    """The change, its patch sets (uploader, kind, files, votes) and its messages."""
    facts = [
        ("Project", change.project), ("Branch", change.branch), ("Status", change.status
         + (" (work in progress)" if change.wip else "")),
        ("Owner", _name(state, change.owner)), ("Topic", change.topic or "–"),
        ("Hashtags", ", ".join(change.hashtags) or "–"), ("Change-Id", change.change_id),
        ("Created", _when(change.created)), ("Updated", _when(change.updated)),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    sets = []
    for ps in change.patch_sets:
        votes = [f"{label} {vote.value:+d} by {_name(state, who)}"
                 for label, by in sorted(ps.approvals.items())
                 for who, vote in sorted(by.items()) if vote.value]
        files = ", ".join(path for path, _ins, _del in ps.files)
        sets.append(
            f"<tr id=\"patchset-{ps.number}\"><td>{ps.number}</td><td>{_e(_when(ps.created))}"
            f"</td><td>{_e(_name(state, ps.uploader))}</td><td>{_e(ps.kind)}</td>"
            f"<td>{_e(files)}</td><td>{_e('; '.join(votes) or '–')}</td></tr>")
    messages = []
    for index, m in enumerate(change.messages):
        # The same id the REST API gives the message, so `#message-<id>` links land here.
        ident = f"{change.number:020x}{index:020x}"
        messages.append(
            f"<li id=\"message-{ident}\"><strong>{_e(_name(state, m.author))}</strong>, "
            f"{_e(_when(m.date))}, patch set {m.patch_set}"
            f"<pre>{_e(_message_text(state, m.text, m.accounts))}</pre></li>")
    body = (
        f"<h1>Change {change.number}: {_e(change.subject)}</h1><table>{rows}</table>"
        "<h2>Patch sets</h2><table><thead><tr><th>#</th><th>Uploaded</th><th>Uploader</th>"
        "<th>Kind</th><th>Files</th><th>Votes</th></tr></thead>"
        f"<tbody>{''.join(sets)}</tbody></table>"
        f"<h2>Messages ({len(messages)})</h2><ol>{''.join(messages)}</ol>"
    )
    return _page(f"Change {change.number}", body)


def dashboard_page(state: State, params: dict[str, list[str]],
                   visible: Callable[[Change], bool], now: Callable[[], datetime]) -> bytes:
    """A custom dashboard: title, foreach, then each section's title, query and changes.

    Gerrit reads `title` and `foreach`, and every other parameter as one section
    (name=query) in URL order, each query ANDed with `foreach`. A query the sandbox
    cannot run (`self` without signing in, an unknown account) shows Gerrit's error
    text instead of changes, as Gerrit's section does.
    """
    title = (params.get("title") or ["Custom dashboard"])[-1]
    foreach = (params.get("foreach") or [""])[-1].strip()
    sections = [(name, query) for name, values in params.items()
                if name not in ("title", "foreach") for query in values]
    parts = [f"<h1>{_e(title)}</h1>"]
    if foreach:
        parts.append(f"<p>Every section: <code>{_e(foreach)}</code></p>")
    if not sections:
        parts.append("<p>This dashboard has no sections.</p>")
    for name, query in sections:
        full = f"({foreach}) ({query})" if foreach else query
        parts.append(f"<section><h2>{_e(name)}</h2><p>Query: <code>{_e(query)}</code></p>")
        try:
            predicate, limit = compile_query(state, full, now)
        except QueryError as exc:
            parts.append(f"<p class=\"note\">Gerrit cannot run this query here: {_e(exc)}</p>"
                         "</section>")
            continue
        hits = [c for c in state.ordered() if visible(c) and predicate(c)]
        shown = hits[: min(limit or SECTION_LIMIT, SECTION_LIMIT)]
        if not shown:
            parts.append("<p>No changes.</p></section>")
            continue
        rows = "".join(
            f"<li><a href=\"{_e(change_path(c))}\">{c.number}</a> {_e(c.subject)} "
            f"({_e(c.project)}, {_e(_name(state, c.owner))})</li>" for c in shown)
        more = f"<p>{len(hits) - len(shown)} more.</p>" if len(hits) > len(shown) else ""
        parts.append(f"<ul>{rows}</ul>{more}</section>")
    return _page(title, "".join(parts))
