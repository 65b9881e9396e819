"""Sandbox data: a deterministic Glance Ocata-like review cycle, and live "activity" for the demo.

Same seed -> same accounts, changes, votes and messages. People are invented;
blueprint names and the cycle dates are Glance Ocata's. The cast: ~6 cores in
`glance-core`, Zuul and the proposal bot in `Service Users`, and non-cores of
varied review quality (careful reviewers whose votes match the cores',
contrarians, thoughtful -1s with inline comments, drive-by +1s). Cores review
priority work and the proposal bot's changes at once; on other changes they
mostly wait for a non-core +1 on the patch set, and now and then jump the gate
(CORE_GATE_JUMPS), as a team that mostly keeps to its review policy does.

The team also promotes non-cores to core the way real teams do (`_Cycle.meeting`):
at a team meeting every few weeks it looks at who has reviewed steadily over the
last months and agreed with the cores more often than not, and adds at most one
person to `glance-core` (the group's audit log records the date, which sync reads
as their promotion); now and then it promotes a quiet, careful reviewer instead of
the busiest one. From then on that person reviews as a core.

Size: ~830 lines of scenario (cast, cycle, promotions, live activity) in one seeded
random stream; splitting it would have to hand the stream across modules without
changing any generated cycle, which every seeded test pins.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from reviewbot.clock import utcnow
from reviewbot.sandbox.model import Change, State

BOT_USERNAME = "reviewbot"
BOT_PASSWORD = "sandbox-secret"
PROJECTS = ("openstack/glance", "openstack/python-glanceclient", "openstack/glance_store")
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

# Promotions: the first team meeting this long after the history starts, then one every
# MEETING_EVERY; each looks back over RECORD_WEEKS of reviews.
FIRST_MEETING = timedelta(days=84)
MEETING_EVERY = timedelta(days=91)  # quarterly
RECORD_WEEKS = 12
STEADY_WEEKS = 8  # weeks of the record with a review, to count as sustained reviewing
QUIET_WEEKS = 4  # ... for a quiet promotion, with high agreement instead
QUIET_AGREEMENT = 0.8
MIN_JUDGED = 15  # votes the cores also voted on, before agreement means anything
MIN_CAUGHT = 3  # -1s a core confirmed: the team wants someone who finds problems
QUIET_CHANCE = 0.35  # chance a meeting promotes the quiet, careful candidate
MAX_PROMOTIONS = 4
PTL = "mkoval"


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

# (blueprint, topic style, files, subjects)
PRIORITY_WORK = (
    (
        "community-level-v2-image-sharing",
        (
            "glance/api/v2/images.py",
            "glance/db/sqlalchemy/api.py",
            "glance/api/v2/image_members.py",
        ),
        (
            "Add community visibility to images v2",
            "Allow sharing of community images",
            "Fix visibility filter for community images",
            "Add tests for community image listing",
        ),
    ),
    (
        "image-import-refactor",
        (
            "glance/api/v2/image_data.py",
            "glance/async/flows/base_import.py",
            "glance/api/v2/discovery.py",
        ),
        (
            "Add image import discovery call",
            "Refactor image import flow",
            "Introduce staging area for image import",
            "Add import method validation",
        ),
    ),
    (
        "rolling-upgrades",
        ("glance/db/migration.py", "glance/cmd/manage.py"),
        ("Add expand/migrate/contract commands to glance-manage", "Document rolling upgrades"),
    ),
    (
        "database-strategy-for-rolling-upgrades",
        (
            "glance/db/sqlalchemy/alembic_migrations/data_migrations/ocata_migrate01_community_images.py",
            "glance/db/sqlalchemy/alembic_migrations/versions/ocata_expand01_add_visibility.py",
        ),
        ("Add data migration for community images", "Add expand script for visibility column"),
    ),
    (
        "alembic-migrations",
        (
            "glance/db/sqlalchemy/alembic_migrations/env.py",
            "glance/db/sqlalchemy/alembic_migrations/versions/mitaka02_update_metadef_os_nova_server.py",
        ),
        ("Port Glance migrations to Alembic", "Remove sqlalchemy-migrate scripts"),
    ),
)
# config/sandbox.toml's priorities: every PRIORITY_WORK blueprint, and this bug (the
# community goal). The generator needs to know so cores can skip the gate on them.
GOAL_BUG = 1639487
GOAL_TOPIC = "goal-remove-incubated-oslo-code"
BUGS = (
    GOAL_BUG,
    1631532,
    1633813,
    1640563,
    1646008,
    1651424,
    1653410,
    1655727,
    1658133,
    1659813,
    1643119,
    1647491,
)
BUG_WORK = (
    (("glance/api/v2/images.py",), "Fix 500 on image-list with invalid marker"),
    (("glance/common/wsgi.py",), "Return 400 on malformed JSON patch"),
    (
        ("glance/openstack/common/__init__.py", "glance/openstack/common/_i18n.py"),
        "Remove incubated oslo code",
    ),
    (("glance_store/_drivers/swift/store.py",), "Handle swift 404 on delete gracefully"),
    (("glanceclient/v2/images.py",), "Fix image-create --file with stdin"),
    (("glance/location.py",), "Check location metadata before update"),
    (("glance/registry/api/v1/images.py",), "Deprecate the registry v1 API cleanly"),
)
MISC_WORK = (
    (("doc/source/admin/troubleshooting.rst",), "Update troubleshooting docs"),
    (("glance/tests/unit/v2/test_images_resource.py",), "Use fixtures in image resource tests"),
    (("tox.ini",), "Switch tox to use constraints"),
    (("releasenotes/notes/ocata-prelude-0a1b2c3d.yaml",), "Add Ocata prelude release note"),
    (("glance/common/config.py",), "Improve help text of image cache options"),
    (("README.rst",), "Show team and repo badges on README"),
)
HOSTILE_SUBJECT = "Fix <script>alert(1)</script> in image name rendering"
HOSTILE_TEXT = "Try this name: <img src=x onerror=alert(1)> & <script>alert('xss')</script>"

PLUS_TEXT = ("LGTM", "Looks good to me, thanks.", "Nice cleanup.", "Tested locally, works.", "")
MINUS_TEXT = (
    "This breaks the v1 API; see inline comments for the failing case and a suggested fix.",
    "The migration is not idempotent when run twice; please add a test for the re-run case.",
    "Please split the refactor from the behaviour change so each can be reviewed alone.",
    "Missing a release note, and the new option needs help text explaining its default.",
)
SHORT_MINUS = ("-1", "needs work", "nit")
CORE_PLUS2 = ("Looks good.", "Thanks, this is what we discussed at the meeting.", "")
CORE_MINUS = (
    "See inline.",
    "We agreed at the summit to do this differently; see the spec.",
    "This needs a spec first.",
)
OWNER_REPLY = ("Done", "Thanks, addressed in the next patch set.", "Fixed, thanks!")
ZUUL_OK = (
    "Build succeeded (check pipeline).\n\n"
    "- gate-glance-pep8-ubuntu-xenial http://logs.openstack.org/ : SUCCESS in 4m 02s\n"
    "- gate-glance-python27-ubuntu-xenial http://logs.openstack.org/ : SUCCESS in 9m 41s"
)
ZUUL_FAIL = (
    "Build failed (check pipeline).  For information on how to proceed, see "
    "http://docs.openstack.org/infra/manual/developers.html#automated-testing\n\n"
    "- gate-glance-python27-ubuntu-xenial http://logs.openstack.org/ : FAILURE in 8m 13s"
)
ZUUL_GATE = "Build succeeded (gate pipeline)."


def _setup_people(sb: State) -> None:
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


class _NotYet(Exception):
    """The change's next event would fall after `not_after`: its story stops there."""


class _Cycle:
    """One generation run; all randomness flows from one seeded Random."""

    def __init__(
        self,
        sb: State,
        rng: random.Random,
        start: datetime,
        end: datetime,
        not_after: datetime | None = None,
    ) -> None:
        self.sb = sb
        self.rng = rng
        self.start = start
        self.end = end
        self.not_after = not_after
        self.cores = [u for u, _ in CORES]
        self.noncores = list(NONCORES)
        self.weights = [r.activity for r in NONCORES]
        self.pool: list[Reviewer] = []
        self.core_pool: list[str] = []
        self.promo_rng = random.Random(rng.random())  # drawn first: see `meeting`
        self.promoted: list[tuple[str, datetime]] = []
        self.gated = False  # the current change is subject to the non-core +1 gate
        self.pace = 1.0  # < 1 squeezes a late change's timeline so it ends near the cycle end

    def meeting(self, day: datetime) -> str | None:
        """A team meeting on `day`: maybe promote one non-core (returns who).

        The team reads the record the sandbox holds up to `day`: per non-core, the weeks
        of the last RECORD_WEEKS with a Code-Review vote on someone else's change, how
        often their vote's sign matched the last core vote cast after it on the same
        patch set, and how many of their -1s a core confirmed that way. A steady
        reviewer (STEADY_WEEKS) who agrees more often than not is a candidate; the
        busiest one is promoted, or now and then (QUIET_CHANCE) a quiet reviewer with
        fewer weeks but QUIET_AGREEMENT or better. Promotions use their own Random, so the
        rest of the cycle is the one the seed always gave until someone is promoted."""
        sb = self.sb
        since = day - timedelta(weeks=RECORD_WEEKS)
        names = {sb.account_id(r.username): r.username for r in self.noncores}
        weeks: dict[str, set[int]] = {n: set() for n in names.values()}
        votes: dict[str, int] = dict.fromkeys(names.values(), 0)
        agree: dict[str, int] = dict.fromkeys(names.values(), 0)
        judged: dict[str, int] = dict.fromkeys(names.values(), 0)
        caught: dict[str, int] = dict.fromkeys(names.values(), 0)  # -1s a core confirmed
        for change in sb.changes.values():
            for ps in change.patch_sets:
                # The votes standing on the patch set (as a person glancing at it sees
                # them), those already cast by the meeting.
                cr = [(a, v.date, v.value) for a, v in ps.approvals.get("Code-Review", {}).items()
                      if v.date <= day and v.date >= ps.created]
                # What the cores said last on the patch set, and when.
                core_votes = sorted((date, v) for a, date, v in cr
                                    if v and sb.accounts[a].username in self.cores)
                for a, date, v in cr:
                    who = names.get(a)
                    if who is None or not v or a == change.owner or date < since:
                        continue
                    votes[who] += 1
                    weeks[who].add((day - date).days // 7)
                    if core_votes and core_votes[-1][0] > date:  # a core decided after them
                        judged[who] += 1
                        agree[who] += (v > 0) == (core_votes[-1][1] > 0)
                        caught[who] += v < 0 and core_votes[-1][1] < 0
        def share(n: str) -> float:
            return agree[n] / judged[n] if judged[n] else 0.0
        # Agrees more often than not, and finds problems too (not only approves).
        fair = [n for n in names.values() if judged[n] >= MIN_JUDGED
                and 2 * agree[n] > judged[n] and caught[n] >= MIN_CAUGHT]
        steady = [n for n in fair if len(weeks[n]) >= STEADY_WEEKS]
        quiet = [n for n in fair if len(weeks[n]) >= QUIET_WEEKS and share(n) >= QUIET_AGREEMENT
                 and n not in steady]
        if quiet and self.promo_rng.random() < QUIET_CHANCE:
            chosen = max(quiet, key=lambda n: (share(n), n))
        elif steady:
            chosen = max(steady, key=lambda n: (len(weeks[n]), votes[n], n))
        else:
            return None
        sb.add_group_member("glance-core", chosen, when=day, by=PTL)
        self.promoted.append((chosen, day))
        self.cores.append(chosen)
        keep = [i for i, r in enumerate(self.noncores) if r.username != chosen]
        self.noncores = [self.noncores[i] for i in keep]
        self.weights = [self.weights[i] for i in keep]
        return chosen

    def when(self, t: datetime, lo_hours: float, hi_hours: float) -> datetime:
        hours = self.rng.uniform(lo_hours, hi_hours) * self.pace
        t = t + timedelta(seconds=max(1, int(hours * 3600)))
        if self.not_after is not None and t > self.not_after:
            raise _NotYet
        return t

    def spec(self, index: int) -> dict[str, Any]:
        rng = self.rng
        roll = rng.random()
        project = rng.choices(PROJECTS, weights=(65, 20, 15))[0]
        branch = "stable/newton" if rng.random() < 0.05 else "master"
        owner = (
            rng.choice(self.cores)
            if rng.random() < 0.3
            else rng.choices([r.username for r in self.noncores], weights=self.weights)[0]
        )
        files: tuple[str, ...]
        spec: dict[str, Any] = {
            "project": project,
            "branch": branch,
            "owner": owner,
            "topic": None,
            "hashtags": (),
            "body": None,
            "wip": rng.random() < 0.08,
            "priority": False,
        }
        if index % 97 == 6:
            spec.update(
                subject=HOSTILE_SUBJECT,
                files=("glance/api/v2/images.py",),
                body=f"The name field was not escaped.\n\n{HOSTILE_TEXT}\n\nCloses-Bug: #1646008",
                topic="bug/1646008",
            )
        elif roll < 0.30:
            bp, files, subjects = rng.choice(PRIORITY_WORK)
            footer = rng.choice(("Implements", "Partially-Implements"))
            spec.update(
                subject=rng.choice(subjects),
                files=files,
                body=f"Work towards the Ocata priority.\n\n{footer}: blueprint {bp}",
                topic=f"bp/{bp}" if rng.random() < 0.7 else None,
                priority=True,
            )
        elif roll < 0.65:
            files, subject = rng.choice(BUG_WORK)
            bug = rng.choice(BUGS)
            kind = rng.choice(("Closes-Bug", "Closes-Bug", "Partial-Bug", "Related-Bug"))
            spec.update(
                subject=subject,
                files=files,
                body=f"{subject}.\n\n{kind}: #{bug}",
                topic=f"bug/{bug}" if rng.random() < 0.5 else None,
            )
            spec["priority"] = bug == GOAL_BUG
            if bug == GOAL_BUG and rng.random() < 0.5:
                spec["topic"] = GOAL_TOPIC
        elif roll < 0.73:
            spec.update(
                subject="Updated from global requirements",
                owner="proposal-bot",
                files=("requirements.txt", "test-requirements.txt"),
                topic="openstack/requirements",
                wip=False,
                project=project,
                body="Change-Id is managed by the proposal bot.",
            )
        else:
            files, subject = rng.choice(MISC_WORK)
            spec.update(subject=subject, files=files)
        if rng.random() < 0.04:
            spec["hashtags"] = (rng.choice(("ocata-rc-potential", "Community-Goal", "docs")),)
        return spec

    def zuul(self, number: int, t: datetime, ok: bool, ps: int | None = None) -> datetime:
        t = self.when(t, 0.3, 2.0)
        self.sb.review(
            number,
            "zuul",
            labels={"Verified": 1 if ok else -1},
            message=ZUUL_OK if ok else ZUUL_FAIL,
            when=t,
            patch_set=ps,
            tag="autogenerated:zuul:check",
        )
        return t

    def noncore_review(self, number: int, r: Reviewer, t: datetime, good: bool) -> datetime:
        rng, sb = self.rng, self.sb
        t = self.when(t, 0.5, 30)
        if rng.random() < r.drive_by:
            sb.review(number, r.username, labels={"Code-Review": 1}, message="LGTM", when=t)
            return t
        correct = rng.random() < r.accuracy
        positive = good if correct else not good
        if positive:
            sb.review(
                number, r.username, labels={"Code-Review": 1}, message=rng.choice(PLUS_TEXT), when=t
            )
            return t
        if rng.random() < r.thoughtful:
            sb.review(
                number,
                r.username,
                labels={"Code-Review": -1},
                message=rng.choice(MINUS_TEXT),
                comments=rng.randint(1, 6),
                when=t,
            )
        else:
            sb.review(
                number,
                r.username,
                labels={"Code-Review": -1},
                message=rng.choice(SHORT_MINUS),
                when=t,
            )
        return t

    def core_review(self, number: int, core: str, t: datetime, good: bool) -> datetime:
        rng = self.rng
        t = self.when(t, 1, 48)
        if rng.random() < 0.05:
            good = not good  # cores are not infallible
        if good:
            self.sb.review(
                number, core, labels={"Code-Review": 2}, message=rng.choice(CORE_PLUS2), when=t
            )
        elif rng.random() < 0.08:
            self.sb.review(
                number,
                core,
                labels={"Code-Review": -2},
                message="Procedural -2 until the spec merges.",
                when=t,
            )
        else:
            self.sb.review(
                number,
                core,
                labels={"Code-Review": -1},
                message=rng.choice(CORE_MINUS),
                comments=rng.randint(0, 4),
                when=t,
            )
        return t

    def build(self, number: int, created: datetime, spec: dict) -> None:
        rng, sb = self.rng, self.sb
        files = spec["files"]
        sb.add_change(
            spec["project"],
            spec["branch"],
            spec["subject"],
            spec["owner"],
            topic=spec["topic"],
            hashtags=spec["hashtags"],
            message=spec["body"],
            files=files,
            created=created,
            wip=spec["wip"],
            insertions=rng.randint(3, 400),
            deletions=rng.randint(0, 120),
            number=number,
        )
        bot_change = spec["owner"] == "proposal-bot"
        self.gated = not (spec["priority"] or bot_change)
        n_ps = 1 if bot_change else max(1, min(14, int(rng.expovariate(1 / 4.2)) + 1))
        # The same few people follow a change across its patch sets.
        pool = {r.username: r for r in rng.choices(self.noncores, weights=self.weights, k=4)}
        self.pool = [r for r in pool.values() if r.username != spec["owner"]]
        self.core_pool = rng.sample(
            [c for c in self.cores if c != spec["owner"]], rng.randint(1, 3)
        )
        # ~110 hours of activity per patch set on average; squeeze late changes.
        left_hours = max(1.0, (self.end - created).total_seconds() / 3600)
        self.pace = min(1.0, left_hours / (n_ps * 110 + 60))
        fate = rng.random()
        final = "merged" if fate < 0.55 else ("abandoned" if fate < 0.70 else "open")
        t = created
        owner = spec["owner"]
        for ps in range(1, n_ps + 1):
            last = ps == n_ps
            good = last and final == "merged" or (last and rng.random() < 0.5)
            if ps > 1:
                # The new patch set starts gated: a +1 Gerrit copies forward on a trivial
                # rebase does not open it (see _gate_opened).
                t = self.when(t, 2, 72)
                kind = "TRIVIAL_REBASE" if rng.random() < 0.15 else "REWORK"
                sb.upload_patch_set(
                    number,
                    owner,
                    when=t,
                    kind=kind,
                    insertions=rng.randint(3, 400),
                    deletions=rng.randint(0, 120),
                )
                if spec["wip"] and ps >= 2 and rng.random() < 0.6:
                    t = self.when(t, 0.1, 1)
                    sb.set_wip(number, False, when=t)
            t = self.zuul(number, t, good or rng.random() < 0.6)
            if sb.changes[number].wip and not last:
                continue
            t = self.review_round(number, t, good, owner, last, bot_change)
        self.finish(number, t, final, owner)

    def regular_reviewer(self) -> Reviewer:
        """Mostly one of the change's regular reviewers, sometimes a passer-by (maybe the owner)."""
        if self.pool and self.rng.random() < 0.85:
            return self.rng.choice(self.pool)
        return self.rng.choices(self.noncores, weights=self.weights)[0]

    def keeps_gate(self, number: int, core: str) -> bool:
        """True when the patch set is still gated and `core` waits for a non-core +1 rather
        than jumping the gate."""
        if not self.gated or _gate_opened(self.sb, self.sb.changes[number]):
            return False
        return self.rng.random() >= CORE_GATE_JUMPS.get(core, NEW_CORE_GATE_JUMP)

    def review_round(
        self, number: int, t: datetime, good: bool, owner: str, last: bool, bot_change: bool
    ) -> datetime:
        rng, sb = self.rng, self.sb
        if not bot_change:
            for _ in range(rng.randint(0, 3)):
                r = self.regular_reviewer()
                if r.username == owner:
                    continue
                t = self.noncore_review(number, r, t, good)
                roll = rng.random()
                if roll < 0.04:  # second thoughts: vote removed
                    t = self.when(t, 0.2, 6)
                    sb.remove_vote(number, r.username, "Code-Review", when=t)
                elif roll < 0.08:  # vote changed on the same patch set after a reply
                    t = self.when(t, 0.5, 10)
                    sb.review(
                        number,
                        owner,
                        message=rng.choice(OWNER_REPLY),
                        comments=rng.randint(1, 3),
                        when=t,
                    )
                    t = self.when(t, 0.5, 10)
                    sb.review(
                        number,
                        r.username,
                        labels={"Code-Review": 1},
                        message="Thanks for the explanation, makes sense now.",
                        when=t,
                    )
        if rng.random() < (0.9 if last else 0.5):
            core = rng.choice(self.core_pool)
            if not self.keeps_gate(number, core):
                t = self.core_review(number, core, t, good)
            elif rng.random() < 0.4:
                # The core leaves it to non-cores; sometimes one more looks soon, and the
                # core follows once that is a +1 (a -1 sends it back to the owner first).
                r = self.regular_reviewer()
                if r.username != owner:
                    t = self.noncore_review(number, r, t, good)
                    if _gate_opened(sb, sb.changes[number]):
                        t = self.core_review(number, core, t, good)
        if not good and rng.random() < 0.5:
            t = self.when(t, 1, 24)
            sb.review(
                number, owner, message=rng.choice(OWNER_REPLY), comments=rng.randint(1, 5), when=t
            )
        if rng.random() < 0.03:  # a core clears a stale non-core -1 (deleteVote)
            cur = sb.changes[number].current.approvals.get("Code-Review", {})
            stale = [a for a, v in cur.items() if v.value == -1 and not sb.is_core(a)]
            if stale:
                t = self.when(t, 1, 24)
                sb.delete_vote(number, stale[0], "Code-Review", by=self.core_pool[0], when=t)
        if rng.random() < 0.02:
            t = self.when(t, 1, 24)
            sb.review(number, rng.choice(self.noncores).username, message=HOSTILE_TEXT, when=t)
        return t

    def finish(self, number: int, t: datetime, final: str, owner: str) -> None:
        rng, sb = self.rng, self.sb
        change = sb.changes[number]
        if final == "merged" and not change.wip:
            others = [c for c in self.cores if c != owner]
            first, second = rng.sample(others, 2)
            cur = change.current.approvals.get("Code-Review", {})
            missing = [
                core for core in (first, second)
                if cur.get(sb.account_id(core)) is None or cur[sb.account_id(core)].value < 2
            ]
            if missing and self.keeps_gate(number, missing[0]):
                # Merging still waits for the first crack: a non-core +1s before the +2s.
                r = self.regular_reviewer()
                if r.username != owner:
                    t = self.when(t, 0.5, 30)
                    sb.review(
                        number,
                        r.username,
                        labels={"Code-Review": 1},
                        message=rng.choice(PLUS_TEXT),
                        when=t,
                    )
            for core in missing:
                t = self.when(t, 1, 24)
                sb.review(
                    number, core, labels={"Code-Review": 2}, message=rng.choice(CORE_PLUS2), when=t
                )
            t = self.when(t, 0.1, 2)
            sb.review(number, second, labels={"Workflow": 1}, when=t)
            t = self.when(t, 0.5, 3)
            sb.review(
                number,
                "zuul",
                labels={"Verified": 2},
                message=ZUUL_GATE,
                when=t,
                tag="autogenerated:zuul:gate",
            )
            sb.merge(number, "zuul", when=self.when(t, 0, 0.01))
        elif final == "abandoned":
            by = owner if rng.random() < 0.8 else rng.choice(self.cores)
            sb.abandon(
                number,
                by,
                when=self.when(t, 24, 24 * 30),
                message=rng.choice(("", "Superseded by another change.", "Not needed any more.")),
            )
        elif rng.random() < 0.12 and not change.wip:
            t = self.when(t, 1, 48)
            sb.set_wip(number, True, when=t)


def generate_cycle(
    sb: State,
    changes: int = 200,
    seed: int = 1,
    start: datetime = datetime(2016, 10, 6),
    end: datetime = datetime(2017, 2, 20),
    first_number: int = 380001,
    not_after: datetime | None = None,
) -> State:
    """Fill `sb` with a deterministic Glance Ocata-like cycle; returns `sb`.

    Changes are created between `start` and `end` (naive UTC) and their
    stories may run a little past `end`. With `not_after` (the demo passes
    "now") no event is later than it: a change whose next event would be
    later simply stops where it is, still open, as a cycle in progress looks.
    """
    rng = random.Random(seed)
    with sb.lock:
        if "glance-core" not in sb.groups:
            _setup_people(sb)
        cycle = _Cycle(sb, rng, start, end, not_after)
        span = (end - start).total_seconds()
        offsets = sorted(rng.uniform(0, span * 0.97) for _ in range(changes))
        # Team meetings at 16:00 UTC; each is held before the first change created after it.
        meeting = datetime.combine((start + FIRST_MEETING).date(), time(16))
        for i, offset in enumerate(offsets):
            created = start + timedelta(seconds=int(offset))
            if not_after is not None and created > not_after:
                break  # offsets are sorted: the rest would be created later still
            while meeting < created:
                if len(cycle.promoted) < MAX_PROMOTIONS:
                    cycle.meeting(meeting)
                meeting += MEETING_EVERY
            try:
                cycle.build(first_number + i, created, cycle.spec(i))
            except _NotYet:
                pass
    return sb


_NONCORE_NAMES = frozenset(r.username for r in NONCORES)


def _gate_opened(sb: State, change: Change) -> bool:
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


def _waits_for_gate(sb: State, change: Change) -> bool:
    """Whether a core keeping to the gate leaves `change` alone for now: not priority work
    (as config/sandbox.toml declares it), not the proposal bot's, and the gate not yet
    opened on its current patch set."""
    if sb.accounts[change.owner].username == "proposal-bot" or change.topic == GOAL_TOPIC:
        return False
    body = change.current.body or ""
    if f"#{GOAL_BUG}" in body or any(f"blueprint {bp}" in body for bp, _, _ in PRIORITY_WORK):
        return False
    return not _gate_opened(sb, change)


class Activity:
    """Keeps adding votes and uploads 'now' so the demo's queues move while someone watches."""

    def __init__(self, sb: State, every_seconds: float = 3.0, seed: int = 0) -> None:
        self.sb = sb
        self.every = every_seconds
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.steps = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-activity", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.step(utcnow())

    def step(self, now: datetime) -> str:
        """One random event on a random open change; returns what happened (for logs/tests)."""
        rng, sb = self.rng, self.sb
        with sb.lock:
            open_changes = [c for c in sb.changes.values() if c.status == "NEW" and not c.wip]
            if not open_changes:
                return "nothing open"
            change = rng.choice(open_changes)
            owner = sb.accounts[change.owner].username
            roll = rng.random()
            reviewers = [r for r in NONCORES if r.username != owner]
            cores = [u for u, _ in CORES if u != owner]
            if roll < 0.45:
                r = rng.choice(reviewers)
                value = 1 if rng.random() < 0.7 else -1
                message = rng.choice(PLUS_TEXT if value > 0 else MINUS_TEXT)
                if sb.is_core(sb.account_id(r.username)) and _waits_for_gate(sb, change):
                    # Promoted to core since: keeps to the gate as the other cores do.
                    self.steps += 1
                    return f"{r.username} (core now) waits for the gate on {change.number}"
                sb.review(change.number, r.username, labels={"Code-Review": value},
                          message=message, when=now)
                what = f"{r.username} Code-Review{value:+d} on {change.number}"
            elif roll < 0.70:
                core = rng.choice(cores)
                jumps = CORE_GATE_JUMPS.get(core, NEW_CORE_GATE_JUMP)
                if _waits_for_gate(sb, change) and rng.random() >= jumps:
                    # Keeping to the gate: the core turns to a change that is ready instead,
                    # and with none ready reviews nothing this step (voting on the gated
                    # change anyway would be a gate jump the roll above said not to make).
                    ready = [
                        c for c in open_changes
                        if sb.accounts[c.owner].username != core and not _waits_for_gate(sb, c)
                    ]
                    if not ready:
                        self.steps += 1
                        return f"{core} waits for the gate on {change.number}; nothing ready"
                    change = rng.choice(ready)
                value = 2 if rng.random() < 0.6 else -1
                sb.review(
                    change.number,
                    core,
                    labels={"Code-Review": value},
                    message=rng.choice(CORE_PLUS2 if value > 0 else CORE_MINUS),
                    when=now,
                )
                what = f"{core} Code-Review{value:+d} on {change.number}"
            else:
                uploader = owner if owner != "proposal-bot" else "proposal-bot"
                ps = sb.upload_patch_set(change.number, uploader, when=now)
                sb.review(
                    change.number,
                    "zuul",
                    labels={"Verified": 1},
                    message=ZUUL_OK,
                    when=now + timedelta(seconds=1),
                    tag="autogenerated:zuul:check",
                )
                what = f"{uploader} uploaded patch set {ps} of {change.number}"
            self.steps += 1
            return what
