"""API docs without a network: /docs (Swagger UI) and /redoc load only files the app serves."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from tests.conftest import make_config

# Every way an HTML page or a stylesheet names another resource.
_HTML_REFS = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
_CSS_REFS = re.compile(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""")


@pytest.fixture
def client(engine, sandbox_config_data):
    with TestClient(create_app(make_config(sandbox_config_data), engine=engine)) as c:
        yield c


def _local(ref: str) -> bool:
    parts = urlsplit(ref)
    return not parts.scheme and not parts.netloc and ref.startswith("/")


@pytest.mark.parametrize("page", ["/docs"])
def test_the_docs_page_and_every_asset_it_references_are_served_here(client, page):
    answer = client.get(page)
    assert answer.status_code == 200
    assert "cdn." not in answer.text and "fonts.googleapis" not in answer.text
    refs = [a or b for a, b in _HTML_REFS.findall(answer.text)]
    assert refs, answer.text
    assert "/openapi.json" in refs
    for ref in refs:
        assert _local(ref), f"{page} references {ref}, outside this app"
        asset = client.get(ref)
        assert asset.status_code == 200 and asset.content, ref
        if ref.endswith(".js"):
            assert "javascript" in asset.headers["content-type"], ref
            assert len(asset.content) > 100_000, f"{ref} is the real bundle, not a stub"
        if ref.endswith(".css"):
            for a, b in _CSS_REFS.findall(asset.text):
                target = a or b
                assert target.startswith("data:") or _local(target), (ref, target)


def test_no_redoc_page_whose_bundle_would_fetch_from_its_cdn(client):
    assert client.get("/redoc").status_code == 404


def test_swagger_ui_sends_the_spec_to_no_validator(client):
    page = client.get("/docs").text
    assert '"validatorUrl": null' in page
    assert client.get("/openapi.json").json()["info"]["title"] == "reviewbot"


def test_the_footer_api_link_leads_to_the_docs(client):
    assert 'href="/docs"' in client.get("/").text
