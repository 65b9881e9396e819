"""Web security headers: every response carries the CSP, nosniff, referrer and framing headers;
no page needs inline script or style, so the policy can forbid them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from dashboards.security import policy_for
from reviewbot.config import Secrets
from tests.conftest import make_config
from tests.test_web_hostile import VALID_PATH, fill, get_routes

TEMPLATES = Path(__file__).resolve().parent.parent / "dashboards" / "templates"
# Inline script, inline style, event-handler attributes, javascript: URLs.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|"
                    r"javascript:", re.IGNORECASE)


@pytest.fixture
def client(engine, sandbox_config_data):
    fill(engine)
    app = create_app(make_config(sandbox_config_data), engine=engine,
                     secrets=Secrets(webhook_secret="s", admin_token="t"))
    return TestClient(app, raise_server_exceptions=False)


def every_url(client: TestClient) -> list[tuple[str, str]]:
    urls = []
    for route in get_routes(client.app):
        path = route.path
        for key, value in VALID_PATH.items():
            path = path.replace("{" + key + "}", value)
        if "reviewer" in str(route.dependant.query_params) or path.endswith("/queue"):
            path += "?reviewer=alice"
        urls.append(("GET", path))
    return urls + [
        ("GET", "/static/style.css"), ("GET", "/no/such/page"), ("GET", "/changes/abc"),
        ("GET", "/api/v1/changes/999"), ("GET", "/openapi.json"),
        ("POST", "/api/v1/hooks/gerrit"), ("POST", "/api/v1/sync"),
    ]


def test_every_response_has_the_security_headers(client):
    urls = every_url(client)
    assert len(urls) >= 25
    for method, url in urls:
        response = client.request(method, url)
        where = f"{method} {url} ({response.status_code})"
        assert response.headers.get("x-content-type-options") == "nosniff", where
        assert response.headers.get("x-frame-options") == "DENY", where
        assert response.headers.get("referrer-policy") == "same-origin", where
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, where
        if not url.startswith("/docs"):
            assert "script-src 'self';" in csp and "style-src 'self';" in csp, where
            assert "unsafe-inline" not in csp, where


def test_the_api_docs_are_the_only_relaxed_pages():
    strict = policy_for("/")
    assert "default-src 'none'" in strict and "object-src 'none'" in strict
    for path in ("/docs", "/docs/oauth2-redirect"):
        relaxed = policy_for(path)
        assert "script-src 'self' 'unsafe-inline'" in relaxed
        assert "frame-ancestors 'none'" in relaxed and "http" not in relaxed  # no CDN
    for path in ("/docsx", "/redoc", "/api/v1/docs", "/changes/1", "/priorities"):
        assert policy_for(path) == strict


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_no_template_has_inline_script_style_or_handlers(template):
    source = (TEMPLATES / template).read_text()
    assert not INLINE.findall(source), f"{template}: {INLINE.findall(source)}"


def test_no_rendered_page_has_inline_script_style_or_handlers(client):
    for _method, url in every_url(client):
        response = client.get(url)
        if response.headers.get("content-type", "").startswith("text/html") \
                and not url.startswith("/docs"):
            assert not INLINE.findall(response.text), f"{url}: {INLINE.findall(response.text)}"
