"""The staff read API (issue #17; certbody.api): per-client tokens created by a superuser in the
admin, hashed at rest and shown once; scopes are matrix rows; a token without the personal-data
scope never receives a phone number; errors in one JSON shape; rate-limited per token; the
OpenAPI description and its docs page under the strict CSP."""

import hashlib
import re

import pytest
from django.urls import reverse

from certbody.api import token_create
from certbody.models import ApiToken
from tests.applications.factories import OrganizationFactory

pytestmark = pytest.mark.usefixtures("cb")

PHONE = "13812345678"


def bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


@pytest.fixture
def organization(db):
    org = OrganizationFactory(name="令牌测试电器有限公司", contact_phone=PHONE)
    org.contacts.update_or_create(
        name="张三", defaults={"phone": PHONE, "email": "z@example.com", "is_primary": True}
    )
    return org


def test_a_superuser_creates_a_token_in_the_admin_and_sees_it_once(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:certbody_apitoken_add"),
        {"name": "官网", "scopes": ["certificates"]},
        follow=True,
    )

    assert response.status_code == 200
    token = ApiToken.objects.get(name="官网")
    shown = [str(m) for m in response.context["messages"]]
    # the Chinese message puts a full-width colon right before the secret
    secret = next(match.group() for m in shown for match in [re.search(r"cbt_[\w-]+", m)] if match)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    assert (token.scopes, token.created_by) == (["certificates"], admin_user)
    assert admin_client.get("/api/v1/staff/certificates", **bearer(secret)).status_code == 200
    page = admin_client.get(reverse("admin:certbody_apitoken_change", args=[token.pk]))
    assert secret not in page.content.decode()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer cbt_00000000_forged", "Basic dXNlcjpwYXNz"],
)
def test_the_staff_api_refuses_without_a_valid_token_in_the_one_error_shape(client, header):
    token_create(name="ERP", scopes=["certificates"], actor=None)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/api/v1/staff/certificates", **extra)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error", "detail"}


def test_a_revoked_token_is_refused(client):
    from django.utils import timezone

    token, secret = token_create(name="ERP", scopes=["certificates"], actor=None)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())

    assert client.get("/api/v1/staff/certificates", **bearer(secret)).status_code == 401


def test_a_token_reads_only_what_its_scopes_allow(client, organization):
    _, secret = token_create(name="官网", scopes=["certificates"], actor=None)

    assert client.get("/api/v1/staff/certificates", **bearer(secret)).status_code == 200
    refused = client.get("/api/v1/staff/organizations", **bearer(secret))
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    assert "api.read_organizations" in refused.json()["detail"]


def test_without_the_personal_data_scope_a_token_never_receives_a_phone(client, organization):
    _, plain = token_create(name="开票", scopes=["organizations"], actor=None)
    _, personal = token_create(name="ERP", scopes=["organizations", "personal_data"], actor=None)

    without = client.get("/api/v1/staff/organizations", **bearer(plain))
    with_scope = client.get("/api/v1/staff/organizations", **bearer(personal))

    assert without.status_code == with_scope.status_code == 200
    assert PHONE not in without.content.decode()
    assert PHONE[-4:] not in without.content.decode()
    org = next(o for o in without.json()["results"] if o["id"] == organization.pk)
    assert org["contacts"] and all(c["phone"] is None for c in org["contacts"])
    org = next(o for o in with_scope.json()["results"] if o["id"] == organization.pk)
    assert PHONE in [c["phone"] for c in org["contacts"]]


def test_the_staff_api_is_rate_limited_per_token(client, settings):
    settings.RATELIMIT_API_STAFF = "2/m"
    _, first = token_create(name="A", scopes=["certificates"], actor=None)
    _, second = token_create(name="B", scopes=["certificates"], actor=None)

    answers = [client.get("/api/v1/staff/certificates", **bearer(first)).status_code for _ in "abc"]

    assert answers == [200, 200, 429]
    assert client.get("/api/v1/staff/certificates", **bearer(second)).status_code == 200


def test_the_openapi_description_lists_public_and_staff_operations(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/certificates/{number}", "/api/v1/certificates"} <= set(schema["paths"])
    assert {"/api/v1/staff/certificates", "/api/v1/staff/organizations"} <= set(schema["paths"])
    staff = schema["paths"]["/api/v1/staff/organizations"]["get"]
    assert staff["security"] and "401" in staff["responses"]
    assert "security" not in schema["paths"]["/api/v1/certificates"]["get"]


def test_the_docs_page_loads_only_local_files_under_the_strict_csp(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    page = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "cdn" not in page
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "/static/ninja/swagger-ui-init.js" in page
    # The settings travel as a JSON data block, never as an inline script.
    assert '<script type="application/json" id="swagger-settings">' in page
    assert page.count("<script") == 3
