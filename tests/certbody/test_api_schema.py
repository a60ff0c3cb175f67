"""The served OpenAPI description holds (issue #17): schemathesis generates requests for every
operation of ``/api/v1/openapi.json`` (bounded examples) and finds no 500 and no response that
breaks the schema, for the public operations and for the staff ones with a token."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from certbody.api import token_create
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import skip_pdf_rendering

MAX_EXAMPLES = 20

# The schema as the running application serves it (WSGI, in-process: the test's database).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI calls fire request_started/finished, whose close_old_connections would close
    the test's database connection (and its transaction) on PostgreSQL; Django's own test
    client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(cb, settings, monkeypatch):
    """One issued certificate and a token holding every scope."""
    settings.RATELIMIT_ENABLE = False  # hypothesis sends more requests than the public limit
    skip_pdf_rendering(monkeypatch)
    certificate = issued_certificate()
    _, secret = token_create(
        name="ERP", scopes=["certificates", "organizations", "personal_data"], actor=None
    )
    return certificate, secret


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_openapi_description(case, world):
    _, secret = world
    # Every check but the two about which requests must be refused: a string the schema
    # allows may still be no certificate number (400 by contract, as before the OpenAPI
    # description) and a search needs one of its optional criteria; unknown query parameters
    # are ignored, as web APIs do. No 500, and every answer matches the schema.
    case.call_and_validate(
        headers={"Authorization": f"Bearer {secret}"},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
