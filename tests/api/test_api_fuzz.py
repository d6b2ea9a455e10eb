"""Property-based fuzzing of the REST API with schemathesis: requests
generated from the published OpenAPI document — valid ones and invalid ones —
sent to the app in-process with a real token and some tickets. Every answer
must be no server error and conform to the document (status code, content
type, body schema).

(One test per operation and generation mode, driven by hypothesis directly:
schemathesis' own pytest plugin does not run under pytest 9.)"""

import json

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.api import token_for
from wagtail_helpdesk import services
from wagtail_helpdesk.api import api

pytestmark = pytest.mark.django_db

DOCUMENT = json.loads(json.dumps(api.get_openapi_schema()))
OPERATIONS = [(method.upper(), path) for path, operations in DOCUMENT["paths"].items()
              for method in operations]


@pytest.fixture(scope="module")
def schema():
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    loaded.app = get_wsgi_application()
    return loaded


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Called through WSGI, Django closes the database connection at the end of
    each request — the test's own, inside its transaction (PostgreSQL then
    fails). Django's test client switches that off the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(factories, settings):
    settings.WAGTAIL_HELPDESK_API_RATE_PER_MINUTE = None  # the fuzzer calls fast
    office = factories.office(name="URP")
    operator = factories.operator(office)
    service = factories.service(office)
    factories.resolution_type()
    for _ in range(3):
        services.take_charge(factories.request_ticket(service_=service), operator)
    factories.request_ticket(service_=service)
    return token_for(operator)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors_and_no_schema_violations(schema, token, method, path, mode):
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=15, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        # Every check but "schema-valid data is accepted": an id or a cursor can be
        # well-formed and still name nothing (404/422 is the right answer then).
        case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                               excluded_checks=[positive_data_acceptance])

    check()
