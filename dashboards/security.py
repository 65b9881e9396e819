"""Web: security headers on every response — the content security policy, kept in one place.

Pages load only the app's own stylesheet and scripts (none inline: no `<script>`
without `src`, no `<style>`, no `style=` or `on...=` attribute in a template;
charts are inline SVG, whose presentation attributes are not styles), are never
framed, never sniffed as another type, and send no Referer outside the site.

A route that needs more relaxes the policy here, by path, and nowhere else:
ROUTE_POLICIES. The API documentation (Swagger UI, dashboards/routes/docs.py)
starts with an inline script and styles its widgets inline, so /docs gets
exactly that, still from this site only.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY: dict[str, str] = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}

_API_DOCS = {
    "script-src": "'self' 'unsafe-inline'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
}
# Path (exact, or a prefix ending in "/") -> directives replacing POLICY's.
ROUTE_POLICIES: dict[str, dict[str, str]] = {
    "/docs": _API_DOCS,
    "/docs/": _API_DOCS,  # /docs/oauth2-redirect
}

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def policy_for(path: str) -> str:
    """The Content-Security-Policy header value for a request path."""
    directives = dict(POLICY)
    for route, relaxed in ROUTE_POLICIES.items():
        if path == route or (route.endswith("/") and path.startswith(route)):
            directives.update(relaxed)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeaders:
    """ASGI middleware: add HEADERS and the path's policy to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                headers["Content-Security-Policy"] = policy
            await send(message)

        await self.app(scope, receive, with_headers)
