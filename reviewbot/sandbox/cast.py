"""Sandbox scenario cast: the invented Glance team, its habits, and the review gate it keeps.

~6 cores in `glance-core` (three also in `glanceclient-core`), Zuul and the
proposal bot in `Service Users`, the bot account write-back uses, and non-cores
of varied review quality (careful reviewers whose votes match the cores',
contrarians, thoughtful -1s with inline comments, drive-by +1s). Cores review
priority work and the proposal bot's changes at once; on other changes they
mostly wait for a non-core +1 on the patch set (`gate_opened`), and now and then
jump the gate (CORE_GATE_JUMPS), as a team that mostly keeps to its review policy
does.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.sandbox.model import Change
from reviewbot.sandbox.state import State

BOT_USERNAME = "reviewbot"
BOT_PASSWORD = "sandbox-secret"
CORES = (
    ("mkoval", "Mira Koval"),
    ("tlind", "Tomas Lind"),
    ("pnatarajan", "Priya Natarajan"),
    ("jweber", "Jonas Weber"),
    ("esokolova", "Elena Sokolova"),
    ("kmori", "Kenji Mori"),
)
CLIENT_CORE_GROUP = "glanceclient-core"
CLIENT_CORES = ("tlind", "kmori", "jweber")
# Chance that a core reviews a gated change (non-priority, not the proposal bot's, no
# non-core +1 on the patch set yet) instead of leaving non-cores the first crack. Mostly
# the team keeps to the gate; who slips, and how often, varies (the PTL report's gate
# compliance table shows it).
CORE_GATE_JUMPS = {
    "mkoval": 0.06,
    "tlind": 0.12,
    "pnatarajan": 0.35,
    "jweber": 0.15,
    "esokolova": 0.04,
    "kmori": 0.18,
}
NEW_CORE_GATE_JUMP = 0.10  # a promoted core's slips, until they find their own pace
PTL = "mkoval"  # adds promoted cores to glance-core (meetings.py)


@dataclass(frozen=True)
class Reviewer:
    """A non-core's habits: how often they review, and how well their votes predict the cores'."""

    username: str
    name: str
    activity: float  # relative chance of being picked as a reviewer
    accuracy: float  # chance their vote sign matches the patch set's real quality
    thoughtful: float  # chance a -1 carries inline comments and a real explanation
    drive_by: float  # chance of a content-free +1 regardless of quality


NONCORES = (
    Reviewer("asha.raman", "Asha Raman", 3.0, 0.92, 0.8, 0.02),
    Reviewer("dvolkov", "Dmitri Volkov", 2.5, 0.88, 0.6, 0.05),
    Reviewer("lnguyen", "Linh Nguyen", 2.0, 0.85, 0.7, 0.05),
    Reviewer("obrien", "Sean O'Brien", 1.5, 0.80, 0.4, 0.10),
    Reviewer("zangstrom", "Zoë Ångström", 1.5, 0.90, 0.9, 0.0),
    Reviewer("rkapoor", "Rahul Kapoor", 2.0, 0.60, 0.2, 0.35),
    Reviewer("mgarcia", "Maria Garcia", 1.0, 0.75, 0.5, 0.10),
    Reviewer("tbaker", "Tom Baker", 1.2, 0.45, 0.1, 0.50),
    Reviewer("yli", "Yan Li", 1.0, 0.86, 0.6, 0.05),
    Reviewer("kowalski", "Anna Kowalski", 0.8, 0.70, 0.3, 0.15),
    Reviewer("fsilva", "Felipe Silva", 0.7, 0.35, 0.2, 0.20),
    Reviewer("hmueller", "Hanna Müller", 0.6, 0.95, 0.9, 0.0),
    Reviewer("jsmith", "John Smith", 1.0, 0.55, 0.1, 0.60),
    Reviewer("pdubois", "Pierre Dubois", 0.5, 0.80, 0.5, 0.05),
    Reviewer("skim", "Soo-ah Kim", 0.4, 0.90, 0.8, 0.0),
)
_NONCORE_NAMES = frozenset(r.username for r in NONCORES)


def setup_people(sb: State) -> None:
    """Accounts and groups of the cast, in a fixed order (account ids follow it)."""
    for username, name in CORES:
        sb.add_account(username, name)
    for r in NONCORES:
        sb.add_account(r.username, r.name)
    sb.add_account("zuul", "Zuul", "zuul@openstack.org", may_edit_hashtags=False)
    sb.add_account(
        "proposal-bot",
        "OpenStack Proposal Bot",
        "openstack-infra@lists.openstack.org",
        may_edit_hashtags=False,
    )
    sb.add_account(BOT_USERNAME, "Review Bot", "reviewbot@example.org", password=BOT_PASSWORD)
    sb.add_group("glance-core", [u for u, _ in CORES])
    # A second team's core group (config/sandbox-teams.toml: the client libraries as a
    # team of their own), so the sandbox serves a deployment of several teams.
    sb.add_group(CLIENT_CORE_GROUP, list(CLIENT_CORES))
    sb.add_group("Service Users", ["zuul", "proposal-bot"])


def gate_opened(sb: State, change: Change) -> bool:
    """Whether `change`'s current patch set has a qualifying non-core +1, counted the way
    the PTL report counts it (reviewbot/metrics/core_effort.py): a non-core's +1 cast on this
    patch set, by neither the change owner nor the patch set's uploader.

    A vote dated before the patch set was created is one Gerrit copied forward (a trivial
    rebase keeps every vote with its old date); the report reads vote events per patch
    set, so such a copy does not open the gate, and neither does it here.
    """
    ps = change.current
    votes = ps.approvals.get("Code-Review", {})
    return any(
        v.value == 1 and v.date >= ps.created and a not in (change.owner, ps.uploader)
        and sb.accounts[a].username in _NONCORE_NAMES and not sb.is_core(a)
        for a, v in votes.items()
    )
