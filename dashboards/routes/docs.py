"""Web: the API documentation page (/docs, Swagger UI), served with no network.

FastAPI's own page loads Swagger UI from a CDN, so without internet /docs is blank. Its
files come instead from the `fastapi-offline` package (installed with the app) and are
served under ASSETS_URL, the self-hosting FastAPI documents. There is no /redoc: ReDoc's
bundle fetches its logo from cdn.redoc.ly whatever the options.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

router = APIRouter()

ASSETS_URL = "/static/api-docs"
ASSETS_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
# Swagger UI would send the spec to validator.swagger.io for its badge: never.
SWAGGER_PARAMETERS = {"validatorUrl": None}


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )


@router.get("/docs/oauth2-redirect", include_in_schema=False)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
