"""Sandbox Gerrit web pages: every Gerrit link the app produces resolves on the sandbox (200)
to a page showing that change or dashboard, with all text escaped."""

from __future__ import annotations

import html
import re
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from reviewbot.sandbox import CORES
from reviewbot.sandbox.cast import NONCORES
from reviewbot.service.cycle import run_cycle
from reviewbot.store import open_store, session_scope
from reviewbot.views.dashboard_export import dashboard_url, sections
from reviewbot.views.report_render import render_markdown
from reviewbot.views.reporting import report_as_of
from tests.service_support import bot_secrets, running_sandbox, service_config

EVIL = "<script>alert('x')</script> & \"quotes\""
AS_OF = "2017-01-20T12:00:00Z"


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One cycle of a generated sandbox in a store, and the app over it."""
    import tomllib

    from tests.conftest import ROOT

    data = tomllib.loads((ROOT / "config" / "sandbox.toml").read_text())
    tmp = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{tmp / 'reviewbot.db'}"
    with running_sandbox(data, changes=40, seed=3) as sb:
        evil = sb.add_change("openstack/glance", "master", EVIL, NONCORES[0].username,
                             topic="bp/image-import-refactor",
                             created=datetime(2017, 1, 10, 9, 0))
        sb.review(evil, CORES[0][0], labels={"Code-Review": 1}, message=f"Nice {EVIL}",
                  when=datetime(2017, 1, 11, 9, 0))
        config = service_config(data, sb, url, data_dir=str(tmp))
        engine = open_store(url)
        assert run_cycle(config, bot_secrets(sb), engine).errors == 0
        with TestClient(create_app(config, engine=engine)) as client:
            yield sb, config, engine, client, evil
        engine.dispose()


def _gerrit_links(text: str, base: str) -> list[str]:
    found = re.findall(re.escape(base) + r"""[^"'<>\s)]*""", text)
    return [html.unescape(u) for u in found]


def test_every_gerrit_link_the_app_produces_resolves_on_the_sandbox(synced):
    sb, config, engine, client, evil = synced
    base = config.gerrit_web_base
    core = max((c for c, _ in CORES), key=lambda c: client.get(
        "/api/v1/queue", params={"reviewer": c, "as_of": AS_OF}).json()["total"])
    noncore = client.get("/api/v1/reviewers", params={"as_of": AS_OF}).json()["reviewers"][0]
    pages = [f"/queue?reviewer={core}&as_of={AS_OF}", f"/changes/{evil}?as_of={AS_OF}",
             f"/reviewers/{noncore['username']}?as_of={AS_OF}", f"/priorities?as_of={AS_OF}",
             f"/report.md?as_of={AS_OF}"]
    links: dict[str, str] = {}
    for page in pages:
        answer = client.get(page)
        assert answer.status_code == 200, (page, answer.text)
        for link in _gerrit_links(answer.text, base):
            links.setdefault(link, page)
    with session_scope(engine) as session:
        markdown = render_markdown(report_as_of(session, config, datetime(2017, 1, 20)), base)
    for link in _gerrit_links(markdown, base):
        links.setdefault(link, "report --format md")
    links[dashboard_url(config)] = "export-dashboard"
    forms = {re.sub(r"\d+", "N", urlsplit(u).path.replace("openstack/", "")) for u in links}
    # Every kind of link the app writes is among them: change, patch set, short, dashboard.
    assert {"/c/glance/+/N", "/c/glance/+/N/N", "/N", "/dashboard/"} <= forms, forms
    for link, where in links.items():
        answer = httpx.get(link, follow_redirects=True, timeout=10)
        assert answer.status_code == 200, (where, link, answer.status_code, answer.text)
        assert answer.headers["content-type"].startswith("text/html"), link
        number = re.search(r"/\+/(\d+)|^/(\d+)", urlsplit(link).path)
        if number:
            n = int(number[1] or number[2])
            assert f"<h1>Change {n}: {html.escape(sb.change(n).subject)}</h1>" in answer.text
        fragment = urlsplit(link).fragment
        if fragment:
            assert f'id="{fragment}"' in answer.text, (where, link)


def test_the_change_page_shows_patch_sets_and_messages_escaped(synced):
    sb, config, _engine, _client, evil = synced
    change = sb.change(evil)
    page = httpx.get(f"{config.gerrit.url}/c/openstack/glance/+/{evil}", timeout=10).text
    assert EVIL not in page and "<script>" not in page
    assert html.escape(EVIL) in page  # subject
    assert f"Nice {html.escape(EVIL)}" in page  # the message text
    assert page.count('<tr id="patchset-') == len(change.patch_sets)
    assert page.count('<li id="message-') == len(change.messages)
    assert "Code-Review +1 by" in page
    # The short form redirects to the canonical URL, as Gerrit does.
    short = httpx.get(f"{config.gerrit.url}/{evil}", timeout=10)
    assert short.status_code == 302
    assert short.headers["location"] == f"/c/openstack/glance/+/{evil}"
    # A change in another project under this number, or no such change: 404.
    assert httpx.get(f"{config.gerrit.url}/c/openstack/nova/+/{evil}").status_code == 404
    assert httpx.get(f"{config.gerrit.url}/c/openstack/glance/+/99").status_code == 404
    assert httpx.get(f"{config.gerrit.url}/99").status_code == 404


def test_a_private_change_page_is_hidden_from_anonymous_visitors(synced):
    sb, config, *_ = synced
    number = next(n for n, c in sb.changes.items() if c.status == "NEW")
    sb.make_private(number)
    try:
        assert httpx.get(f"{config.gerrit.url}/{number}").status_code == 404
    finally:
        sb.make_private(number, private=False)


def test_the_dashboard_page_shows_each_section_title_and_query(synced):
    sb, config, *_ = synced
    url = dashboard_url(config)
    page = httpx.get(url, timeout=10).text
    params = dict(parse_qsl(urlsplit(url).query))
    assert f"<h1>{html.escape(params['title'])}</h1>" in page
    assert html.escape(params["foreach"]) in page
    expected = sections(config)
    titles = re.findall(r"<h2>(.*?)</h2>", page)
    assert titles == [html.escape(t) for t, _ in expected]
    for title, query in expected:
        assert f"Query: <code>{html.escape(query)}</code>" in page, title
    # A query the sandbox can run lists its open changes, each linking to its page.
    plain = ("/dashboard/?title=Open+imports&foreach=status%3Aopen"
             "&Import+refactor=topic%3Abp%2Fimage-import-refactor"
             "&Evil+%3Cb%3E=project%3Aopenstack%2Fnova")
    page = httpx.get(config.gerrit.url + plain, timeout=10).text
    assert "<h1>Open imports</h1>" in page and "<h2>Evil &lt;b&gt;</h2>" in page
    listed = [int(n) for n in re.findall(r'<a href="/c/[^"]+/\+/(\d+)">', page)]
    open_imports = sorted(n for n, c in sb.changes.items() if c.status == "NEW"
                          and c.topic == "bp/image-import-refactor" and not c.private)
    assert sorted(listed) == open_imports[:25] and listed
    assert "No changes." in page  # nova has none
