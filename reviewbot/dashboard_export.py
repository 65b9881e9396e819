"""Gerrit dashboard export: the cycle's priorities and open-gate changes as a `.dash` file.

Writes the gerrit-dash-creator INI format (`[dashboard]` with title,
description, foreach; one `[section "Title"]` with a `query` per pane) and
the matching Gerrit custom-dashboard URL (`/dashboard/?title=..&foreach=..&
Section=query...`), both from the same config the bot runs on.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from reviewbot.config import Config, Matchers

# Left out of every core-facing section, as in Glance's own dashboard.
_REVIEWABLE = "NOT label:Workflow<=-1 NOT label:Code-Review<=-2 NOT owner:self NOT reviewedby:self"


def _quoted(value: str) -> str:
    """A Gerrit query value in double quotes (Gerrit has no escape for '"' inside)."""
    return '"' + value.replace('"', "") + '"'


def _term(operator: str, value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.:/+@-]+", value):
        return f"{operator}:{value}"
    return f"{operator}:{_quoted(value)}"


def _any(terms: list[str]) -> str:
    if len(terms) == 1:
        return terms[0]
    return "(" + " OR ".join(terms) + ")"


def _message_words(regex: str) -> list[str]:
    """Plain words of a `message` regex that Gerrit's `message:` can search for."""
    literal = re.sub(r"\\[bBdDsSwW]|[\\^$.*+?()\[\]{}|]", " ", regex)
    return [w for w in literal.split() if len(w) >= 3]


def matcher_terms(m: Matchers) -> list[str]:
    """Gerrit search terms equivalent to (or, for regexes and globs, wider than) the matchers.

    A priority's `owners` are the people leading it, never a matcher (DESIGN.md), so they
    give no `owner:` term here; only the gate's exemptions match change owners
    (exempt_terms).
    """
    terms: list[str] = []
    for bp in m.blueprints:
        terms += [_term("topic", f"bp/{bp}"), f'message:"{bp}"']
    for bug in m.bugs:
        terms += [_term("topic", f"bug/{bug}"), f'message:"{bug}"']
    for topic in m.topics:
        if topic.endswith("*"):
            terms.append(_term("topic", "^" + re.escape(topic[:-1]) + ".*"))
        else:
            terms.append(_term("topic", topic))
    terms += [_term("hashtag", h) for h in m.hashtags]
    for glob in m.files:
        regex = "^" + re.escape(glob).replace(r"\*", ".*").replace(r"\?", ".")
        terms.append(_term("file", regex))
    if m.message:
        terms += [f"message:{_quoted(w)}" for w in _message_words(m.message)]
    terms += [f"change:{n}" for n in m.changes]
    return list(dict.fromkeys(terms))


def exempt_terms(exempt: Matchers) -> list[str]:
    """The gate's exemptions: the matchers, plus the change owners exempted by name."""
    return list(dict.fromkeys(matcher_terms(exempt) + [_term("owner", o)
                                                       for o in exempt.owners]))


def section_title(title: str) -> str:
    """A pane's title as the .dash file can hold it (`[section "..."]` has no escape for '"'),
    used in the URL too, so both name the pane the same."""
    return title.replace('"', "'")


def _restrict(m: Matchers, query: str) -> str:
    if m.projects:
        query += " " + _any([_term("project", p) for p in m.projects])
    if m.branches:
        query += " " + _any([_term("branch", b) for b in m.branches])
    return query


def priority_query(config: Config, priority) -> str | None:
    """One priority's pane: the bot's hashtag when it writes them, else the matchers."""
    if config.writeback.enabled:
        return _term("hashtag", config.writeback.priority_hashtag_prefix + priority.id)
    terms = matcher_terms(priority)
    if not terms:
        return None  # e.g. only Launchpad matchers: Gerrit cannot search those
    return _restrict(priority, _any(terms))


def sections(config: Config) -> list[tuple[str, str]]:
    """(title, query) per pane: one per priority by rank, then open-gate non-priority changes."""
    out = []
    priority_terms = []
    for p in sorted(config.priorities, key=lambda p: p.rank):
        query = priority_query(config, p)
        if query is None:
            continue
        out.append((section_title(f"Priority {p.rank}: {p.title}"), f"{query} {_REVIEWABLE}"))
        priority_terms.append(query)
    exempt = exempt_terms(config.gate.exempt)
    if config.writeback.enabled:
        # The bot tags gated changes, so "gate open" is simply "not tagged gated".
        rest = (f"NOT {_term('hashtag', config.writeback.gated_hashtag)} "
                f"NOT {_term('hashtag', config.writeback.priority_hashtag)}")
    else:
        # Without the bot's tags: a +1 from someone who is not core (Gerrit's label:..,group
        # cannot negate a group, so this reads "has a +1") and not a priority.
        rest = "label:Code-Review>=1"
        rest += "".join(f" NOT ({q})" for q in priority_terms)
        if exempt:
            rest = f"({rest}) OR {_any(exempt)}"
            rest = f"({rest})"
    out.append(("Gate open: non-priority changes ready for cores", f"{rest} {_REVIEWABLE}"))
    return out


def foreach(config: Config) -> str:
    projects = _any([_term("project", p) for p in config.gerrit.projects])
    branches = _any([_term("branch", b) for b in config.gerrit.branches])
    return f"{projects} {branches} status:open NOT is:wip"


def dash_text(config: Config) -> str:
    """The `.dash` file: INI that configparser and gerrit-dash-creator read back.

    `baseurl` makes `gerrit-dash-creator FILE` print the same URL as dashboard_url.
    """
    title = f"{config.cycle.name.capitalize()} review priorities"
    lines = [
        "# Generated by `reviewbot export-dashboard` from the reviewbot config; edit the",
        "# config, not this file.",
        "[dashboard]",
        f"title = {title}",
        f"description = {config.cycle.name} cycle priorities and changes past the non-core "
        "+1 gate" + ("" if config.writeback.enabled else " (without the bot's hashtags, any "
                     "+1 stands in for a non-core +1)"),
        f"foreach = {foreach(config)}",
        f"baseurl = {config.gerrit_web_base}/dashboard/?",
        "",
    ]
    for name, query in sections(config):
        lines += [f'[section "{name}"]', f"query = {query}", ""]
    return "\n".join(lines)


def _encode(value: str) -> str:
    # gerrit-dash-creator also escapes ',' and '-' (Firefox mangles them otherwise).
    return quote(value, safe="").replace("-", "%2D")


def dashboard_url(config: Config) -> str:
    """Gerrit's custom dashboard URL: title, foreach, then one Section=query pair per pane."""
    title = f"{config.cycle.name.capitalize()} review priorities"
    parts = [f"title={_encode(title)}", f"foreach={_encode(foreach(config))}"]
    parts += [f"{_encode(name)}={_encode(query)}" for name, query in sections(config)]
    base = config.gerrit_web_base
    return f"{base}/dashboard/?" + "&".join(parts)
