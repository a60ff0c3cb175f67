"""An English-speaking staff member (``User.language = "en"``, certbody.language) who is refused
a transition reads the refusal in English; the same refusal is Chinese for everyone else (the
default). Two refusals of the applications desk: the matrix's (a role without
``applications.review_application``: 403 saying who may act, ``policy.denial_message``) and a
rule's (a file whose content does not match its extension, ``certbody.uploads``: 422)."""

import pytest
from django.urls import reverse

from applications import services
from certbody import roles
from tests.applications.factories import OrganizationFactory
from tests.certbody.test_uploads import PNG, upload
from tests.conftest import make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb")]


@pytest.fixture
def submitted(market):
    application = services.application_create(
        organization=OrganizationFactory(name="华东家电服务有限公司"),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    return services.application_submit(application=application, actor=market)


def speaking(user, language: str):
    user.language = language
    user.save(update_fields=["language"])
    return user


def action_url(application, action: str) -> str:
    return reverse("workspace:action", args=["applications", application.pk, action])


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("en", "This action needs: Market (applications, contracts).", "此操作需要"),
        ("", "此操作需要：市场部（申请、合同）。", "This action needs"),
    ],
)
def test_a_refused_role_reads_who_may_act_in_their_language(
    client, submitted, language, expected, absent
):
    planner = speaking(make_staff("planner-en", roles.AUDIT_DEPARTMENT), language)
    client.force_login(planner)

    response = client.post(action_url(submitted, "start-review"))

    page = response.content.decode()
    assert response.status_code == 403
    assert expected in page and absent not in page
    submitted.refresh_from_db()
    assert submitted.state == "submitted"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "File “伪装.pdf”: its content does not match its .pdf extension"),
        ("", "文件“伪装.pdf”的内容与其 .pdf 扩展名不符，不能上传"),
    ],
)
def test_a_refused_transition_reads_the_rule_in_their_language(
    client, market, submitted, language, expected
):
    client.force_login(speaking(market, language))

    response = client.post(
        action_url(submitted, "add-documents"),
        {"kind": "licences", "files": [upload("伪装.pdf", PNG)]},
    )

    assert response.status_code == 422
    assert expected in response.content.decode().replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert submitted.documents.count() == 0
