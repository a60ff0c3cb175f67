"""Nonconformities built through the services, and evidence files for the answer tests."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from audits import services as audit_services
from audits import services as nonconformities
from audits.models import Audit
from tests.certificates.factories import (
    Staff,
    accepted_application,
    hold_meetings,
    plan_ready,
    run_audit,
    sign_report,
)

STAGE2_START = date(2025, 3, 10)
STAGE2_END = date(2025, 3, 12)  # majors due 2025-09-12 (004 §5.10.3(1))

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stage2_in_progress(organization=None, staff: Staff | None = None, *, start=STAGE2_START):
    """Stage 2 of a new client's programme, started on ``start`` by ``staff.leader``'s team."""
    staff = staff or Staff()
    application = accepted_application(organization, staff)
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    run_audit(review, staff, date(2025, 2, 1), date(2025, 2, 1))
    audit_services.audit_close(audit=review, actor=staff.planner)
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    audit_services.audit_team_add(
        audit=stage2, actor=staff.planner, user=staff.leader, role="leader"
    )
    plan_ready(stage2, staff, start, max(start, STAGE2_END))
    audit_services.audit_start(audit=stage2, actor=staff.planner, started_on=start)
    stage2.refresh_from_db()
    return stage2


def complete(audit, staff: Staff, end=STAGE2_END):
    if not audit.meetings.exists():
        hold_meetings(audit, audit.actual_start, end)
    audit_services.audit_complete(
        audit=audit, actor=staff.leader, ended_on=end, recommendation_positive=True
    )
    sign_report(audit, end)  # a decision rests on it (004 §5.12.1)
    audit.refresh_from_db()
    return audit


def raise_nc(audit, staff: Staff, *, severity="major", raised_on=STAGE2_START, clause="5.3.2"):
    return nonconformities.nonconformity_raise(
        audit=audit,
        actor=staff.leader,
        severity=severity,
        clause=f"GB/T 27922 {clause}",
        description="售后服务网点未按规定公示服务收费标准。",
        evidence="抽查 3 个网点，其中 2 个未公示收费标准（现场照片 P-01、P-02）。",
        raised_on=raised_on,
    )


def answer(nc, actor, *, is_plan=False, attachments=(), submitted_on=STAGE2_END):
    return nonconformities.nonconformity_answer(
        nonconformity=nc,
        actor=actor,
        cause_analysis="网点管理制度未明确公示要求。",
        correction="已在全部网点张贴收费标准。",
        corrective_action="修订《网点管理规范》，增加公示检查项，每季度检查。",
        is_plan=is_plan,
        attachments=attachments,
        submitted_on=submitted_on,
    )
