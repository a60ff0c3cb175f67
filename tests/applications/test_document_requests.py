"""Documents requested during the review (issue #14): the market department asks from the
application's page with a note and a due date, the client finds it on the portal's to-do and
uploads it there (checked like every upload), the reviewers are told; another organisation's
request is a 404."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import DocumentRequest
from certbody.lifecycle import RuleViolation
from certbody.models import Notification
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certbody.test_uploads import PDF, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb", "english")]


@pytest.fixture
def application(market):
    application = services.application_create(
        organization=OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    services.application_submit(application=application, actor=market)
    return services.application_start_review(application=application, actor=market)


def test_requested_document_is_on_the_to_do_and_answered_from_it(client, market, application):
    due = timezone.localdate() + timedelta(days=7)
    client.force_login(market)
    url = reverse("workspace:action", args=["applications", application.pk, "request-document"])
    response = client.post(
        url, {"kind": "outlets", "note": "请补充服务网点清单（含地址）", "due_on": due.isoformat()}
    )
    assert response.status_code == 302
    request = DocumentRequest.objects.get(application=application)
    assert (request.kind, request.due_on, request.answered_at) == ("outlets", due, None)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    assert "请补充服务网点清单" in page.content.decode()

    client.force_login(ClientUserFactory(organization=application.organization))
    home = client.get("/portal/").content.decode()
    answer_url = reverse("applications_portal:document_request", args=[request.pk])
    assert 'data-kind="document_request"' in home and f'href="{answer_url}"' in home
    assert "请补充服务网点清单" in client.get(answer_url).content.decode()
    response = client.post(answer_url, {"files": [upload("outlets.pdf", PDF)]})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.answered_at is not None
    assert list(application.documents.values_list("kind", "original_name")) == [
        ("outlets", "outlets.pdf")
    ]
    assert Notification.objects.filter(recipient=market, kind="document_request_answered")
    assert 'data-kind="document_request"' not in client.get("/portal/").content.decode()


def test_a_bad_file_keeps_the_request_open(client, market, application):
    request = services.document_request_create(
        application=application,
        actor=market,
        kind="outlets",
        note="网点清单",
        due_on=timezone.localdate(),
    )
    client.force_login(ClientUserFactory(organization=application.organization))
    url = reverse("applications_portal:document_request", args=[request.pk])
    response = client.post(url, {"files": [upload("outlets.exe", b"MZ\x90\x00")]})
    assert response.status_code == 422
    request.refresh_from_db()
    assert request.answered_at is None and not application.documents.exists()


def test_another_organisations_request_is_not_found(client, market, application):
    request = services.document_request_create(
        application=application,
        actor=market,
        kind="outlets",
        note="网点清单",
        due_on=timezone.localdate(),
    )
    client.force_login(ClientUserFactory(organization=OrganizationFactory()))
    url = reverse("applications_portal:document_request", args=[request.pk])
    assert client.get(url).status_code == 404


def test_a_request_needs_a_note_and_a_due_date_not_in_the_past(market, application):
    with pytest.raises(RuleViolation, match="which document"):
        services.document_request_create(
            application=application,
            actor=market,
            kind="outlets",
            note=" ",
            due_on=timezone.localdate(),
        )
    with pytest.raises(RuleViolation, match="earlier than today"):
        services.document_request_create(
            application=application,
            actor=market,
            kind="outlets",
            note="网点清单",
            due_on=timezone.localdate() - timedelta(days=1),
        )
