"""Client portal for nonconformities: list, detail, answer with files, evidence download.

Another organisation's NC or file is a 404 everywhere (style.md "Querysets for clients are
always filtered by the user's organisation"); staff see every NC.
"""

import hashlib

import pytest
from django.urls import reverse

from audits import services as nonconformities
from audits.models import Nonconformity, NonconformityAttachment, NonconformityResponse
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.audits.nc_factories import (
    JPEG,
    PDF,
    PNG,
    STAGE2_END,
    answer,
    raise_nc,
    stage2_in_progress,
    upload,
)
from tests.shared import shared_fixture

State = Nonconformity.State


@shared_fixture
def stage2(staff):
    return stage2_in_progress(OrganizationFactory(name="南京苏宁电器有限公司"), staff)


@shared_fixture
def nc(stage2, staff):
    return raise_nc(stage2, staff)


@shared_fixture
def own(nc):
    return ClientUserFactory(organization=nc.audit.programme.organization)


@shared_fixture
def stranger(staff):
    """A client user of another organisation, which has an NC of its own."""
    other = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    raise_nc(other, staff, clause="6.1")
    return ClientUserFactory(organization=other.programme.organization)


def detail_url(nc):
    return reverse("audits_portal:detail", args=[nc.pk])


def answer_url(nc):
    return reverse("audits_portal:answer", args=[nc.pk])


def post_answer(client, nc, files=(), **extra):
    data = {
        "cause_analysis": "网点管理制度未明确公示要求。",
        "correction": "已在全部网点张贴收费标准。",
        "corrective_action": "修订《网点管理规范》，每季度检查。",
        **extra,
    }
    if files:
        data["attachments"] = list(files)
    return client.post(answer_url(nc), data)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


# --- list and detail ----------------------------------------------------------------------------


def test_client_sees_their_ncs_with_due_date_and_what_to_do(client, nc, own, stranger):
    client.force_login(own)
    response = client.get(reverse("audits_portal:list"))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-nc="{nc.pk}"' in page
    assert nc.due_on.strftime("%Y-%m-%d") in page
    assert "请分析原因，提交纠正和纠正措施及证据" in page
    assert f'href="{detail_url(nc)}"' in page
    other = Nonconformity.objects.exclude(pk=nc.pk).get()
    assert f'data-nc="{other.pk}"' not in page  # another organisation's NC is not listed
    assert "GB/T 27922 6.1" not in page


def test_staff_see_every_nc(client, nc, stranger, staff):
    client.force_login(staff.planner)
    page = client.get(reverse("audits_portal:list")).content.decode()
    for item in Nonconformity.objects.all():
        assert f'data-nc="{item.pk}"' in page
    assert client.get(detail_url(nc)).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, nc):
    for url in (reverse("audits_portal:list"), detail_url(nc)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_detail_shows_the_nc_earlier_answers_and_review_notes(client, nc, own, staff):
    response = answer(nc, own, attachments=[upload("整改记录.pdf", PDF)])
    nonconformities.nonconformity_review(
        response=response,
        actor=staff.leader,
        accepted=False,
        note="未提供网点公示的照片证据。",
        reviewed_on=STAGE2_END,
    )
    client.force_login(own)
    page = client.get(detail_url(nc)).content.decode()
    assert "售后服务网点未按规定公示服务收费标准" in page
    assert "网点管理制度未明确公示要求" in page
    assert "未提供网点公示的照片证据" in page
    attachment = NonconformityAttachment.objects.get()
    assert reverse("audits_portal:attachment", args=[attachment.pk]) in page
    # rejected: the form is offered again, multipart, with the stable field names
    assert 'id="answer-form"' in page and 'enctype="multipart/form-data"' in page
    for name in ("cause_analysis", "correction", "corrective_action", "attachments"):
        assert f'name="{name}"' in page
    assert "答复未被接受，请按审核组意见重新答复" in page


def test_plan_option_only_for_minor_ncs(client, nc, own, stage2, staff):
    minor = raise_nc(stage2, staff, severity="minor")
    client.force_login(own)
    assert 'name="is_plan"' not in client.get(detail_url(nc)).content.decode()
    assert 'name="is_plan"' in client.get(detail_url(minor)).content.decode()


def test_client_of_another_organisation_gets_404_for_the_detail(client, nc, stranger):
    client.force_login(stranger)
    assert client.get(detail_url(nc)).status_code == 404


# --- answer ----------------------------------------------------------------------------------


def test_client_answers_with_files_from_the_portal(client, nc, own):
    client.force_login(own)
    response = post_answer(
        client, nc, files=[upload("整改记录.pdf", PDF), upload("照片.jpg", JPEG)]
    )
    assert response.status_code == 302 and response["Location"] == detail_url(nc)
    nc.refresh_from_db()
    assert nc.state == State.ANSWERED
    saved = NonconformityResponse.objects.get()
    assert saved.submitted_by == own and not saved.is_plan
    assert set(saved.attachments.values_list("original_name", flat=True)) == {
        "照片.jpg",
        "整改记录.pdf",
    }
    page = client.get(detail_url(nc)).content.decode()
    assert 'id="answer-form"' not in page  # nothing to answer while the team verifies
    assert "已答复，等待审核组验证" in page


def test_client_submits_a_plan_for_a_minor_nc(client, stage2, staff, own):
    minor = raise_nc(stage2, staff, severity="minor")
    client.force_login(own)
    assert post_answer(client, minor, is_plan="on").status_code == 302
    assert NonconformityResponse.objects.get(nonconformity=minor).is_plan


def test_a_file_whose_content_is_not_its_type_is_a_form_error(client, nc, own):
    client.force_login(own)
    response = post_answer(client, nc, files=[upload("整改记录.pdf", PDF), upload("伪装.pdf", PNG)])
    assert response.status_code == 200
    assert "内容与其 .pdf 扩展名不符" in response.content.decode()
    nc.refresh_from_db()
    assert nc.state == State.OPEN
    assert not NonconformityResponse.objects.exists()
    assert not NonconformityAttachment.objects.exists()


def test_an_oversize_file_is_a_form_error(client, nc, own):
    client.force_login(own)
    big = upload("扫描件.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = post_answer(client, nc, files=[big])
    assert response.status_code == 200
    assert "超过 10 MB" in response.content.decode()
    assert not NonconformityResponse.objects.exists()


def test_missing_texts_are_form_errors(client, nc, own):
    client.force_login(own)
    response = client.post(answer_url(nc), {"cause_analysis": "原因"})
    assert response.status_code == 200
    assert not NonconformityResponse.objects.exists()


def test_answering_a_closed_nc_is_refused(client, nc, own, staff):
    response = answer(nc, own)
    nonconformities.nonconformity_review(
        response=response, actor=staff.leader, accepted=True, note="", reviewed_on=STAGE2_END
    )
    client.force_login(own)
    response = post_answer(client, nc)
    assert response.status_code == 302 and response["Location"] == detail_url(nc)
    page = client.get(detail_url(nc)).content.decode()
    assert "当前状态" in page  # the refusal, as a message
    assert 'id="answer-form"' not in page
    assert NonconformityResponse.objects.count() == 1


def test_client_of_another_organisation_cannot_post_an_answer(client, nc, stranger):
    client.force_login(stranger)
    response = post_answer(client, nc, files=[upload("整改记录.pdf", PDF)])
    assert response.status_code == 404
    nc.refresh_from_db()
    assert nc.state == State.OPEN and not NonconformityResponse.objects.exists()


def test_answer_accepts_only_post(client, nc, own):
    client.force_login(own)
    assert client.get(answer_url(nc)).status_code == 405


# --- download ------------------------------------------------------------------------------------


@pytest.fixture
def attachment(nc, own):
    answer(nc, own, attachments=[upload("培训签到表.png", PNG)])
    return NonconformityAttachment.objects.get()


def test_client_downloads_their_evidence_as_an_attachment(client, attachment, own):
    client.force_login(own)
    response = client.get(reverse("audits_portal:attachment", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%E5%9F%B9%E8%AE%AD" in response["Content-Disposition"]  # 培训…, RFC 5987 encoded
    assert response["X-Content-Type-Options"] == "nosniff"
    content = body_of(response)
    assert content == PNG and hashlib.sha256(content).hexdigest() == attachment.sha256


def test_staff_download_any_evidence(client, attachment, staff):
    client.force_login(staff.leader)
    response = client.get(reverse("audits_portal:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and body_of(response) == PNG


def test_client_of_another_organisation_gets_404_for_the_file(client, attachment, stranger):
    client.force_login(stranger)
    response = client.get(reverse("audits_portal:attachment", args=[attachment.pk]))
    assert response.status_code == 404


def test_certificates_portal_links_to_the_nonconformities(client, own):
    client.force_login(own)
    page = client.get(reverse("certificates:portal")).content.decode()
    assert f'href="{reverse("audits_portal:list")}"' in page
