"""The served OpenAPI description holds (issue #17): schemathesis generates requests for every
operation of ``/api/v1/openapi.json`` (bounded examples) and finds no 500 and no response that
breaks the schema, for the public operations and for the staff ones with a token."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from certbody.api import token_create

pytestmark = pytest.mark.usefixtures("cb")

MAX_EXAMPLES = 25


@pytest.fixture
def api_schema(db, settings):
    settings.RATELIMIT_ENABLE = False  # hypothesis sends more requests than the public limit
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def token(db):
    _, secret = token_create(
        name="ERP", scopes=["certificates", "organizations", "personal_data"], actor=None
    )
    return secret


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_openapi_description(case, token, certificates):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def certificates(db):
    from tests.certificates.factories import issued_certificate

    return [issued_certificate()]
