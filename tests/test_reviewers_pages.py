"""Standing from the store: set-based reads, `reviewbot standing`, and the /reviewers pages.

One small Glance-like store: alice (non-core) reviews, core (in glance-core)
gives verdicts, owner owns the changes, zuul is a bot. Times are in January 2017;
as of 2017-02-01 with the sandbox config's 180-day window unless a test says so.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dashboards.app import create_app
from reviewbot.cli import main
from reviewbot.config import Secrets
from reviewbot.evaluate.review_judgements import judge_store
from reviewbot.store import session_scope
from reviewbot.store.tables import (
    Account,
    Change,
    GroupMember,
    Message,
    PatchSet,
    Verdict,
    VoteEventRow,
)
from reviewbot.views.standing_view import leaderboard, reviewer_report
from tests.conftest import ROOT, make_config

ALICE, BOB, CORE, OWNER, ZUUL = 1, 2, 10, 20, 99
AS_OF = "2017-02-01"
FROM_STORED = "Figures from the stored judgements (updated each worker cycle)."
FROM_REPLAY = "Figures judged just now from the vote history"
DAY = datetime(2017, 1, 10)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


class Store:
    """Adds SQLModel rows the way sync would leave them (one message per vote event)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rows: list = [
            Account(id=ALICE, username="alice"), Account(id=BOB, username="bob"),
            Account(id=CORE, username="core"), Account(id=OWNER, username="owner"),
            Account(id=ZUUL, username="zuul"),
            GroupMember(group_name="glance-core", account_id=CORE),
        ]
        self.n = 0

    def change(self, number: int, *, owner: int = OWNER, project: str = "openstack/glance",
               branch: str = "master", priority: bool = False, patch_sets: int = 1,
               status: str = "NEW", gate_state: str | None = None,
               reasons: list[str] | None = None) -> Store:
        self.rows.append(Change(number=number, project=project, branch=branch, status=status,
                                owner_id=owner, created=DAY, updated=DAY,
                                current_patch_set=patch_sets))
        for ps in range(1, patch_sets + 1):
            self.rows.append(PatchSet(change_number=number, number=ps, uploader_id=owner,
                                      created=DAY + timedelta(minutes=ps)))
        self.rows.append(Verdict(change_number=number,
                                 gate_state=gate_state or ("priority" if priority else "gated"),
                                 priorities=["community-images"] if priority else [],
                                 reasons=reasons or [], evaluated_at=DAY))
        return self

    def message(self, number: int, author: int, when: datetime, *, ps: int = 1,
                tag: str | None = None, free_text: str = "", inline: int = 0,
                votes: dict[str, int] | None = None) -> str:
        self.n += 1
        mid = f"msg{self.n:04d}"
        self.rows.append(Message(id=mid, change_number=number, patch_set=ps, author_id=author,
                                 date=when, tag=tag, free_text=free_text,
                                 inline_comments=inline, changes_votes=bool(votes)))
        for label, value in (votes or {}).items():
            self.rows.append(VoteEventRow(message_id=mid, change_number=number, patch_set=ps,
                                          account_id=author, label=label, value=value,
                                          removed=value == 0, date=when))
        return mid

    def vote(self, number: int, author: int, value: int, when: datetime, **kw) -> str:
        return self.message(number, author, when, votes={"Code-Review": value}, **kw)

    def save(self) -> Engine:
        with session_scope(self.engine) as session:
            # Parents before children, so foreign keys hold on every backend.
            for kind in (Account, GroupMember, Change, PatchSet, Verdict, Message, VoteEventRow):
                session.add_all([r for r in self.rows if isinstance(r, kind)])
                session.flush()
        return self.engine


@pytest.fixture
def config():
    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    return make_config(data)


def glance_store(engine: Engine) -> tuple[Engine, dict[str, str]]:
    """The shared scenario; returns message ids a test may look for."""
    s = Store(engine)
    s.change(1).change(2).change(3, priority=True).change(4).change(5, owner=ALICE)
    s.change(6, project="openstack/nova").change(7, branch="stable/newton")
    ids = {}
    # change 1: alice +1, then core -1 with a reason -> judged, disagrees (learning feed)
    s.vote(1, ALICE, 1, at(1))
    ids["verdict"] = s.vote(1, CORE, -1, at(2), free_text="Needs a unit test for the "
                            "failure path.")
    # change 2: alice -1 with an inline comment, core -2 later -> caught, thoughtful, agrees
    s.vote(2, ALICE, -1, at(1), inline=1)
    s.vote(2, CORE, -2, at(3))
    # change 3 (priority): alice -1 with 39 chars of text (not thoughtful), nobody else
    s.vote(3, ALICE, -1, at(1), free_text="x" * 39)
    # change 4: alice +1 then removes it -> no review; a zuul +1 -> bots never count
    s.vote(4, ALICE, 1, at(1))
    s.vote(4, ALICE, 0, at(2))
    s.vote(4, ZUUL, 1, at(1))
    # change 5 is alice's own: her +1 is a self-vote
    s.vote(5, ALICE, 1, at(1))
    # changes 6 and 7 are outside the configured projects/branches
    s.vote(6, ALICE, 1, at(1))
    s.vote(7, ALICE, 1, at(1))
    # comments: a plain comment on change 1 counts; an autogenerated one, one on her own
    # change, and one that (per the vote events) changed a Workflow vote do not
    s.message(1, ALICE, at(4), free_text="Looks close, see inline.", inline=2)
    s.message(1, ALICE, at(5), tag="autogenerated:gerrit:newPatchSet")
    s.message(5, ALICE, at(5), free_text="Rebased.")
    s.message(2, ALICE, at(6), votes={"Workflow": 0})
    # bob votes +1 on change 2 after alice: a second non-core on the board
    s.vote(2, BOB, 1, at(2))
    return s.save(), ids


def test_store_metrics_follow_design(engine, config):
    # alice's reviews: change 1 (+1), 2 (-1), 3 (-1) -> 3 reviews on 3 changes
    # judged: 1 (verdict core -1, disagrees), 2 (verdict core -2, agrees) -> ratio 1/2
    # -1s: change 2 caught (core -2), change 3 not -> catch rate 1/2
    # thoughtful -1s: change 2 (inline comment) -> 1; change 3 has only 39 chars
    # priority share: 1 of 3; comments_only: 1; gate_opens: change 1's +1 -> 1
    engine, _ = glance_store(engine)
    with session_scope(engine) as session:
        m = reviewer_report(session, config, ALICE, as_of=datetime(2017, 2, 1)).standing.metrics
    assert (m["reviews"], m["changes_reviewed"], m["judged_reviews"]) == (3, 3, 2)
    assert m["disagreement_ratio"] == 0.5
    assert m["minus1_catch_rate"] == 0.5
    assert m["thoughtful_minus1"] == 1
    assert m["priority_share"] == pytest.approx(1 / 3)
    assert m["comments_only"] == 1
    assert m["positive_ratio"] == pytest.approx(1 / 3)
    assert (m["gate_opens"], m["plus1_precision"]) == (1, 0.0)


@pytest.mark.postgres
def test_store_reads_agree_on_every_backend(store_engine, config):
    engine, _ = glance_store(store_engine)
    with session_scope(engine) as session:
        m = reviewer_report(session, config, ALICE, as_of=datetime(2017, 2, 1)).standing.metrics
        board = leaderboard(session, config, as_of=datetime(2017, 2, 1))
    assert (m["reviews"], m["thoughtful_minus1"], m["comments_only"]) == (3, 1, 1)
    assert [r.username for r in board] == ["alice", "bob"]
    assert board[0].standing.metrics == m  # the one-pass leaderboard agrees with the page


def test_gate_opens_skip_exempt_changes_also_once_closed(engine, config):
    # change 1: merged, verdict "closed" with an "exempt: ..." reason -> not gated, no open
    # change 2: merged, verdict "closed", no exemption -> alice's +1 opened its gate
    # change 3: open and exempt -> no open. gate_opens = 1
    s = Store(engine)
    s.change(1, status="MERGED", gate_state="closed",
             reasons=["exempt: owned by proposal-bot"])
    s.change(2, status="MERGED", gate_state="closed", reasons=["closed"])
    s.change(3, gate_state="exempt", reasons=["exempt: owned by proposal-bot"])
    for number in (1, 2, 3):
        s.vote(number, ALICE, 1, at(1))
    engine = s.save()
    with session_scope(engine) as session:
        m = reviewer_report(session, config, ALICE, as_of=datetime(2017, 2, 1)).standing.metrics
    assert (m["reviews"], m["gate_opens"]) == (3, 1)


def test_as_of_is_reproducible_in_the_store(engine, config):
    # As of Jan 10 01:30 alice has one review on change 1 and it is not judged yet;
    # the core's -1 at 02:00 does not exist then.
    engine, _ = glance_store(engine)
    with session_scope(engine) as session:
        early = reviewer_report(session, config, ALICE, as_of=at(1.5)).standing
    assert early.metrics["judged_reviews"] == 0
    assert early.metrics["reviews"] == 4  # changes 1, 2, 3 and 4 (not removed yet)


def test_cli_standing_json(engine, config, tmp_path: Path, capsys):
    engine, _ = glance_store(engine)
    url = str(engine.url)
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{url}"', text)
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    assert main(["--config", str(cfg), "standing", "alice", "--as-of", AS_OF, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["username"] == "alice" and data["core"] is False
    assert data["metrics"]["reviews"] == 3
    assert data["metrics"]["disagreement_ratio"] == 0.5
    crit = {c["criterion"]: c for c in data["criteria"]}
    assert crit["min_reviews"]["target"] == 30 and crit["min_reviews"]["met"] is False
    assert crit["min_reviews"]["progress"] == pytest.approx(0.1)
    # A window that ends before everything: counts 0, ratios null (never 0).
    assert main(["--config", str(cfg), "standing", "alice", "--as-of", "2016-12-01",
                 "--json"]) == 0
    empty = json.loads(capsys.readouterr().out)["metrics"]
    assert empty["reviews"] == 0 and empty["disagreement_ratio"] is None
    assert main(["--config", str(cfg), "standing", "nobody"]) == 1
    assert "no account named 'nobody'" in capsys.readouterr().err
    assert main(["--config", str(cfg), "standing", "alice", "--as-of", AS_OF]) == 0
    assert "criteria met" in capsys.readouterr().out


@pytest.fixture
def client(engine, config):
    engine, ids = glance_store(engine)
    app = create_app(config, secrets=Secrets(), engine=engine)
    with TestClient(app) as c:
        c.ids = ids
        yield c


def test_leaderboard_page_lists_non_cores_by_criteria_then_judged(client):
    page = client.get(f"/reviewers?as_of={AS_OF}")
    assert page.status_code == 200
    assert "/reviewers/alice" in page.text and "/reviewers/bob" in page.text
    assert "/reviewers/core" not in page.text  # core reviewers are not on the board
    assert "/reviewers/zuul" not in page.text
    assert page.text.index("/reviewers/alice") < page.text.index("/reviewers/bob")
    # This store was never judged, so the figures come from replaying the votes.
    assert FROM_REPLAY in page.text and FROM_STORED not in page.text
    api = client.get(f"/api/v1/reviewers?as_of={AS_OF}").json()
    assert [r["username"] for r in api["reviewers"]] == ["alice", "bob"]
    assert {r["judgements"] for r in api["reviewers"]} == {"replayed"}
    assert api["reviewers"][0]["metrics"]["judged_reviews"] == 2
    # The window is selectable: 10 days as of Feb 1 starts Jan 22, after every vote.
    short = client.get(f"/api/v1/reviewers?as_of={AS_OF}&window_days=10").json()
    assert short["reviewers"] == []
    assert "No non-core reviewer" in client.get(f"/reviewers?as_of={AS_OF}&window_days=10").text


def test_reviewer_page_shows_definitions_progress_sparkline_feed_and_reviews(client):
    page = client.get(f"/reviewers/alice?as_of={AS_OF}")
    assert page.status_code == 200
    text = page.text
    assert "Judged reviews whose sign is opposite" in text  # one-line definitions
    assert 'class="bar' in text and "Reviews" in text  # criteria progress bars
    assert "<svg" in text and text.count("<rect") == 52  # weekly sparkline, server-side
    link = f"http://127.0.0.1:8080/c/openstack/glance/+/1/1#message-{client.ids['verdict']}"
    assert link in text  # learning feed links the verdict's message in Gerrit
    assert "Counted reviews (3)" in text
    assert FROM_REPLAY in text and FROM_STORED not in text  # never judged: replayed


@pytest.mark.postgres
def test_pages_say_when_figures_come_from_the_stored_judgements(store_engine, config):
    engine, _ = glance_store(store_engine)
    judge_store(engine, config)
    # Every vote is on Jan 10, so as of Feb 1 nothing stored is newer and nothing changed
    # since judging: both pages read the stored judgements and say so.
    app = create_app(config, secrets=Secrets(), engine=engine)
    with TestClient(app) as client:
        board = client.get(f"/reviewers?as_of={AS_OF}")
        detail = client.get(f"/reviewers/alice?as_of={AS_OF}")
        api = client.get(f"/api/v1/reviewers?as_of={AS_OF}").json()
        # As of Jan 10 01:30 the store holds later votes: replayed again, and said so.
        early = client.get("/reviewers/alice?as_of=2017-01-10T01:30:00Z")
    assert board.status_code == detail.status_code == 200
    assert {r["judgements"] for r in api["reviewers"]} == {"stored"}
    for page in (board, detail):
        assert FROM_STORED in page.text and FROM_REPLAY not in page.text
    assert "/reviewers/alice" in board.text and "Counted reviews (3)" in detail.text
    assert FROM_REPLAY in early.text and FROM_STORED not in early.text


def test_reviewer_api_json(client):
    data = client.get(f"/api/v1/reviewers/alice?as_of={AS_OF}").json()
    assert data["username"] == "alice" and data["core"] is False
    assert set(data["metrics"]) >= {"reviews", "changes_reviewed", "comments_only",
                                    "positive_ratio", "disagreement_ratio", "plus1_precision",
                                    "minus1_catch_rate", "thoughtful_minus1", "gate_opens",
                                    "gate_opens_confirmed", "first_crack", "priority_share"}
    assert [r["change"] for r in data["learning_feed"]] == [1]
    assert data["learning_feed"][0]["verdict"]["by"] == "core"
    assert len(data["weekly_reviews"]) == 52 and sum(data["weekly_reviews"]) == 3
    assert sorted(r["change"] for r in data["reviews"]) == [1, 2, 3]


def test_reviewer_errors_are_clear(client):
    missing = client.get("/api/v1/reviewers/nobody")
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    page = client.get("/reviewers/nobody")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "no account named &#39;nobody&#39;" in page.text
    # A bad as_of is a 422 naming the parameter: JSON from the API, the error page from a page.
    for path in ("/api/v1/reviewers", "/api/v1/reviewers/alice"):
        bad = client.get(f"{path}?as_of=yesterday")
        assert bad.status_code == 422 and bad.json()["detail"].startswith("as_of:"), path
    for path in ("/reviewers", "/reviewers/alice"):
        bad = client.get(f"{path}?as_of=yesterday")
        assert bad.status_code == 422, path
        assert bad.headers["content-type"].startswith("text/html"), path
        assert '<p class="error">as_of: ' in bad.text and "yesterday" in bad.text, path
    assert client.get("/api/v1/reviewers?window_days=0").json()["detail"][0]["loc"] == [
        "query", "window_days"]
    narrow = client.get("/reviewers?window_days=0")
    assert narrow.status_code == 422 and narrow.headers["content-type"].startswith("text/html")
    assert '<p class="error">window_days: ' in narrow.text


def test_leaderboard_says_how_it_orders_and_links_how_standing_works(client):
    page = client.get(f"/reviewers?as_of={AS_OF}")
    assert "Ordered by readiness" in page.text and 'href="/reviewers/how"' in page.text
    # Each ratio carries its count; alice has 2 judged reviews: below min_evidence (20).
    assert "50%" in page.text and "of 2 judged" in page.text
    assert "not enough reviews yet: 2 of 20 judged" in page.text
    # A per-week sparkline per row, server-side SVG (no script).
    assert page.text.count('class="mini-spark"') == 2 and "<script" not in page.text
    how = client.get("/reviewers/how")
    assert how.status_code == 200
    assert "Worked example" in how.text and "not enough reviews yet" in how.text
    assert "min_reviews" in how.text  # this project's declared criteria


@pytest.mark.parametrize("key", ["reviewer", "reviews", "disagreement", "comments"])
def test_every_column_sorts_on_page_api_and_cli(client, engine, tmp_path, capsys, key):
    api = client.get(f"/api/v1/reviewers?as_of={AS_OF}&sort={key}").json()
    assert api["sort"] == key
    names = [r["username"] for r in api["reviewers"]]
    page = client.get(f"/reviewers?as_of={AS_OF}&sort={key}")
    assert page.status_code == 200 and f'sort={key}" class="sorted"' in page.text
    assert page.text.index(f"/reviewers/{names[0]}") < page.text.index(f"/reviewers/{names[1]}")
    cfg = _cli_config(engine, tmp_path)
    assert main(["--config", str(cfg), "reviewers", "--as-of", AS_OF, "--sort", key,
                 "--json"]) == 0
    # One question, one shape: the CLI prints exactly what the API answers.
    assert json.loads(capsys.readouterr().out) == api


def test_sorting_by_reviews_and_by_name(client):
    # alice has 3 reviews, bob 1: by reviews alice first; by name too (a before b).
    by_reviews = client.get(f"/api/v1/reviewers?as_of={AS_OF}&sort=reviews").json()
    assert [r["username"] for r in by_reviews["reviewers"]] == ["alice", "bob"]
    # By comments only: alice has 1, bob 0.
    by_comments = client.get(f"/api/v1/reviewers?as_of={AS_OF}&sort=comments").json()
    assert [r["metrics"]["comments_only"] for r in by_comments["reviewers"]] == [1, 0]
    row = by_reviews["reviewers"][0]
    assert row["ratio_counts"]["disagreement_ratio"] == {"value": 0.5, "count": 2,
                                                         "of": "judged"}
    assert len(row["window_weekly"]) == 26 and sum(row["window_weekly"]) == 3
    crit = {c["criterion"]: c for c in row["criteria"]}
    assert crit["max_disagreement_ratio"]["status"].startswith("not enough reviews yet")
    assert crit["max_disagreement_ratio"]["missing"] == 18


def test_an_unknown_sort_key_is_a_clear_error_everywhere(client, engine, tmp_path, capsys):
    api = client.get("/api/v1/reviewers?sort=popularity")
    assert api.status_code == 422
    detail = api.json()["detail"]
    assert detail.startswith("sort: unknown sort key 'popularity'") and "readiness" in detail
    page = client.get("/reviewers?sort=popularity")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "popularity" in page.text and "disagreement" in page.text
    cfg = _cli_config(engine, tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(cfg), "reviewers", "--sort", "popularity"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "popularity" in err and "readiness" in err


def _cli_config(engine, tmp_path: Path) -> Path:
    text = (ROOT / "config" / "sandbox.toml").read_text()
    text = re.sub(r'(?m)^url = "sqlite:.*"$', f'url = "{engine.url}"', text)
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    return cfg


def test_cli_standing_says_which_ratios_lack_evidence(engine, config, tmp_path, capsys):
    engine, _ = glance_store(engine)
    cfg = _cli_config(engine, tmp_path)
    assert main(["--config", str(cfg), "standing", "alice", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "50% of 2 judged" in out
    assert "not enough reviews yet: 2 of 20 judged (18 more needed)" in out
    assert main(["--config", str(cfg), "reviewers", "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sorted by readiness") and "50% of 2 judged" in out
