"""Hand-built snapshots and configs for rule tables (no database, no HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from reviewbot.config import Config, Matchers, validate_config
from reviewbot.rules import MATCHER_RULES
from reviewbot.rules.facts import read_facts
from reviewbot.rules.matchset import compile_matchers
from reviewbot.timeline.people import Roster
from reviewbot.timeline.snapshot import ChangeSnapshot, PatchSetInfo, Vote, VoteEvent

T0 = datetime(2017, 1, 10, 12, 0)
NOW = datetime(2017, 1, 20)

# Accounts: 1 owner, 2 uploader of a rebase, 10/11 non-core, 20/21 core, 30 bot.
OWNER, UPLOADER, ALICE, BOB, CORE, CORE2, BOT = 1, 2, 10, 11, 20, 21, 30
USERNAMES = {OWNER: "owen", UPLOADER: "ursula", ALICE: "alice", BOB: "bob", CORE: "carol",
             CORE2: "cyril", BOT: "zuul", 40: "proposal-bot"}


def roster(**overrides: object) -> Roster:
    values: dict = dict(core_now=frozenset({CORE, CORE2}), core_known=True,
                        bots=frozenset({BOT}), usernames=dict(USERNAMES))
    values.update(overrides)
    return Roster(**values)


def make_change(
    number: int = 100,
    *,
    patch_sets: int = 1,
    uploaders: dict[int, int] | None = None,
    votes: list[tuple[int, int]] | None = None,  # (account, Code-Review value), current
    history: list[tuple[int, int, int]] | None = None,  # (patch set, account, value)
    **fields: object,
) -> ChangeSnapshot:
    """An open change on openstack/glance master owned by OWNER; keyword fields override."""
    uploaders = uploaders or {}
    base = ChangeSnapshot(
        number=number, project="openstack/glance", branch="master", subject="Do a thing",
        status="NEW", wip=False, owner_id=OWNER, created=T0, updated=T0,
        current_patch_set=patch_sets,
        commit_message="Do a thing\n\nChange-Id: I0123\n",
        files=("/COMMIT_MSG", "glance/api/v2/images.py"),
        patch_sets=tuple(
            PatchSetInfo(n, T0 + timedelta(days=n), uploaders.get(n, OWNER))
            for n in range(1, patch_sets + 1)
        ),
        current_votes=tuple(Vote("Code-Review", a, v) for a, v in votes or ()),
        vote_events=tuple(
            VoteEvent(number, ps, a, "Code-Review", v, T0 + timedelta(days=ps, hours=i),
                      f"m{i}", removed=v == 0)
            for i, (ps, a, v) in enumerate(history or ())
        ),
    )
    return replace(base, **fields)


def reasons(matchers: dict, change: ChangeSnapshot, *, who: Roster | None = None,
            bot_hashtags: frozenset[str] = frozenset()) -> list[str]:
    """Reasons one set of matchers gives for a change (empty: no match)."""
    compiled = compile_matchers(Matchers(**matchers), MATCHER_RULES)
    found, _ = compiled.match(read_facts(change, who or roster(), bot_hashtags))
    return found


def unchecked(matchers: dict, change: ChangeSnapshot) -> set[str]:
    compiled = compile_matchers(Matchers(**matchers), MATCHER_RULES)
    return compiled.match(read_facts(change, roster(), frozenset()))[1]


BASE_CONFIG = {
    "gerrit": {"projects": ["openstack/glance", "openstack/glance_store"],
               "branches": ["master"], "core_group": "glance-core"},
    "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20"},
}


def config(**sections: object) -> Config:
    data = dict(BASE_CONFIG)
    data.update(sections)
    return validate_config(data)
