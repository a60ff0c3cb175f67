"""Appeals and complaints (004 §8; 001 §10): received from clients and the public, acknowledged,
handled by someone not involved in the matter, decided in writing within 60 days."""

from datetime import date

import pytest
from django.core.cache import cache
from django.test import Client

from audits.models import AuditTeamMember
from certbody.lifecycle import RuleViolation, system_user
from certificates import services
from certificates.models import Appeal, CertificateDocument
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.certificates.helpers import certificate_in, pdf_text, skip_pdf_rendering
from tests.conftest import make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

REGULATOR_SENTENCE = "可以直接向本机构所在地市场监管部门或国家认证认可监督管理委员会投诉"


@shared_fixture
def certificate(staff):
    return issued_certificate(staff=staff)


@pytest.fixture
def no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()


def appeal_against(certificate, actor=None, **kwargs):
    user = actor or ClientUserFactory(organization=certificate.organization)
    return services.appeal_receive(
        actor=user,
        kind="appeal",
        received_on=date(2025, 4, 1),
        subject="对星级评定有异议",
        description="我司认为投诉处理指标评分有误。",
        decision=certificate.decision,
        **kwargs,
    )


def test_client_appeal_is_received_with_reference_and_due_date(certificate):
    appeal = appeal_against(certificate)

    assert appeal.reference == f"SS2025-{appeal.pk:05d}"
    assert (appeal.kind, appeal.channel, appeal.state) == ("appeal", "portal", "received")
    assert appeal.organization == certificate.organization
    assert appeal.due_on == date(2025, 5, 31)  # 60 days after receipt
    assert appeal.audit == certificate.decision.audit


def test_appeal_needs_a_decision_or_a_certificate(certificate):
    user = ClientUserFactory(organization=certificate.organization)
    with pytest.raises(RuleViolation, match="004 §8.1"):
        services.appeal_receive(
            actor=user,
            kind="appeal",
            received_on=date(2025, 4, 1),
            subject="异议",
            description="说明",
        )


def test_client_cannot_appeal_another_organisations_decision(certificate, staff):
    other = issued_certificate(staff=staff)
    user = ClientUserFactory(organization=other.organization)

    with pytest.raises(RuleViolation, match="本组织"):
        appeal_against(certificate, actor=user)
    assert not Appeal.objects.exists()


def test_public_complaint_needs_name_and_contact(db):
    with pytest.raises(RuleViolation, match="联系方式"):
        services.appeal_receive(
            actor=system_user(),
            kind="complaint",
            received_on=date(2025, 4, 1),
            subject="投诉",
            description="说明",
        )


@pytest.mark.pdf
def test_full_handling_with_an_independent_handler_and_written_result(certificate, staff):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    handler = make_staff("handler1", "market")
    appeal = appeal_against(certificate)

    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))
    services.appeal_assign(appeal=appeal, actor=technical_manager, handler=handler)
    appeal.refresh_from_db()
    assert (appeal.state, appeal.handler) == ("under_investigation", handler)

    services.appeal_decide(
        appeal=appeal,
        actor=handler,
        decided_on=date(2025, 5, 20),
        outcome="not_upheld",
        decision_text="经复核，评分符合评价指标要求，维持原认证决定。",
    )

    appeal.refresh_from_db()
    assert (appeal.state, appeal.decided_by, appeal.is_overdue) == ("decided", handler, False)
    notice = appeal.documents.get(kind=CertificateDocument.Kind.APPEAL_DECISION)
    assert notice.organization == certificate.organization
    with notice.file.open("rb") as handle:
        text = pdf_text(handle.read())
    assert "申诉/投诉处理结果通知书" in text
    assert appeal.reference in text
    assert "维持原认证决定" in text
    assert REGULATOR_SENTENCE in text


@pytest.mark.parametrize("who", ["leader", "decider"])
def test_handler_involved_in_the_matter_is_refused(certificate, staff, who, no_pdf):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    appeal = appeal_against(certificate)
    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))

    with pytest.raises(RuleViolation, match=r"参与过被申诉.*004 §8.3 / 001 §10"):
        services.appeal_assign(appeal=appeal, actor=technical_manager, handler=getattr(staff, who))

    appeal.refresh_from_db()
    assert (appeal.state, appeal.handler) == ("acknowledged", None)


def test_team_member_of_the_document_review_is_involved_too(certificate, staff, no_pdf):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    expert = make_staff("expert1", "auditor")
    review = certificate.programme.audits.get(kind="document_review")
    AuditTeamMember.objects.create(audit=review, user=expert, role="expert")
    appeal = appeal_against(certificate)
    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))

    with pytest.raises(RuleViolation, match="参与过"):
        services.appeal_assign(appeal=appeal, actor=technical_manager, handler=expert)


def test_whoever_suspended_the_certificate_cannot_handle_the_appeal_against_it(staff, no_pdf):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    certificate = certificate_in("suspended", staff=staff)  # suspended by staff.decider
    second_decider = make_staff("decider9", "decision_maker")
    appeal = services.appeal_receive(
        actor=ClientUserFactory(organization=certificate.organization),
        kind="appeal",
        received_on=date(2025, 6, 10),
        subject="对暂停证书有异议",
        description="暂停原因已消除",
        certificate=certificate,
    )
    services.appeal_acknowledge(
        appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 6, 10)
    )

    with pytest.raises(RuleViolation, match="参与过"):
        services.appeal_assign(appeal=appeal, actor=technical_manager, handler=staff.decider)
    services.appeal_assign(appeal=appeal, actor=technical_manager, handler=second_decider)


def test_decision_by_someone_else_than_the_handler_is_refused(certificate, staff, no_pdf):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    handler = make_staff("handler1", "market")
    appeal = appeal_against(certificate)
    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))
    services.appeal_assign(appeal=appeal, actor=technical_manager, handler=handler)

    with pytest.raises(RuleViolation, match="指派的处理人员"):
        services.appeal_decide(
            appeal=appeal,
            actor=staff.market,
            decided_on=date(2025, 5, 1),
            outcome="upheld",
            decision_text="x",
        )


def test_deciding_before_assignment_is_refused(certificate, staff, no_pdf):
    appeal = appeal_against(certificate)

    with pytest.raises(RuleViolation, match="当前状态"):
        services.appeal_decide(
            appeal=appeal,
            actor=make_staff("tm-appeals", "technical_manager"),
            decided_on=date(2025, 5, 1),
            outcome="upheld",
            decision_text="x",
        )


def test_only_a_technical_manager_assigns(certificate, staff, no_pdf):
    appeal = appeal_against(certificate)
    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))

    with pytest.raises(RuleViolation, match="技术负责人"):
        services.appeal_assign(appeal=appeal, actor=staff.market, handler=staff.planner)


def test_late_decision_is_recorded_and_shows_as_overdue(certificate, staff, no_pdf):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    appeal = appeal_against(certificate)
    services.appeal_acknowledge(appeal=appeal, actor=staff.market, acknowledged_on=date(2025, 4, 2))
    services.appeal_assign(appeal=appeal, actor=technical_manager, handler=technical_manager)

    services.appeal_decide(
        appeal=appeal,
        actor=technical_manager,
        decided_on=date(2025, 6, 1),
        outcome="partly_upheld",
        decision_text="部分采纳",
    )

    appeal.refresh_from_db()
    assert appeal.is_overdue
    assert Appeal.objects.filter(due_on__lt=date(2025, 6, 1)).get() == appeal


# --- public complaint form ------------------------------------------------------------------

FORM = {
    "name": "张女士",
    "contact": "13800000000",
    "about_organization": "某电器有限公司",
    "certificate_number": "",
    "subject": "维修承诺未兑现",
    "description": "送修空调超过承诺时限仍未修复。",
    "website": "",
}


def test_public_form_opens_without_log_in_and_links_from_verify(client, db):
    assert client.get("/complaints/new/").status_code == 200
    assert 'href="/complaints/new/"' in client.get("/verify/").content.decode()


def test_public_complaint_is_received_and_thanked_with_its_reference(client, certificate, no_pdf):
    response = client.post(
        "/complaints/new/", {**FORM, "certificate_number": certificate.number}, follow=True
    )

    appeal = Appeal.objects.get()
    assert response.redirect_chain[-1][0] == "/complaints/thanks/"
    assert appeal.reference in response.content.decode()
    assert (appeal.kind, appeal.channel, appeal.certificate) == ("complaint", "public", certificate)
    assert (appeal.name, appeal.contact, appeal.organization) == ("张女士", "13800000000", None)
    assert appeal.reference.startswith("TS")


def test_public_form_needs_csrf(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/complaints/new/", FORM)

    assert response.status_code == 403
    assert not Appeal.objects.exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"contact": "12"}, "请填写可以联系到您"),
        ({"subject": ""}, "这个字段是必填项"),
        ({"certificate_number": "abc"}, "证书编号格式不正确"),
        ({"certificate_number": "012325FW9999R0C"}, "未找到该证书编号"),
    ],
)
def test_public_form_validates(client, db, changes, message):
    response = client.post("/complaints/new/", {**FORM, **changes})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Appeal.objects.exists()


def test_public_form_drops_bots_filling_the_hidden_field(client, db):
    response = client.post("/complaints/new/", {**FORM, "website": "http://spam.example"})

    assert response.status_code == 200
    assert not Appeal.objects.exists()


def test_public_form_is_throttled_per_address(client, db):
    for _ in range(5):
        client.post("/complaints/new/", FORM)

    response = client.post("/complaints/new/", FORM)

    assert "提交过于频繁" in response.content.decode()
    assert Appeal.objects.count() == 5


def test_thank_you_page_without_a_submission_goes_back_to_the_form(client, db):
    response = client.get("/complaints/thanks/")

    assert response.status_code == 302
    assert response["Location"] == "/complaints/new/"


# --- client portal --------------------------------------------------------------------------


def test_client_files_an_appeal_against_its_own_decision(client, certificate, no_pdf):
    client.force_login(ClientUserFactory(organization=certificate.organization))
    decision = certificate.decision

    form = client.get(f"/portal/appeals/new/?decision={decision.pk}")
    assert form.status_code == 200
    response = client.post(
        "/portal/appeals/new/",
        {"decision": decision.pk, "subject": "对星级评定有异议", "description": "评分有误"},
        follow=True,
    )

    appeal = Appeal.objects.get()
    assert (appeal.decision, appeal.channel, appeal.organization) == (
        decision,
        "portal",
        certificate.organization,
    )
    body = response.content.decode()
    assert f"申诉已提交，编号 {appeal.reference}" in body
    assert f'data-reference="{appeal.reference}"' in body


def test_another_organisations_decision_or_certificate_is_not_found(client, certificate, staff):
    own = issued_certificate(OrganizationFactory(), staff)
    client.force_login(ClientUserFactory(organization=own.organization))

    assert client.get(f"/portal/appeals/new/?decision={certificate.decision.pk}").status_code == 404
    assert client.get(f"/portal/appeals/new/?certificate={certificate.pk}").status_code == 404
    response = client.post(
        "/portal/appeals/new/",
        {"decision": certificate.decision.pk, "subject": "x", "description": "y"},
    )
    assert response.status_code == 404
    assert not Appeal.objects.exists()


def test_refused_applicant_appeals_the_refusal(client, staff, no_pdf):
    stage2 = completed_stage2(staff=staff)
    decision = services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 3, 20),
        reasons="评分低于 70 分",
    )
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))

    client.post(
        "/portal/appeals/new/",
        {"decision": decision.pk, "subject": "对不予认证有异议", "description": "请复核"},
    )

    assert Appeal.objects.get().decision == decision


def test_appeal_form_needs_a_subject_of_appeal(client, certificate):
    client.force_login(ClientUserFactory(organization=certificate.organization))

    response = client.post("/portal/appeals/new/", {"subject": "x", "description": "y"})

    assert "请选择被申诉的认证决定或证书" in response.content.decode()
    assert not Appeal.objects.exists()


def test_staff_and_anonymous_cannot_use_the_portal_appeal_form(client, staff, db):
    assert client.get("/portal/appeals/new/").status_code == 302
    client.force_login(staff.planner)
    assert client.get("/portal/appeals/new/").status_code == 404


def test_answer_to_a_public_complaint_stays_away_from_the_client_complained_of(
    client, certificate, staff, no_pdf
):
    technical_manager = make_staff("tm-appeals", "technical_manager")
    complaint = services.appeal_receive(
        actor=system_user(),
        kind="complaint",
        received_on=date(2025, 4, 1),
        subject="维修承诺未兑现",
        description="说明",
        name="张女士",
        contact="13800000000",
        certificate=certificate,
    )
    services.appeal_acknowledge(
        appeal=complaint, actor=staff.market, acknowledged_on=date(2025, 4, 2)
    )
    services.appeal_assign(appeal=complaint, actor=technical_manager, handler=technical_manager)
    services.appeal_decide(
        appeal=complaint,
        actor=technical_manager,
        decided_on=date(2025, 5, 1),
        outcome="upheld",
        decision_text="投诉成立，已要求获证组织整改。",
    )

    answer = complaint.documents.get()
    assert (answer.organization, answer.certificate, answer.decision) == (None, None, None)
    client.force_login(ClientUserFactory(organization=certificate.organization))
    body = client.get("/portal/").content.decode()
    assert "appeal_decision" not in body
    assert complaint.reference not in body
    assert client.get(f"/portal/documents/{answer.pk}/").status_code == 404
