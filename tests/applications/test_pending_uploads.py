"""The application form keeps what was uploaded when another field fails (issue #14): good
files wait as the user's pending uploads, the form says "Already uploaded: name", and the
next submission uses them unless the client chooses another file for that field."""

import pytest
from django.urls import reverse
from django.utils import translation

from applications.models import Application, ApplicationDocument
from applications.pending_uploads import PendingUpload
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.applications.test_portal import application_data
from tests.certbody.test_uploads import PDF, upload


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are matched on their English words: the compiled catalogue gives Chinese by
    default, so requests and code here speak English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb", "english")]


@pytest.fixture
def own():
    return ClientUserFactory(organization=OrganizationFactory())


def without_documents(**extra) -> dict:
    data = {k: v for k, v in application_data().items() if not k.startswith("documents_")}
    return {**data, **extra}


def test_uploads_survive_an_error_and_are_used_on_resubmit(client, own):
    client.force_login(own)
    url = reverse("applications_portal:new")
    response = client.post(url, application_data(headcount="0"))
    assert response.status_code == 422
    assert not Application.objects.exists()
    page = response.content.decode()
    assert 'data-testid="kept-documents_outlets"' in page and "outlets.pdf" in page
    assert "Already uploaded:" in page
    # The entered values are kept too.
    assert "家用电器的销售及售后服务（配送、安装、维修）" in page
    assert 'value="24"' in page and "checked" in page

    # Resubmitted with no file chosen, one replaced.
    response = client.post(url, without_documents(documents_outlets=upload("网点清单-新.pdf", PDF)))
    assert response.status_code == 302
    application = Application.objects.get()
    names = dict(application.documents.values_list("kind", "original_name"))
    assert names["outlets"] == "网点清单-新.pdf"
    assert names["legal_status"] == "legal_status.pdf"
    assert len(names) == len(ApplicationDocument.REQUIRED)
    assert not PendingUpload.objects.filter(user=own).exists()


def test_a_users_pending_uploads_are_not_anyone_elses(client, own):
    client.force_login(own)
    client.post(reverse("applications_portal:new"), application_data(headcount="0"))
    other = ClientUserFactory(organization=OrganizationFactory())
    client.force_login(other)
    page = client.get(reverse("applications_portal:new")).content.decode()
    assert "Already uploaded:" not in page
    response = client.post(reverse("applications_portal:new"), without_documents())
    assert response.status_code == 422 and not Application.objects.exists()


def test_the_scope_picker_is_a_labelled_checkbox_list_with_a_search_box(client, own):
    client.force_login(own)
    page = client.get(reverse("applications_portal:new")).content.decode()
    picker = page[page.index('data-testid="scope-picker"') : page.index("</fieldset>")]
    assert 'type="checkbox" name="business_scope_codes" value="24"' in picker
    assert "<legend>" in picker and 'type="search"' in picker and "<label for=" in picker
    assert "applications/scope_picker.js" in page and "<script>" not in page
