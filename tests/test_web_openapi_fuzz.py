"""Web hostile input: schemathesis fuzzes every operation of the app's OpenAPI schema; no 5xx,
and every answer conforms to the response schema the operation declares.

For each operation the schema declares, valid (positive) and schema-violating
(negative) values for its path, query, header and body parameters, on SQLite
and PostgreSQL; a bounded number of examples per operation and mode keeps the
run well under a minute. Marked `fuzz`; CI runs it with the rest of the suite.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance

from dashboards.app import create_app
from reviewbot.clock import utcnow
from reviewbot.config import Secrets
from reviewbot.store import session_scope
from reviewbot.store.ops import set_last_sync_success
from tests.conftest import make_config
from tests.test_web_hostile import fill

pytestmark = [pytest.mark.fuzz, pytest.mark.postgres]

EXAMPLES = 20  # per operation and mode


@pytest.fixture
def api_schema(store_engine, sandbox_config_data):
    fill(store_engine)
    with session_scope(store_engine) as session:  # /healthz: 200, not "no sync yet" (503)
        set_last_sync_success(session, utcnow())
    # Secrets set, so the admin and webhook endpoints check tokens instead of answering 503.
    app = create_app(make_config(sandbox_config_data),
                     secrets=Secrets(admin_token="admin-token", webhook_secret="hook-secret"),
                     engine=store_engine)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_operation_answers_5xx(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/queue", "/api/v1/changes/{number}",
                                              "/api/v1/report", "/api/v1/hooks/gerrit"}
    called: list[str] = []
    for operation in operations:
        declared = [*operation.path_parameters, *operation.query, *operation.headers,
                    *operation.body]
        if mode is GenerationMode.NEGATIVE and not declared:
            continue  # nothing to violate: no negative case exists

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def no_server_error(case) -> None:
            response = case.call()
            called.append(case.operation.path)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} query={case.query!r} "
                f"-> {response.status_code}: {response.text[:300]}")
            # Every answer is the shape /docs shows for its status (reviewbot.views.answers).
            case.validate_response(response, checks=[response_schema_conformance])

        no_server_error()
    assert len(set(called)) >= 8  # the cases really ran, on most operations
