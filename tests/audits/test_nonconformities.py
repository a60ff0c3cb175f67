"""Nonconformities through their write path (004 §5.10; 001 §7.5) and the staff workspace.

Stage 2 starts 2025-03-10 and ends 2025-03-12 (tests.audits.nc_factories): a major NC of it is
due 2025-09-12 (6 months, 004 §5.10.3(1)).
"""

import hashlib
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from audits import services as audit_services
from audits import services as nonconformities
from audits.models import (
    Audit,
    Auditor,
    AuditProgramme,
    Nonconformity,
    NonconformityAttachment,
    NonconformityResponse,
)
from certbody.lifecycle import RuleViolation
from certificates import services as cert_services
from tests.applications.factories import ClientUserFactory
from tests.audits.factories import auditor_user
from tests.audits.nc_factories import (
    JPEG,
    PDF,
    PNG,
    STAGE2_END,
    STAGE2_START,
    answer,
    complete,
    raise_nc,
    stage2_in_progress,
    upload,
)
from tests.certificates.factories import (
    Staff,
    accepted_application,
    issued_certificate,
    run_audit,
    score_sheet,
)
from tests.certificates.helpers import skip_pdf_rendering
from tests.files import office_file
from tests.shared import shared_fixture

State = Nonconformity.State
MAJOR_DUE = date(2025, 9, 12)


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def staff(cb, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return Staff()


@shared_fixture
def stage2(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return stage2_in_progress(staff=staff)


@pytest.fixture
def client_user(stage2):
    return ClientUserFactory(organization=stage2.programme.organization)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def counts_and_files():
    """What a refused answer must leave as it was: the responses, attachments and files (the
    module's shared fixtures may hold some already)."""
    return (
        NonconformityResponse.objects.count(),
        NonconformityAttachment.objects.count(),
        sorted(stored_files()),
    )


# --- raise and deadlines --------------------------------------------------------------------


def test_team_leader_raises_ncs_numbered_per_audit(stage2, staff):
    first = raise_nc(stage2, staff)
    second = raise_nc(stage2, staff, severity="minor", raised_on=date(2025, 3, 11))
    assert (first.number, second.number) == (1, 2)
    assert first.state == State.OPEN and first.raised_by == staff.leader
    # while the audit runs, the deadline counts from the day raised
    assert first.due_on == date(2025, 9, 10)
    assert second.due_on == date(2025, 9, 11)  # minors: the same period
    assert first.history.latest().history_user == staff.leader


def test_completing_the_audit_recomputes_the_deadlines_from_its_end(stage2, staff):
    nc = raise_nc(stage2, staff)
    complete(stage2, staff)
    nc.refresh_from_db()
    assert nc.due_on == MAJOR_DUE
    assert nc.history.latest().history_change_reason.startswith("审核结束")


def test_an_nc_may_be_raised_after_the_audit_completed(stage2, staff):
    complete(stage2, staff)
    nc = raise_nc(stage2, staff, raised_on=date(2025, 3, 14))
    assert nc.due_on == MAJOR_DUE  # from the audit's end, not the raise day


def _completed_audit(staff, kind: str, scheme: str) -> Audit:
    if kind == "stage2":
        audit = stage2_in_progress(staff=staff)
        AuditProgramme.objects.filter(pk=audit.programme_id).update(scheme=scheme)
        return complete(audit, staff)
    certificate = issued_certificate(staff=staff)
    if kind == "recertification":
        application = accepted_application(certificate.organization, staff, kind="recertification")
        programme = audit_services.programme_create(application=application, actor=staff.planner)
        audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    elif kind == "special":
        audit = audit_services.audit_add_special(
            programme=certificate.programme,
            actor=staff.planner,
            special_kind=Audit.SpecialKind.COMPLAINT,
            reason="客户投诉经查属实",
            due_on=date(2025, 8, 30),
        )
    else:
        audit = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
        # A CAS surveillance may not start 5 months after stage 2 (001 §7.1): run it first,
        # switch the scheme before the NCs (and their deadlines) are raised.
        audit = run_audit(audit, staff, date(2025, 8, 1), date(2025, 8, 2))
        AuditProgramme.objects.filter(pk=audit.programme_id).update(scheme=scheme)
        return Audit.objects.get(pk=audit.pk)
    AuditProgramme.objects.filter(pk=audit.programme_id).update(scheme=scheme)
    return run_audit(audit, staff, date(2025, 8, 1), date(2025, 8, 2))


@pytest.mark.parametrize(
    ("kind", "scheme", "due"),
    [
        ("stage2", "ZXRZ-2025", date(2025, 9, 12)),  # 004 §5.10.3(1): 6 months
        ("stage2", "CAS", date(2025, 9, 12)),
        ("surveillance", "ZXRZ-2025", date(2025, 11, 2)),  # 004 §5.10.3(2): 3 months
        ("surveillance", "CAS", date(2025, 10, 2)),  # 001 §7.5: 2 months
        ("recertification", "ZXRZ-2025", date(2025, 9, 2)),  # 004 §5.10.3(3): 1 month
        ("recertification", "CAS", date(2025, 9, 2)),
        ("special", "ZXRZ-2025", date(2025, 11, 2)),  # a special audit: surveillance period
        ("special", "CAS", date(2025, 10, 2)),
    ],
)
def test_due_on_for_each_audit_type_and_scheme(staff, kind, scheme, due):
    audit = _completed_audit(staff, kind, scheme)
    major = raise_nc(audit, staff, raised_on=audit.actual_end)
    minor = raise_nc(audit, staff, severity="minor", raised_on=audit.actual_end)
    assert (major.due_on, minor.due_on) == (due, due)


def test_someone_outside_the_team_cannot_raise_an_nc(stage2, staff, leader):
    ncs = Nonconformity.objects.count()
    for outsider in (staff.planner, leader):
        with pytest.raises(RuleViolation, match="无权.*审核组成员"):
            nonconformities.nonconformity_raise(
                audit=stage2,
                actor=outsider,
                severity="major",
                clause="5.3",
                description="x",
                evidence="y",
                raised_on=STAGE2_START,
            )
    assert Nonconformity.objects.count() == ncs


def test_a_trainee_on_the_team_cannot_raise_an_nc_alone(stage2, staff):
    trainee = auditor_user("nc-trainee", qualification=Auditor.Qualification.TRAINEE)
    audit_services.audit_team_add(audit=stage2, actor=staff.planner, user=trainee, role="trainee")
    with pytest.raises(RuleViolation, match="无权.*审核组成员"):
        nonconformities.nonconformity_raise(
            audit=stage2,
            actor=trainee,
            severity="minor",
            clause="5.3",
            description="x",
            evidence="y",
            raised_on=STAGE2_START,
        )


def test_a_team_auditor_may_raise_an_nc(stage2, staff):
    auditor = auditor_user("nc-auditor")
    audit_services.audit_team_add(audit=stage2, actor=staff.planner, user=auditor, role="auditor")
    nc = nonconformities.nonconformity_raise(
        audit=stage2,
        actor=auditor,
        severity="minor",
        clause="5.3",
        description="x",
        evidence="y",
        raised_on=STAGE2_START,
    )
    assert nc.raised_by == auditor


def test_no_nc_on_a_planned_audit_nor_in_the_future_nor_without_evidence(staff, stage2):
    planned = stage2.programme.audits.filter(state=Audit.State.PLANNED).first() or (
        audit_services.audit_add_special(
            programme=stage2.programme,
            actor=staff.planner,
            special_kind=Audit.SpecialKind.OTHER,
            reason="测试",
        )
    )
    audit_services.audit_team_add(
        audit=planned, actor=staff.planner, user=staff.leader, role="leader"
    )
    with pytest.raises(RuleViolation, match="审核进行中"):
        raise_nc(planned, staff)
    with pytest.raises(RuleViolation, match="不能晚于今天"):
        raise_nc(stage2, staff, raised_on=date(2099, 1, 1))
    with pytest.raises(RuleViolation, match="不能早于审核开始"):
        raise_nc(stage2, staff, raised_on=date(2025, 3, 1))
    with pytest.raises(RuleViolation, match="客观证据"):
        nonconformities.nonconformity_raise(
            audit=stage2,
            actor=staff.leader,
            severity="major",
            clause="5.3",
            description="x",
            evidence="  ",
            raised_on=STAGE2_START,
        )


# --- answer ---------------------------------------------------------------------------------


def test_client_answers_with_evidence_files_stored_under_generated_names(
    stage2, staff, client_user
):
    nc = raise_nc(stage2, staff)
    files = [
        upload("整改照片.jpg", JPEG, "image/jpeg"),
        upload("C:\\Users\\王\\整改记录.pdf", PDF, "application/pdf"),
        upload("培训签到.png", PNG),
        upload("网点管理规范.docx", office_file()),
        upload("检查表.xlsx", office_file("xl/workbook.xml")),
    ]
    response = answer(nc, client_user, attachments=files)
    nc.refresh_from_db()
    assert nc.state == State.ANSWERED
    assert response.submitted_by == client_user and response.review == "pending"
    attachments = list(response.attachments.order_by("pk"))
    assert [a.original_name for a in attachments] == [
        "整改照片.jpg",
        "整改记录.pdf",
        "培训签到.png",
        "网点管理规范.docx",
        "检查表.xlsx",
    ]
    assert [a.content_type for a in attachments][:3] == [
        "image/jpeg",
        "application/pdf",
        "image/png",
    ]
    pdf = attachments[1]
    assert pdf.size == len(PDF)
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert "整改记录" not in pdf.file.name and pdf.file.name.endswith(".pdf")
    assert pdf.file.name.startswith(f"nonconformities/{stage2.programme.organization_id}/{nc.pk}/")
    with pdf.file.open("rb") as fh:
        assert fh.read() == PDF


def test_client_of_another_organisation_cannot_answer(stage2, staff):
    nc = raise_nc(stage2, staff)
    stranger = ClientUserFactory()
    with pytest.raises(RuleViolation, match="不能答复"):
        answer(nc, stranger)
    nc.refresh_from_db()
    assert nc.state == State.OPEN and not nc.responses.exists()


def test_audit_department_may_enter_the_answer_on_the_clients_behalf(stage2, staff):
    nc = raise_nc(stage2, staff)
    response = answer(nc, staff.planner)
    assert response.submitted_by == staff.planner
    nc.refresh_from_db()
    assert "代客户录入" in nc.history.latest().history_change_reason


@pytest.mark.parametrize(
    ("name", "content", "msg"),
    [
        ("整改记录.pdf", PNG, "内容与其 .pdf 扩展名不符"),  # magic bytes
        ("照片.png", JPEG, "内容与其 .png 扩展名不符"),
        ("规范.docx", b"PK\x03\x04not really a zip", "内容与其 .docx 扩展名不符"),
        ("检查表.xlsx", office_file("word/document.xml"), "内容与其 .xlsx 扩展名不符"),
        ("setup.exe", b"MZ\x90\x00", "类型不允许"),
        ("记录", PDF, "类型不允许"),
        ("空文件.pdf", b"", "空文件"),
    ],
)
def test_a_bad_attachment_refuses_the_whole_answer(stage2, staff, client_user, name, content, msg):
    nc = raise_nc(stage2, staff)
    before = counts_and_files()
    good = upload("整改记录.pdf", PDF)
    with pytest.raises(RuleViolation, match=msg):
        answer(nc, client_user, attachments=[good, upload(name, content)])
    nc.refresh_from_db()
    assert nc.state == State.OPEN
    assert counts_and_files() == before  # no response, no attachment, no file


def test_an_attachment_over_ten_megabytes_is_refused(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    before = counts_and_files()
    big = upload("扫描件.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(RuleViolation, match="超过 10 MB"):
        answer(nc, client_user, attachments=[big])
    assert counts_and_files() == before


def test_at_most_ten_attachments(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    responses = NonconformityResponse.objects.count()
    files = [upload(f"记录{i}.pdf", PDF) for i in range(11)]
    with pytest.raises(RuleViolation, match="最多上传 10 个附件"):
        answer(nc, client_user, attachments=files)
    assert NonconformityResponse.objects.count() == responses


def test_files_written_are_removed_when_the_answer_fails_late(
    stage2, staff, client_user, monkeypatch
):
    nc = raise_nc(stage2, staff)
    before = counts_and_files()
    calls = {"n": 0}
    original = NonconformityAttachment.save

    def fail_second(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(NonconformityAttachment, "save", fail_second)
    with pytest.raises(RuntimeError):
        answer(nc, client_user, attachments=[upload("a.pdf", PDF), upload("b.pdf", PDF)])
    assert counts_and_files() == before


def test_a_major_nc_cannot_be_answered_with_a_plan_only(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    with pytest.raises(RuleViolation, match="004 §5.10.2"):
        answer(nc, client_user, is_plan=True)
    nc.refresh_from_db()
    assert nc.state == State.OPEN


def test_a_closed_or_answered_nc_cannot_be_answered(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    response = answer(nc, client_user)
    with pytest.raises(RuleViolation, match="当前状态"):
        answer(nc, client_user)
    nonconformities.nonconformity_review(
        response=response, actor=staff.leader, accepted=True, note="", reviewed_on=STAGE2_END
    )
    with pytest.raises(RuleViolation, match="已验证关闭|Verified and closed"):
        answer(nc, client_user)


# --- review ---------------------------------------------------------------------------------


def test_reject_then_answer_again_then_accept_closes_a_major(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    first = answer(nc, client_user)
    with pytest.raises(RuleViolation, match="写明理由"):
        nonconformities.nonconformity_review(
            response=first, actor=staff.leader, accepted=False, note=" ", reviewed_on=STAGE2_END
        )
    nonconformities.nonconformity_review(
        response=first,
        actor=staff.leader,
        accepted=False,
        note="未提供网点公示的照片证据。",
        reviewed_on=STAGE2_END,
    )
    nc.refresh_from_db()
    first.refresh_from_db()
    assert nc.state == State.REJECTED and first.review == "rejected"
    assert first.reviewed_by == staff.leader and first.review_note.startswith("未提供")
    assert nc in nonconformities.unsettled_nonconformities(stage2)

    second = answer(nc, client_user, attachments=[upload("照片.jpg", JPEG)])
    nc.refresh_from_db()
    assert nc.state == State.ANSWERED
    with pytest.raises(RuleViolation, match="已审核"):
        nonconformities.nonconformity_review(
            response=first, actor=staff.leader, accepted=True, note="", reviewed_on=STAGE2_END
        )
    nonconformities.nonconformity_review(
        response=second,
        actor=staff.leader,
        accepted=True,
        note="照片证据有效",
        reviewed_on=date(2025, 4, 1),
    )
    nc.refresh_from_db()
    assert nc.state == State.CLOSED and nc.closed_on == date(2025, 4, 1)
    assert nc.is_settled and not nonconformities.verified_late(nc)
    assert list(nonconformities.unsettled_nonconformities(stage2)) == []


def test_only_the_team_reviews_an_answer(stage2, staff, client_user, decider):
    nc = raise_nc(stage2, staff)
    response = answer(nc, client_user)
    for outsider in (staff.planner, decider, client_user):
        with pytest.raises(RuleViolation, match="无权.*审核组成员"):
            nonconformities.nonconformity_review(
                response=response, actor=outsider, accepted=True, note="", reviewed_on=STAGE2_END
            )
    nc.refresh_from_db()
    assert nc.state == State.ANSWERED


def test_a_minors_plan_is_accepted_and_settles_it_for_the_decision(stage2, staff, client_user):
    minor = raise_nc(stage2, staff, severity="minor")
    major = raise_nc(stage2, staff)
    response = answer(minor, client_user, is_plan=True)
    nonconformities.nonconformity_review(
        response=response,
        actor=staff.leader,
        accepted=True,
        note="计划可行",
        reviewed_on=STAGE2_END,
    )
    minor.refresh_from_db()
    assert minor.state == State.PLAN_ACCEPTED and minor.closed_on is None
    assert minor.is_settled
    assert list(nonconformities.unsettled_nonconformities(stage2)) == [major]


def test_a_minors_full_correction_accepted_closes_it(stage2, staff, client_user):
    minor = raise_nc(stage2, staff, severity="minor")
    response = answer(minor, client_user)
    nonconformities.nonconformity_review(
        response=response, actor=staff.leader, accepted=True, note="", reviewed_on=STAGE2_END
    )
    minor.refresh_from_db()
    assert minor.state == State.CLOSED and minor.closed_on == STAGE2_END


def test_an_acceptance_after_the_deadline_is_recorded_and_flagged(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    complete(stage2, staff)
    response = answer(nc, client_user, submitted_on=date(2025, 9, 1))
    nonconformities.nonconformity_review(
        response=response, actor=staff.leader, accepted=True, note="", reviewed_on=date(2025, 9, 13)
    )
    nc.refresh_from_db()
    assert nc.state == State.CLOSED
    assert nonconformities.verified_late(nc)
    assert nonconformities.late_nonconformities(stage2) == [nc]
    assert nc.history.latest().history_change_reason.startswith("逾期验证（期限 2025-09-12）")


def test_overdue_nonconformities(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    settled = raise_nc(stage2, staff, severity="minor")
    complete(stage2, staff)
    response = answer(settled, client_user, is_plan=True)
    nonconformities.nonconformity_review(
        response=response, actor=staff.leader, accepted=True, note="", reviewed_on=STAGE2_END
    )
    assert list(nonconformities.overdue_nonconformities(MAJOR_DUE)) == []  # due today: in time
    assert list(nonconformities.overdue_nonconformities(date(2025, 9, 13))) == [nc]


# --- a minor's plan verified at the next audit ---------------------------------------------------


@shared_fixture
def accepted_plan(staff, module_monkeypatch):
    """A minor NC of stage 2 with its plan accepted, the certificate granted and surveillance 1
    completed (2025-08-01 – 2025-08-02)."""
    skip_pdf_rendering(module_monkeypatch)
    stage2 = stage2_in_progress(staff=staff)
    minor = raise_nc(stage2, staff, severity="minor")
    client_user = ClientUserFactory(organization=stage2.programme.organization)
    response = answer(minor, client_user, is_plan=True)
    nonconformities.nonconformity_review(
        response=response,
        actor=staff.leader,
        accepted=True,
        note="计划可行",
        reviewed_on=STAGE2_END,
    )
    complete(stage2, staff)
    score_sheet(stage2, "four_star")
    cert_services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 3, 20),
        star_grade="four_star",
    )
    surveillance = stage2.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2025, 8, 1), date(2025, 8, 2))
    minor.refresh_from_db()
    return minor, surveillance


def test_plan_verified_effective_at_the_next_audit_closes_the_nc(accepted_plan, staff):
    minor, surveillance = accepted_plan
    nc = nonconformities.nonconformity_verify_plan(
        nonconformity=minor,
        actor=staff.leader,
        audit=surveillance,
        effective=True,
        note="抽查 5 个网点均已公示",
        verified_on=date(2025, 8, 2),
    )
    assert nc.state == State.CLOSED
    assert (nc.closed_on, nc.verified_at) == (date(2025, 8, 2), surveillance)
    plan = nc.responses.get(is_plan=True)
    assert "验证有效" in plan.review_note and "抽查 5 个网点" in plan.review_note
    assert not nonconformities.verified_late(nc)  # the plan was accepted in time


def test_plan_cannot_be_verified_at_its_own_audit_or_by_another_team(accepted_plan, staff):
    minor, surveillance = accepted_plan
    with pytest.raises(RuleViolation, match="下一次审核"):
        nonconformities.nonconformity_verify_plan(
            nonconformity=minor,
            actor=staff.leader,
            audit=minor.audit,
            effective=True,
            note="x",
            verified_on=date(2025, 8, 2),
        )
    with pytest.raises(RuleViolation, match="无权.*审核组成员"):
        nonconformities.nonconformity_verify_plan(
            nonconformity=minor,
            actor=staff.planner,
            audit=surveillance,
            effective=True,
            note="x",
            verified_on=date(2025, 8, 2),
        )
    other = stage2_in_progress(staff=staff)
    with pytest.raises(RuleViolation, match="下一次审核"):
        nonconformities.nonconformity_verify_plan(
            nonconformity=minor,
            actor=staff.leader,
            audit=other,
            effective=True,
            note="x",
            verified_on=date(2025, 8, 2),
        )
    minor.refresh_from_db()
    assert minor.state == State.PLAN_ACCEPTED


def test_an_ineffective_plan_needs_a_new_nc_raised_at_that_audit(accepted_plan, staff):
    minor, surveillance = accepted_plan
    kwargs = {
        "nonconformity": minor,
        "actor": staff.leader,
        "audit": surveillance,
        "effective": False,
        "note": "仍有网点未公示",
        "verified_on": date(2025, 8, 2),
    }
    with pytest.raises(RuleViolation, match="须先在"):
        nonconformities.nonconformity_verify_plan(**kwargs)
    new = raise_nc(surveillance, staff, raised_on=date(2025, 8, 2))
    nc = nonconformities.nonconformity_verify_plan(**kwargs)
    assert nc.state == State.CLOSED and nc.verified_at == surveillance
    assert "纠正措施无效" in nc.history.latest().history_change_reason
    assert list(nonconformities.unsettled_nonconformities(surveillance)) == [new]


def test_only_an_accepted_plan_is_verified_at_the_next_audit(stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    with pytest.raises(RuleViolation, match="已接受纠正措施计划"):
        nonconformities.nonconformity_verify_plan(
            nonconformity=nc,
            actor=staff.leader,
            audit=stage2,
            effective=True,
            note="x",
            verified_on=STAGE2_END,
        )


# --- workspace pages (formerly the admin) ---------------------------------------------------


def _action(client, name, nc, **data):
    return client.post(reverse("workspace:action", args=["nonconformities", nc.pk, name]), data)


def test_leader_raises_an_nc_from_the_audit_page(client, stage2, staff):
    client.force_login(staff.leader)
    url = reverse("workspace:action", args=["audits", stage2.pk, "raise-nc"])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "severity": "major",
            "clause": "GB/T 27922 5.4",
            "description": "投诉处理超过承诺时限。",
            "evidence": "抽查投诉记录 10 份，3 份超过 48 小时。",
            "raised_on": "2025-03-11",
        },
    )
    nc = Nonconformity.objects.get(audit=stage2)
    assert response["Location"] == reverse("workspace:object", args=["nonconformities", nc.pk])
    assert (nc.number, nc.raised_by, nc.due_on) == (1, staff.leader, date(2025, 9, 11))


def test_raising_is_refused_to_staff_off_the_team(client, stage2, staff):
    ncs = Nonconformity.objects.count()
    client.force_login(staff.planner)  # not on the team
    data = {
        "severity": "major",
        "clause": "5.4",
        "description": "x",
        "evidence": "y",
        "raised_on": "2025-03-11",
    }
    response = client.post(
        reverse("workspace:action", args=["audits", stage2.pk, "raise-nc"]), data
    )
    assert response.status_code == 403
    with pytest.raises(RuleViolation, match="无权.*审核组成员"):  # the service says the same
        nonconformities.nonconformity_raise(
            audit=stage2, actor=staff.planner, **{**data, "raised_on": date(2025, 3, 11)}
        )
    assert Nonconformity.objects.count() == ncs


def test_review_actions_and_read_only_page(client, stage2, staff, client_user):
    nc = raise_nc(stage2, staff)
    answer(nc, client_user, attachments=[upload("整改记录.pdf", PDF)])
    client.force_login(staff.leader)
    page = client.get(reverse("workspace:object", args=["nonconformities", nc.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "网点管理制度未明确公示要求" in body and "整改记录.pdf" in body
    assert 'name="description"' not in body  # read-only: changes go through the actions
    assert {"accept", "reject"} <= set(re.findall(r'data-action="([a-z-]+)"', body))

    response = _action(client, "reject", nc, note="", reviewed_on="2025-03-12")
    assert response.status_code == 422  # the form wants reasons
    nc.refresh_from_db()
    assert nc.state == State.ANSWERED
    response = _action(client, "reject", nc, note="证据不足", reviewed_on="2025-03-12")
    assert response.status_code == 302
    nc.refresh_from_db()
    assert nc.state == State.REJECTED

    # no answer pending: not offered, and refused if forged
    assert (
        'data-action="accept"'
        not in client.get(
            reverse("workspace:object", args=["nonconformities", nc.pk])
        ).content.decode()
    )
    response = _action(client, "accept", nc, note="", reviewed_on="2025-03-12")
    assert response.status_code == 409
    with pytest.raises(RuleViolation, match="没有待审核的答复"):
        nonconformities.nonconformity_review_pending(
            nonconformity=nc,
            actor=staff.leader,
            accepted=True,
            note="",
            reviewed_on=date(2025, 3, 12),
        )
    answer(nc, client_user)
    _action(client, "accept", nc, note="有效", reviewed_on="2025-03-12")
    nc.refresh_from_db()
    assert nc.state == State.CLOSED and nc.closed_on == date(2025, 3, 12)


def test_a_plan_is_verified_at_the_next_audit_from_the_nc_page(client, accepted_plan, staff):
    minor, surveillance = accepted_plan
    client.force_login(staff.leader)
    response = _action(
        client,
        "verify-plan",
        minor,
        audit=surveillance.pk,
        effective="on",
        note="已验证",
        verified_on="2025-08-02",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    minor.refresh_from_db()
    assert minor.state == State.CLOSED and minor.verified_at == surveillance


@pytest.mark.parametrize("role_user", ["planner", "decider", "leader"])
def test_staff_roles_see_the_nonconformity_list(client, stage2, staff, role_user):
    nc = raise_nc(stage2, staff)
    client.force_login(getattr(staff, role_user))
    response = client.get(reverse("workspace:list", args=["nonconformities"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "NC-01" in html
    assert reverse("workspace:object", args=["nonconformities", nc.pk]) in html


def test_attachment_refusals_read_in_the_readers_language():
    """The NC answer's upload refusals name the file in the reader's language, whole."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import translation

    files = [SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4 x") for i in range(11)]
    bad = [SimpleUploadedFile("evidence.exe", b"MZ")]
    with translation.override("en"):
        with pytest.raises(RuleViolation, match="At most 10 attachments"):
            nonconformities.attachments_check(files)
        with pytest.raises(RuleViolation, match="^Attachment “evidence.exe”: this type"):
            nonconformities.attachments_check(bad)
    with translation.override("zh-hans"):
        with pytest.raises(RuleViolation, match="每次答复最多上传 10 个附件"):
            nonconformities.attachments_check(files)
        with pytest.raises(RuleViolation, match="^附件“evidence.exe”"):
            nonconformities.attachments_check(bad)


def test_the_next_step_reads_in_the_language_it_is_shown_in():
    """``next_step`` is lazy: computed once (e.g. for a reminder's context) and read by each
    recipient in their own language."""
    from django.utils import translation

    from audits.models import Nonconformity as NC
    from audits.selectors import next_step

    step = next_step(NC(state=NC.State.OPEN))
    with translation.override("en"):
        assert str(step).startswith("Please analyse the cause")
    with translation.override("zh-hans"):
        assert str(step) == "请分析原因，提交纠正和纠正措施及证据"
        assert str(next_step(NC(state=NC.State.CLOSED))) == "已验证关闭"
