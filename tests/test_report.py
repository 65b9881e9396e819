"""PTL report: table tests of each figure over one small Ocata-like cycle, the Markdown
post compared to tests/fixtures/report_small.md, and the page and exports over HTTP.

Cast: ALICE, BOB, CAROL are non-core; ROSMAITA and JOKKE are core all cycle; NIKHIL
became core on 2016-12-01 (core_history); ZUUL is a bot; PROPOSAL is proposal-bot
(its changes are gate-exempt). Priorities: "images" (rank 1, topic community-images)
and "upgrades" (rank 2, topic rolling-upgrades). Cycle 2016-10-06 .. 2017-02-20.
T = 2016-12-15 00:00 UTC unless a test says otherwise.

The changes (every vote is Code-Review unless named):
 101 images, alice: ps1 10-10, rosmaita -1 10-12; ps2 11-20, bob +1, jokke +2 and
     Workflow+1 11-22 12:00; merged 11-23.
 102 images, carol: ps1 10-30, ps2 11-01; zuul Verified -1 11-02 (labels) -> waiting on
     author; no update since 11-02 -> stale.
 103 images, bob: ps1 12-01, rosmaita -2 12-05 -> blocked as of T; after T: ps2 2017-01-05,
     labels now empty -> waiting on reviewers today.
 104 upgrades, alice: created 2016-09-01 (before the cycle), abandoned 10-20.
 105 upgrades, carol: created 12-20 (after T) -> not in the report as of T.
 106 other, alice: ps1 10-15 jokke +2 10-16 (no non-core +1: gate jump); ps2 11-01 12:00,
     carol +1 11-02 12:00 (gate opens after 1.0 day), rosmaita +2 11-04 12:00 (2.0 days
     after the gate, no jump); merged 11-04.
 107 other, bob: ps1 11-10, alice +1 11-11 12:00 (gate opens after 1.5 days), alice
     removes it 11-12, rosmaita -1 11-13 12:00 (2.0 days after the opening, but the
     patch set had no +1 left: gate jump) -> waiting on author; stale.
 108 exempt, proposal-bot: jokke +2 11-16 (exempt: not checked); merged 11-16.
 109 other, carol: ps1 12-02, carol +1 on her own change (does not qualify), nikhil +1
     12-03 (core since 12-01: a core review, a gate jump), jokke +2 12-04 (jump).
 110 other, bob: ps1 11-20, nikhil +1 11-25 (not core yet: qualifies, 5.0 days),
     rosmaita +2 11-28 (3.0 days after the gate, no jump).
 112 other, jokke: jokke +2 on his own change 11-05 (not a review); merged 11-05.
 113 other: created 08-01, last updated 09-01 -> not in the cycle.
 114 images topic but openstack/nova -> outside the configured projects.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from dashboards.app import create_app
from reviewbot.config import Secrets
from reviewbot.evaluate.verdicts import run_evaluation
from reviewbot.metrics.report import build_report
from reviewbot.store.tables import (
    Account,
    Change,
    CurrentVote,
    GroupMember,
    Message,
    PatchSet,
    VoteEventRow,
)
from reviewbot.timeline.people import CoreSpell, Roster
from reviewbot.timeline.snapshot import (
    ChangeClass,
    ChangeSnapshot,
    MessageInfo,
    PatchSetInfo,
    Vote,
    VoteEvent,
)
from reviewbot.views.report_render import render_csv, render_markdown, report_json
from reviewbot.views.reporting import report_as_of
from tests.conftest import FIXTURES, make_config

ALICE, BOB, CAROL, ROSMAITA, JOKKE, NIKHIL, ZUUL, PROPOSAL = 1, 2, 3, 10, 11, 12, 99, 50
USERNAMES = {ALICE: "alice", BOB: "bob", CAROL: "carol", ROSMAITA: "rosmaita",
             JOKKE: "jokke", NIKHIL: "nikhil", ZUUL: "zuul", PROPOSAL: "proposal-bot"}
T = datetime(2016, 12, 15)
GLANCE = "openstack/glance"

CONFIG_DATA = {
    "gerrit": {"url": "https://review.example.org", "projects": [GLANCE],
               "core_group": "glance-core", "bot_accounts": ["zuul"]},
    "cycle": {"name": "ocata", "start": "2016-10-06", "end": "2017-02-20",
              "feature_freeze": "2017-01-23",
              "milestones": {"O-1": "2016-11-14", "O-2": "2016-12-12"}},
    "priorities": [
        {"id": "images", "title": "Community Images", "rank": 1, "owners": ["tim"],
         "topics": ["community-images"], "spec": "https://specs.example.org/images.html"},
        {"id": "upgrades", "title": "Rolling Upgrades", "rank": 2, "topics": ["rolling-upgrades"]},
    ],
    "gate": {"min_noncore_plus1": 1, "exempt": {"owners": ["proposal-bot"]}},
    "core_history": [{"username": "nikhil", "joined": "2016-12-01"}],
    "report": {"stale_days": 14},
}
CONFIG = make_config(CONFIG_DATA)
ROSTER = Roster(
    core_now=frozenset({ROSMAITA, JOKKE, NIKHIL}),
    bots=frozenset({ZUUL}),
    history={NIKHIL: (CoreSpell(datetime(2016, 12, 1), None),)},
    usernames=USERNAMES,
)


def d(month: int, day: int, hour: int = 0, year: int = 2016) -> datetime:
    return datetime(year, month, day, hour)


def change(number, owner, created, patch_sets, votes=(), *, status="NEW", updated=None,
           closed=None, labels=(), topic=None, project=GLANCE) -> ChangeSnapshot:
    """patch_sets: [(number, created)]; votes: [(ps, account, label, value, when)]."""
    events = tuple(
        VoteEvent(number, ps, account, label, value, when, f"m{number}-{i}", removed=value == 0)
        for i, (ps, account, label, value, when) in enumerate(votes)
    )
    moments = [created, *(c for _, c in patch_sets), *(e.date for e in events)]
    return ChangeSnapshot(
        number=number, project=project, branch="master", subject=f"Change {number}",
        status=status, wip=False, owner_id=owner, created=created,
        updated=updated or max(moments + ([closed] if closed else [])),
        current_patch_set=max(n for n, _ in patch_sets), topic=topic,
        submitted=closed if status == "MERGED" else None, closed_at=closed,
        patch_sets=tuple(PatchSetInfo(n, c, owner) for n, c in patch_sets),
        current_votes=tuple(Vote(label, account, value) for label, account, value in labels),
        vote_events=events,
    )


CR, WF, VER = "Code-Review", "Workflow", "Verified"
CHANGES = [
    change(101, ALICE, d(10, 10), [(1, d(10, 10)), (2, d(11, 20))],
           [(1, ROSMAITA, CR, -1, d(10, 12)), (2, BOB, CR, 1, d(11, 21)),
            (2, JOKKE, CR, 2, d(11, 22, 12)), (2, JOKKE, WF, 1, d(11, 22, 12))],
           status="MERGED", closed=d(11, 23), topic="community-images",
           labels=[(CR, BOB, 1), (CR, JOKKE, 2), (WF, JOKKE, 1)]),
    change(102, CAROL, d(10, 30), [(1, d(10, 30)), (2, d(11, 1))],
           [(2, ZUUL, VER, -1, d(11, 2))], topic="community-images", labels=[(VER, ZUUL, -1)]),
    change(103, BOB, d(12, 1), [(1, d(12, 1)), (2, d(1, 5, year=2017))],
           [(1, ROSMAITA, CR, -2, d(12, 5))], updated=d(1, 10, year=2017),
           topic="community-images"),
    change(104, ALICE, d(9, 1), [(1, d(9, 1))], status="ABANDONED", closed=d(10, 20),
           topic="rolling-upgrades"),
    change(105, CAROL, d(12, 20), [(1, d(12, 20))], topic="rolling-upgrades"),
    change(106, ALICE, d(10, 15), [(1, d(10, 15)), (2, d(11, 1, 12))],
           [(1, JOKKE, CR, 2, d(10, 16)), (2, CAROL, CR, 1, d(11, 2, 12)),
            (2, ROSMAITA, CR, 2, d(11, 4, 12)), (2, ROSMAITA, WF, 1, d(11, 4, 12))],
           status="MERGED", closed=d(11, 4, 13),
           labels=[(CR, CAROL, 1), (CR, ROSMAITA, 2), (WF, ROSMAITA, 1)]),
    change(107, BOB, d(11, 10), [(1, d(11, 10))],
           [(1, ALICE, CR, 1, d(11, 11, 12)), (1, ALICE, CR, 0, d(11, 12)),
            (1, ROSMAITA, CR, -1, d(11, 13, 12))], labels=[(CR, ROSMAITA, -1)]),
    change(108, PROPOSAL, d(11, 15), [(1, d(11, 15))], [(1, JOKKE, CR, 2, d(11, 16))],
           status="MERGED", closed=d(11, 16, 1), labels=[(CR, JOKKE, 2)]),
    change(109, CAROL, d(12, 2), [(1, d(12, 2))],
           [(1, CAROL, CR, 1, d(12, 2, 13)), (1, NIKHIL, CR, 1, d(12, 3)),
            (1, JOKKE, CR, 2, d(12, 4)), (1, ZUUL, VER, 1, d(12, 4, 1))],
           labels=[(CR, CAROL, 1), (CR, NIKHIL, 1), (CR, JOKKE, 2), (VER, ZUUL, 1)]),
    change(110, BOB, d(11, 20), [(1, d(11, 20))],
           [(1, NIKHIL, CR, 1, d(11, 25)), (1, ROSMAITA, CR, 2, d(11, 28))],
           labels=[(CR, NIKHIL, 1), (CR, ROSMAITA, 2)]),
    change(112, JOKKE, d(11, 4), [(1, d(11, 4))], [(1, JOKKE, CR, 2, d(11, 5))],
           status="MERGED", closed=d(11, 5, 1), labels=[(CR, JOKKE, 2)]),
    change(113, ALICE, d(8, 1), [(1, d(8, 1))], updated=d(9, 1)),
    change(114, ALICE, d(11, 1), [(1, d(11, 1))], [(1, JOKKE, CR, 2, d(11, 2))],
           topic="community-images", project="openstack/nova"),
]
CLASSES = {
    101: ChangeClass(("images",)), 102: ChangeClass(("images",)),
    103: ChangeClass(("images",)), 114: ChangeClass(("images",)),
    104: ChangeClass(("upgrades",)), 105: ChangeClass(("upgrades",)),
    108: ChangeClass((), exempt=True),
}


def report(as_of: datetime = T):
    return build_report(CHANGES, ROSTER, CLASSES, CONFIG, as_of)


def by_id(rep, pid):
    return next(p for p in rep.priorities if p.id == pid)


# --- per priority ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("pid", "as_of", "open_", "merged", "abandoned"),
    [
        # 101 merged 11-23; 102 and 103 open; 114 is nova (not configured).
        ("images", T, 2, 1, 0),
        # Before 101 merged it still counts as open; 103 does not exist yet.
        ("images", d(11, 22, 18), 2, 0, 0),
        # 104 was created before the cycle but abandoned in it; 105 is created after T.
        ("upgrades", T, 0, 0, 1),
        ("upgrades", d(12, 21), 1, 0, 1),
        # 106, 108 (exempt), 112 merged; 107, 109, 110 open; 113 untouched in the cycle.
        ("other", T, 3, 3, 0),
    ],
)
def test_open_merged_abandoned_counts_as_of_t(pid, as_of, open_, merged, abandoned):
    rep = report(as_of)
    p = rep.other if pid == "other" else by_id(rep, pid)
    assert (p.open, p.merged, p.abandoned) == (open_, merged, abandoned)


@pytest.mark.parametrize(
    ("number", "as_of", "state"),
    [
        # Labels (nothing happened after T): zuul's Verified -1.
        (102, T, "waiting_on_author"),
        # History as of T: rosmaita's -2 on patch set 1 (patch set 2 comes later).
        (103, T, "blocked"),
        # Today: labels on patch set 2 are empty.
        (103, d(3, 1, year=2017), "waiting_on_reviewers"),
        # History at 11-22 18:00: jokke's Workflow+1 on patch set 2, merged the next day.
        (101, d(11, 22, 18), "approved"),
        # At 11-21 12:00 only bob's +1 on patch set 2: rosmaita's -1 was on patch set 1.
        (101, d(11, 21, 12), "waiting_on_reviewers"),
        (107, T, "waiting_on_author"),
        (110, T, "waiting_on_reviewers"),
    ],
)
def test_open_change_state_is_read_as_of_t(number, as_of, state):
    row = next(r for r in report(as_of).rows if r.number == number)
    assert row.status == "open"
    assert row.state == state


def test_a_minus1_the_owner_answered_hands_the_change_back_to_the_reviewers():
    # 107: rosmaita's -1 on 11-13 12:00; bob (the owner) replies on 11-14.
    answered = [c for c in CHANGES if c.number != 107] + [dataclasses.replace(
        next(c for c in CHANGES if c.number == 107), owner_replies=(d(11, 14),),
        messages=(MessageInfo("r107", 1, BOB, d(11, 14), None, 0, "Done, see the reply", False),),
        updated=d(11, 14))]
    row = next(r for r in build_report(answered, ROSTER, CLASSES, CONFIG, T).rows
               if r.number == 107)
    assert row.state == "waiting_on_reviewers"
    before = next(r for r in build_report(answered, ROSTER, CLASSES, CONFIG, d(11, 13, 18)).rows
                  if r.number == 107)
    assert before.state == "waiting_on_author"  # the reply does not exist yet


def test_the_bots_own_writes_are_no_activity_for_stale():
    # The bot tags 107 on 12-14 (Gerrit moves `updated`) and posts its gated message.
    tagged = [c for c in CHANGES if c.number != 107] + [dataclasses.replace(
        next(c for c in CHANGES if c.number == 107), updated=d(12, 14),
        messages=(MessageInfo("b107", 1, 999, d(12, 14), "autogenerated:reviewbot", 0,
                              "Not a cycle priority", False),))]
    rep = build_report(tagged, ROSTER, CLASSES, CONFIG, T)
    assert 107 in [r.number for r in rep.other.stale]
    row = next(r for r in rep.rows if r.number == 107)
    assert row.last_activity == d(11, 13, 12) and row.last_update == d(12, 14)


def test_changes_created_after_the_cycle_end_are_counted_and_charted():
    late = change(120, CAROL, d(3, 10, year=2017), [(1, d(3, 10, year=2017))],
                  topic="community-images")
    merged_late = change(121, ALICE, d(3, 12, year=2017), [(1, d(3, 12, year=2017))],
                         status="MERGED", closed=d(3, 14, year=2017))
    classes = {**CLASSES, 120: ChangeClass(("images",))}
    as_of = d(4, 1, year=2017)
    rep = build_report([*CHANGES, late, merged_late], ROSTER, classes, CONFIG, as_of)
    images = by_id(rep, "images")
    assert 120 in [r.number for r in images.changes]
    assert images.burnup[-1].day == date(2017, 3, 10) and images.burnup[-1].total == 4
    assert rep.other.merged >= 1 and sum(w.merged for w in rep.other.merges_per_week) == \
        rep.other.merged - sum(1 for r in rep.other.changes
                               if r.status == "merged" and r.closed.date() < date(2016, 10, 6))


def test_every_core_row_adds_up():
    for f in report(d(2, 20, year=2017)).effort.cores:
        assert f.reviews == f.priority_reviews + f.exempt_reviews + f.gate_checked
    jokke = next(f for f in report().effort.cores if f.username == "jokke")
    assert jokke.exempt_reviews == 1  # his +2 on proposal-bot's 108


def test_state_breakdown_per_priority():
    images = by_id(report(), "images")
    assert images.states == {"waiting_on_reviewers": 0, "waiting_on_author": 1,
                             "blocked": 1, "approved": 0}
    assert report().other.states == {"waiting_on_reviewers": 2, "waiting_on_author": 1,
                                     "blocked": 0, "approved": 0}


def test_waits_median_and_75th_percentile():
    images = by_id(report(), "images")
    # Since the current patch set: 102 ps2 11-01 -> 44 days; 103 ps1 12-01 -> 14 days
    # (its ps2 is after T). Median 29; p75 by linear interpolation 14 + 0.75 * 30 = 36.5.
    w = images.wait_since_patch_set
    assert (w.count, w.median, w.p75) == (2, 29.0, 36.5)
    # Total age: 102 created 10-30 -> 46 days, 103 12-01 -> 14. Median 30, p75 38.
    assert (images.age.median, images.age.p75) == (30.0, 38.0)
    # No open changes: no figure rather than zero.
    upgrades = by_id(report(), "upgrades")
    assert (upgrades.age.count, upgrades.age.median, upgrades.age.p75) == (0, None, None)


def test_merges_per_week_across_the_cycle():
    images = by_id(report(), "images")
    # Weeks start on the cycle start (Thu 10-06); T 12-15 opens the 11th week.
    assert [w.week_start for w in images.merges_per_week][:2] == [date(2016, 10, 6),
                                                                   date(2016, 10, 13)]
    # 101 merged 11-23, 48 days in: week 6 (11-17 .. 11-23).
    assert [w.merged for w in images.merges_per_week] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    # 106 (11-04) and 112 (11-05) in week 4, 108 (11-16) in week 5.
    assert [w.merged for w in report().other.merges_per_week][:7] == [0, 0, 0, 0, 2, 1, 0]


def test_stale_changes_use_the_last_update_as_of_t():
    rep = report()
    # 102: last update 11-02, 43 days before T. 103: last event as of T is rosmaita's -2
    # on 12-05 (its later update on 01-10 does not exist yet) -> 10 days, not stale.
    assert [r.number for r in by_id(rep, "images").stale] == [102]
    # 107 (11-13) and 110 (11-28, 17 days) are stale; 109 (12-04) is not.
    assert [r.number for r in rep.other.stale] == [107, 110]


def test_burnup_counts_created_and_merged_per_day():
    images = by_id(report(), "images")
    points = {p.day: (p.total, p.merged) for p in images.burnup}
    assert points[date(2016, 10, 6)] == (0, 0)
    assert points[date(2016, 10, 30)] == (2, 0)  # 101, 102
    assert points[date(2016, 11, 23)] == (2, 1)  # 101 merged
    assert points[date(2016, 12, 15)] == (3, 1)  # 103 created 12-01
    assert max(points) == date(2016, 12, 15)  # nothing drawn after T
    # 104 was created before the cycle: it counts from the first day.
    assert by_id(report(), "upgrades").burnup[0].total == 1


def test_owners_come_from_config():
    assert by_id(report(), "images").owners == ("tim",)


# --- cycle-wide core effort -------------------------------------------------------------------

def test_core_priority_share_overall_and_per_core():
    e = report().effort
    # rosmaita: 101 ps1, 103, 106 ps2, 107, 110 (2 on priorities); jokke: 101 ps2, 106 ps1,
    # 108, 109 (1); nikhil: 109 (his +1 on 110 was before he became core). jokke's vote on
    # his own 112 and on nova's 114 are not core reviews. 3 of 10 on priorities.
    assert (e.reviews, e.priority_reviews, e.core_priority_share) == (10, 3, 0.3)
    shares = {f.username: (f.reviews, f.priority_reviews, f.priority_share) for f in e.cores}
    assert shares == {"rosmaita": (5, 2, 0.4), "jokke": (4, 1, 0.25), "nikhil": (1, 0, 0.0)}


def test_gate_compliance_counts_queue_jumping_per_core():
    e = report().effort
    # rosmaita jumped on 107 (alice's +1 was removed before the -1); his 106 ps2 and 110
    # votes came after a qualifying +1. jokke jumped on 106 ps1 and 109 (carol's own +1
    # and nikhil's +1 as a core do not qualify); 108 is exempt. nikhil jumped on 109.
    assert e.gate_compliance == {"rosmaita": 1, "jokke": 2, "nikhil": 1}
    checked = {f.username: f.gate_checked for f in e.cores}
    assert checked == {"rosmaita": 3, "jokke": 2, "nikhil": 1}


def test_gate_and_core_latency_medians():
    e = report().effort
    # Gate openings: 106 ps2 after 1.0 day, 107 after 1.5, 110 after 5.0 -> median 1.5.
    assert (e.gate_latency.count, e.gate_latency.median) == (3, 1.5)
    # First core review after the opening: 2.0, 2.0, 3.0 days -> median 2.0.
    assert (e.core_latency_after_gate.count, e.core_latency_after_gate.median) == (3, 2.0)


def test_ratios_without_a_denominator_are_null():
    rep = report(d(10, 1))  # before the cycle start
    assert rep.effort.core_priority_share is None
    assert rep.effort.gate_compliance == {}
    assert rep.effort.gate_latency.median is None
    body = report_json(rep)
    assert body["core_priority_share"] is None
    assert body["gate_latency"]["median_days"] is None


def test_core_membership_unknown_is_said_not_hidden():
    unknown = Roster(core_known=False, usernames=USERNAMES)
    rep = build_report(CHANGES, unknown, CLASSES, CONFIG, T)
    assert rep.effort.reviews == 0
    assert any("unknown" in n for n in rep.notes)


# --- renderings ---------------------------------------------------------------------------------

def test_markdown_for_the_small_cycle_matches_the_expected_post():
    text = render_markdown(report(), "https://review.example.org")
    expected = (FIXTURES / "report_small.md").read_text()
    assert text == expected


def test_json_shape():
    body = report_json(report())
    assert [p["id"] for p in body["priorities"]] == ["images", "upgrades"]
    images = body["priorities"][0]
    assert (images["open"], images["merged"], images["abandoned"]) == (2, 1, 0)
    assert images["states"]["blocked"] == 1
    assert body["core_priority_share"] == 0.3
    assert body["gate_compliance"] == {"rosmaita": 1, "jokke": 2, "nikhil": 1}


def test_csv_has_one_row_per_change_in_scope():
    rows = list(csv.DictReader(io.StringIO(render_csv(report()))))
    assert [int(r["number"]) for r in rows] == [101, 102, 103, 104, 106, 107, 108, 109, 110, 112]
    r103 = next(r for r in rows if r["number"] == "103")
    assert (r103["priorities"], r103["status"], r103["state"], r103["patch_set"]) == (
        "images", "open", "blocked", "1")


# --- store, CLI-facing step and web -------------------------------------------------------------

def store_scenario(engine) -> None:
    """Write CHANGES into the store as sync would (messages carry the vote events)."""
    with Session(engine) as session:
        for account, name in USERNAMES.items():
            session.add(Account(id=account, username=name))
        for account in (ROSMAITA, JOKKE, NIKHIL):
            session.add(GroupMember(group_name="glance-core", account_id=account))
        session.add(GroupMember(group_name="Service Users", account_id=ZUUL))
        session.flush()
        for c in CHANGES:
            session.add(Change(
                number=c.number, project=c.project, branch=c.branch, subject=c.subject,
                status=c.status, owner_id=c.owner_id, topic=c.topic, created=c.created,
                updated=c.updated, submitted=c.submitted, closed_at=c.closed_at,
                current_patch_set=c.current_patch_set, commit_message=f"{c.subject}\n",
                files=[],
            ))
            session.flush()
            for ps in c.patch_sets:
                session.add(PatchSet(change_number=c.number, number=ps.number,
                                     created=ps.created, uploader_id=ps.uploader_id))
            for e in c.vote_events:
                session.add(Message(id=e.message_id, change_number=c.number,
                                    patch_set=e.patch_set, author_id=e.account_id, date=e.date,
                                    changes_votes=True))
            session.flush()
            for e in c.vote_events:
                session.add(VoteEventRow(
                    message_id=e.message_id, change_number=c.number, patch_set=e.patch_set,
                    account_id=e.account_id, label=e.label, value=e.value, removed=e.removed,
                    date=e.date))
            for v in c.current_votes:
                session.add(CurrentVote(change_number=c.number, label=v.label,
                                        account_id=v.account_id, value=v.value))
        session.commit()


@pytest.fixture
def stored(store_engine):
    store_scenario(store_engine)
    return store_engine


@pytest.mark.parametrize("evaluated", [False, True])
def test_report_from_the_store_equals_the_pure_report(stored, evaluated):
    # Without stored verdicts the step matches priorities itself; with them (written by
    # the real evaluate step, closed changes included) it reads them. Same figures.
    if evaluated:
        run_evaluation(stored, CONFIG, T)
    with Session(stored) as session:
        rep = report_as_of(session, CONFIG, T)
    assert render_markdown(rep, "https://review.example.org") == (
        FIXTURES / "report_small.md").read_text()
    assert report_json(rep) == report_json(report())


@pytest.fixture
def client(stored):
    return TestClient(create_app(CONFIG, secrets=Secrets(), engine=stored))


def test_priorities_page_has_cards_charts_and_stuck_links(client):
    response = client.get("/priorities", params={"as_of": "2016-12-15"})
    assert response.status_code == 200
    html = response.text
    assert html.count('class="card priority"') == 2
    assert html.count("<svg class=\"burnup\"") == 2
    assert "Feature freeze Jan 23" in html and "O-1 Nov 14" in html
    assert 'href="/changes/102"' in html  # stale images change
    assert "rosmaita" in html and "Gate jumps" in html


def test_markdown_csv_and_json_exports(client):
    md = client.get("/report.md", params={"as_of": "2016-12-15"})
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text == (FIXTURES / "report_small.md").read_text()
    exported = client.get("/report.csv", params={"as_of": "2016-12-15"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.text.splitlines()[0].startswith("number,project,branch,subject")
    api = client.get("/api/v1/report", params={"as_of": "2016-12-15T00:00:00Z"})
    assert api.json()["gate_compliance"] == {"rosmaita": 1, "jokke": 2, "nikhil": 1}


def test_a_bad_as_of_is_a_clear_422(client):
    response = client.get("/api/v1/report", params={"as_of": "yesterday"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("as_of:")
    assert "2017-02-22" in response.json()["detail"]
    page = client.get("/priorities", params={"as_of": "yesterday"})
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert '<p class="error">as_of: ' in page.text and "2017-02-22" in page.text


def test_report_from_the_store_equals_the_timeline_on_a_synced_cycle(store_url):
    """The report's SQL reads (owner replies, newest -1s, human activity) against the pure
    report over full snapshots, at several dates of a generated cycle synced over HTTP."""
    import tomllib
    from datetime import timedelta

    from reviewbot.gerrit.client import GerritClient
    from reviewbot.store import open_store, session_scope
    from reviewbot.store.report_reads import load_change_classes
    from reviewbot.store.snapshots import load_changes
    from reviewbot.sync.rest import sync_once
    from reviewbot.timeline.roster import load_roster
    from tests.conftest import ROOT
    from tests.service_support import running_sandbox, service_config

    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    with running_sandbox(data, changes=90, seed=31) as sb:
        config = service_config(data, sb, store_url)
        engine = open_store(store_url)
        sync_once(GerritClient(sb.test_url), engine, config)
    run_evaluation(engine, config, datetime(2017, 3, 1))
    start = datetime(2016, 10, 6)
    with session_scope(engine) as session:
        roster = load_roster(session, config)
        snapshots = load_changes(session, projects=config.gerrit.projects,
                                 branches=config.gerrit.branches, messages=True)
        classes = load_change_classes(session)
        states = set()
        for as_of in (start + timedelta(days=30), start + timedelta(days=75, hours=7),
                      start + timedelta(days=120), datetime(2017, 3, 1)):
            stored = report_as_of(session, config, as_of)
            pure = build_report(snapshots, roster, classes, config, as_of)
            assert report_json(stored) == report_json(pure), as_of
            states |= {r.state for r in stored.rows}
            assert any(p.stale for p in [*stored.priorities, stored.other]) or as_of < \
                start + timedelta(days=20)
    assert {"waiting_on_reviewers", "waiting_on_author"} <= states
    engine.dispose()
