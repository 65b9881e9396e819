"""One question, one shape: the CLI's `--json` and the API answer each question with the same
JSON on the same store, and /openapi.json documents every /api/v1 answer."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from dashboards.app import create_app
from reviewbot.cli import main
from reviewbot.clock import parse_as_of
from reviewbot.sandbox.cast import CORES, NONCORES
from reviewbot.service.cycle import run_cycle
from reviewbot.store import open_store
from reviewbot.store.review_reads import find_account
from reviewbot.store.tables import Change, Verdict
from reviewbot.timeline.roster import load_roster
from reviewbot.views.answers.change import EvaluationOut
from tests.conftest import ROOT
from tests.service_support import bot_env, bot_secrets, generated_sandbox, service_config

AS_OF = "2017-01-16T12:00:00Z"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A store holding two cycles of a generated sandbox (write-back on, dry run: the
    actions log has entries), the app on it, and a CLI config file for the same store."""
    tmp = tmp_path_factory.mktemp("answers")
    url = f"sqlite:///{tmp / 'r.db'}"
    with generated_sandbox(changes=40, seed=7) as (sb, data):
        config = service_config(data, sb, url, writeback={**data["writeback"], "dry_run": True})
        engine = open_store(url)
        for _ in range(2):
            assert run_cycle(config, bot_secrets(sb), engine).errors == 0
        text = (ROOT / "config" / "sandbox.toml").read_text()
        text = text.replace('url = "sqlite:///data/sandbox/reviewbot.db"', f'url = "{url}"')
        text = text.replace('url = "http://127.0.0.1:8080"', f'url = "{sb.test_url}"')
        path = tmp / "reviewbot.toml"
        path.write_text(text.replace("dry_run = false", "dry_run = true"))
        client = TestClient(create_app(config, secrets=bot_secrets(sb), engine=engine))
        yield client, path, engine, config, bot_env(sb)
        engine.dispose()


def cli_json(path, *args: str, env: dict, capsys, monkeypatch) -> object:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    assert main(["--config", str(path), *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _people(engine, config) -> tuple[str, str]:
    """A core reviewer and a non-core one at AS_OF, from the generated cycle."""
    at = parse_as_of(AS_OF)
    with Session(engine) as session:
        roster = load_roster(session, config)
        core = next(c[0] for c in CORES if roster.is_core(find_account(session, c[0]), at))
        noncore = next(r.username for r in NONCORES
                       if not roster.is_core(find_account(session, r.username), at))
    return core, noncore


def test_every_question_has_one_shape_on_cli_and_api(served, capsys, monkeypatch):
    client, path, engine, config, env = served
    core, noncore = _people(engine, config)
    with Session(engine) as session:
        number = session.exec(select(Change.number).order_by(Change.number)).first()

    def same(cli_args: list[str], api_path: str) -> dict:
        api = client.get(api_path)
        assert api.status_code == 200, (api_path, api.text[:300])
        cli = cli_json(path, *cli_args, env=env, capsys=capsys, monkeypatch=monkeypatch)
        assert cli == api.json(), api_path
        return cli

    core_queue = same(["queue", core, "--as-of", AS_OF, "--limit", "50"],
                      f"/api/v1/queue?reviewer={core}&as_of={AS_OF}&limit=50")
    assert core_queue["kind"] == "core" and core_queue["items"]
    first_crack = same(["queue", noncore, "--as-of", AS_OF, "--limit", "50"],
                       f"/api/v1/queue?reviewer={noncore}&as_of={AS_OF}&limit=50")
    # DESIGN.md's first-crack shape.
    assert first_crack["core"] is False and first_crack["kind"] == "first-crack"
    assert {"reviewer", "as_of", "items"} <= set(first_crack)
    assert all({"number", "uploaded", "reasons"} <= set(i) for i in first_crack["items"])
    detail = same(["standing", noncore, "--as-of", AS_OF],
                  f"/api/v1/reviewers/{noncore}?as_of={AS_OF}")
    assert detail["username"] == noncore and detail["reviews"] is not None
    board = same(["reviewers", "--as-of", AS_OF], f"/api/v1/reviewers?as_of={AS_OF}")
    assert board["reviewers"]
    same(["backtest"], "/api/v1/backtest")
    report = same(["report", "--as-of", AS_OF], f"/api/v1/report?as_of={AS_OF}")
    assert report["priorities"]
    same(["where", str(number), "--as-of", AS_OF],
         f"/api/v1/changes/{number}/where?as_of={AS_OF}")
    actions = same(["actions"], "/api/v1/actions")
    assert actions["items"], "precondition: the dry-run write-back logged its plans"


def test_why_and_the_change_api_give_one_answer(served, capsys, monkeypatch):
    """`reviewbot why CHANGE --json` and /api/v1/changes/N: the same JSON on the same store,
    in the present (the stored verdicts) and as of a past date, with and without a reviewer
    (a core, a non-core), for a change of every gate state the store holds."""
    client, path, engine, config, env = served
    core, noncore = _people(engine, config)
    with Session(engine) as session:
        first_of: dict[str, int] = {}
        for number, state in session.exec(select(Verdict.change_number, Verdict.gate_state)
                                          .order_by(Verdict.change_number)):
            first_of.setdefault(state, number)
    assert {"priority", "gated", "closed"} <= set(first_of), first_of
    asks = [([], {}), (["--as-of", AS_OF], {"as_of": AS_OF}),
            (["--reviewer", core], {"reviewer": core}),
            (["--reviewer", core, "--as-of", AS_OF], {"reviewer": core, "as_of": AS_OF}),
            (["--reviewer", noncore, "--as-of", AS_OF], {"reviewer": noncore, "as_of": AS_OF})]
    answers = []
    for state, number in sorted(first_of.items()):
        for args, params in asks:
            api = client.get(f"/api/v1/changes/{number}", params=params)
            assert api.status_code == 200, (number, params, api.text[:300])
            cli = cli_json(path, "why", str(number), *args, env=env, capsys=capsys,
                           monkeypatch=monkeypatch)
            assert cli == api.json(), (number, args)
            answers.append((state, params, cli))
    for state, params, answer in answers:
        assert answer["as_of"] == (params["as_of"].replace("Z", "") if "as_of" in params
                                   else None)
        assert (answer["why_not"] is not None) == ("reviewer" in params)
        if "as_of" not in params:  # the present: the stored verdict, its state and time
            assert answer["gate_state"] == state and answer["evaluated_at"] is not None
    # The answers are about something: queues said yes and no, and T is not the present.
    assert {a["why_not"]["in_queue"] for _s, p, a in answers if "reviewer" in p} == {
        True, False}
    kinds = {a["why_not"]["kind"] for _s, p, a in answers if "reviewer" in p}
    assert kinds == {"core", "first-crack"}
    plain = {(a["number"], "as_of" in p): a for _s, p, a in answers if "reviewer" not in p}
    assert any(now != plain[(n, True)] for (n, past), now in plain.items() if not past)


def test_the_answer_only_the_cli_gives_has_its_documented_shape(served, capsys, monkeypatch):
    """`evaluate` prints its builder's dict as it is: it must be exactly the model (no field
    missing, none undeclared)."""
    client, path, engine, config, env = served
    evaluation = cli_json(path, "evaluate", env=env, capsys=capsys, monkeypatch=monkeypatch)
    assert evaluation["changes"]
    assert EvaluationOut.model_validate(evaluation).json_data() == evaluation


def test_openapi_documents_every_api_answer(served):
    client = served[0]
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    undocumented = []
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/") and path != "/healthz":
            continue
        for method, operation in operations.items():
            ok = operation["responses"].get("200") or operation["responses"].get("202")
            schema = ok["content"]["application/json"]["schema"]
            refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]
            names = [r.rsplit("/", 1)[1] for r in refs if r]
            if not names or not all(name in schemas for name in names):
                undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []
    # A shape named in the docs is the one served: the queue's items name their fields.
    item = schemas["QueueItemOut"]["properties"]
    assert {"number", "uploaded", "reasons", "age", "url"} <= set(item)
