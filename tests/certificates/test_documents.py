"""Issue #11: documents never block a deadline-bound change, a broken PDF is never stored, and
stored evidence is re-checked (pending documents, retries, SHA-256 on download,
``verify_documents``, regeneration, orphan files, ``Cache-Control``)."""

import hashlib
import os
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone, translation

from audits import services as audit_reports
from certbody import jobs
from certbody import pdf as certbody_pdf
from certbody.models import Notification
from certificates import jobs as certificate_jobs
from certificates import pdf, services
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
)
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import completed_stage2, issued_certificate
from tests.conftest import STUB_PDF, make_staff
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Kind = CertificateDocument.Kind
State = CertificateDocument.State
ORG_NAME = "北京京东家电服务有限公司"


@pytest.fixture
def tm(db):
    return make_staff("tm-docs", "technical_manager")


@shared_fixture
def certificate(staff):
    return issued_certificate(OrganizationFactory(name=ORG_NAME), staff)


def broken_renderer(monkeypatch):
    def fail(html):
        raise OSError("WeasyPrint crashed")

    monkeypatch.setattr(certbody_pdf, "html_to_pdf", fail)


def suspend(certificate, staff):
    return services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 31),
    )


def withdraw(certificate, staff):
    return services.certificate_withdraw(
        certificate=certificate,
        actor=staff.decider,
        cause=8,
        verified_on=date(2025, 7, 1),
        withdrawn_on=date(2025, 7, 1),
    )


def due_later(hours=7):
    return timezone.now() + timedelta(hours=hours)


# --- item 3: the change commits, its documents follow --------------------------------------


def test_suspension_commits_with_its_notice_pending_when_the_pdf_fails(
    certificate, staff, tm, monkeypatch
):
    broken_renderer(monkeypatch)

    suspend(certificate, staff)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED
    assert certificate.events.filter(kind=CertificateEvent.Kind.SUSPENDED).exists()
    notice = certificate.documents.get(kind=Kind.SUSPENSION_NOTICE)
    assert (notice.state, notice.file.name, notice.attempts) == (State.PENDING, "", 1)
    assert "WeasyPrint crashed" in notice.last_error
    assert notice.next_attempt_at > timezone.now()
    alert = Notification.objects.get(recipient=tm, kind="pending_documents")
    assert certificate.number in alert.subject


def test_withdrawal_commits_with_its_notice_pending_and_the_job_stores_it_later(
    certificate, staff, tm, monkeypatch
):
    broken_renderer(monkeypatch)
    withdraw(certificate, staff)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN
    notice = certificate.documents.get(kind=Kind.WITHDRAWAL_NOTICE)
    assert notice.state == State.PENDING
    # Not due yet: the retry is backed off, the job leaves it alone.
    assert certificate_jobs.pending_document_step() is False

    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: STUB_PDF)
    assert pdf.pending_document_step(now=due_later()) is True

    notice.refresh_from_db()
    assert notice.state == State.STORED
    with notice.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == notice.sha256
    assert pdf.pending_document_step(now=due_later()) is False  # nothing left to do


def test_issue_keeps_its_number_and_certificate_when_the_pdfs_fail(staff, monkeypatch):
    stage2 = completed_stage2(OrganizationFactory(name=ORG_NAME), staff)
    broken_renderer(monkeypatch)
    # The module's shared certificate may have taken numbers of 2025 already.
    last = CertificateSequence.objects.filter(year=2025).values_list("last", flat=True).first()

    decision = services.decision_make(
        audit=stage2, actor=staff.decider, outcome="grant", decided_on=date(2025, 3, 20)
    )

    head = decision.certificates.get(head__isnull=True)
    assert head.sequence == (last or 0) + 1 and head.status == Certificate.Status.VALID
    pending = CertificateDocument.objects.filter(
        certificate__decision=decision, state=State.PENDING
    )
    assert set(pending.values_list("kind", flat=True)) == {Kind.CERTIFICATE, Kind.APPROVAL_NOTICE}

    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: STUB_PDF)
    assert jobs.run("pending_documents") == 0  # backed off: not due in this pass
    while pdf.pending_document_step(now=due_later()):
        pass
    assert not CertificateDocument.objects.filter(state=State.PENDING).exists()


@pytest.mark.after_commit
def test_pdfs_are_rendered_only_after_the_issue_commits(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    stage2 = completed_stage2(OrganizationFactory(name=ORG_NAME), staff)
    rendered = []
    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: rendered.append(html) or STUB_PDF)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decision = services.decision_make(
            audit=stage2, actor=staff.decider, outcome="grant", decided_on=date(2025, 3, 20)
        )
    # Inside the transaction (and the number lock) nothing was laid out.
    assert rendered == []
    head = decision.certificates.get(head__isnull=True)
    assert head.documents.get(kind=Kind.CERTIFICATE).state == State.PENDING

    for callback in callbacks:
        callback()

    assert len(rendered) == 2
    assert head.documents.get(kind=Kind.CERTIFICATE).state == State.STORED
    assert head.number in rendered[0] or head.number in rendered[1]


@pytest.mark.after_commit
def test_a_rolled_back_change_leaves_no_document_and_no_file(
    certificate, staff, settings, django_capture_on_commit_callbacks
):
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom):
        from django.db import transaction

        with transaction.atomic():
            suspend(certificate, staff)
            raise Boom

    assert not certificate.documents.filter(kind=Kind.SUSPENSION_NOTICE).exists()
    after = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    assert after == before


def test_rendering_twice_stores_one_file(certificate, staff, settings):
    notice = pdf.document_queue(
        kind=Kind.MAINTENANCE_NOTICE,
        html="<html><body>x</body></html>",
        expected=[],
        actor=staff.decider,
        certificate=certificate,
    )
    notice.refresh_from_db()
    name = notice.file.name

    assert pdf.document_render(document_id=notice.pk) is True
    assert pdf.document_render(document_id=notice.pk) is True

    notice.refresh_from_db()
    assert notice.file.name == name
    folder = Path(settings.MEDIA_ROOT) / Path(name).parent
    assert len([p for p in folder.iterdir() if "maintenance_notice" in p.name]) == 1


def test_a_document_is_not_rendered_where_pdfs_are_disabled(certificate, staff, settings):
    settings.PDF_ENABLED = False
    suspend(certificate, staff)
    notice = certificate.documents.get(kind=Kind.SUSPENSION_NOTICE)
    assert (notice.state, notice.attempts) == (State.PENDING, 0)
    assert pdf.pending_document_step(now=due_later()) is False

    settings.PDF_ENABLED = True
    assert pdf.pending_document_step() is True
    notice.refresh_from_db()
    assert notice.state == State.STORED


# --- item 2: a PDF whose text cannot be read back is never stored ---------------------------


@pytest.mark.pdf
def test_an_unreadable_pdf_is_not_stored_and_a_readable_one_is_later(
    certificate, staff, tm, monkeypatch
):
    real = certbody_pdf.html_to_pdf
    # What WeasyPrint makes with DejaVu only: a PDF without the Chinese text.
    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: STUB_PDF)

    suspend(certificate, staff)

    notice = certificate.documents.get(kind=Kind.SUSPENSION_NOTICE)
    assert notice.state == State.PENDING and not notice.file
    assert "cannot be read back" in notice.last_error
    assert ORG_NAME in notice.expected_text
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUSPENDED

    monkeypatch.setattr(certbody_pdf, "html_to_pdf", real)
    assert pdf.pending_document_step(now=due_later()) is True
    notice.refresh_from_db()
    assert notice.state == State.STORED
    with notice.file.open("rb") as handle:
        text = certbody_pdf.pdf_text(handle.read())
    assert ORG_NAME in text and certificate.number in text


@pytest.mark.pdf
def test_read_back_finds_name_and_number_in_a_real_certificate(certificate):
    content = pdf.render_certificate_pdf(certificate)
    certbody_pdf.check_readable(content, pdf.certificate_expected(certificate))
    with pytest.raises(certbody_pdf.PdfError, match="cannot be read back"):
        certbody_pdf.check_readable(content, ["上海另一家公司"])
    with pytest.raises(certbody_pdf.PdfError, match="did not return a PDF"):
        certbody_pdf.check_readable(b"<html>", [ORG_NAME])


@pytest.mark.pdf
def test_an_audit_report_that_cannot_be_read_back_is_refused(staff, monkeypatch, settings):
    stage2 = completed_stage2(OrganizationFactory(name=ORG_NAME), staff, report=False)
    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: STUB_PDF)
    # The module's shared certificate's stage 2 report is among the media files.
    reports = set(Path(settings.MEDIA_ROOT).rglob("audit*.pdf"))

    from certbody.lifecycle import RuleViolation

    with pytest.raises(RuleViolation, match="审查报告 PDF 未能生成"):
        audit_reports.audit_report_generate(
            audit=stage2, actor=staff.leader, signed_on=date(2025, 3, 13)
        )
    assert not stage2.reports.exists()
    assert set(Path(settings.MEDIA_ROOT).rglob("audit*.pdf")) == reports


# --- pending documents as staff and clients see them ----------------------------------------


def test_pending_document_shows_as_being_prepared_and_is_not_downloadable(
    client, certificate, staff, monkeypatch
):
    broken_renderer(monkeypatch)
    suspend(certificate, staff)
    notice = certificate.documents.get(kind=Kind.SUSPENSION_NOTICE)
    client.force_login(ClientUserFactory(organization=certificate.organization))

    body = client.get("/portal/").content.decode()
    row = body.split('data-kind="suspension_notice"')[1].split("</tr>")[0]
    assert 'data-state="pending"' in row
    assert f"/portal/documents/{notice.pk}/" not in row

    response = client.get(f"/portal/documents/{notice.pk}/")
    assert response.status_code == 409
    assert response["Cache-Control"] == "private, no-store"


def test_staff_see_a_pending_document_with_its_failed_attempts(
    client, certificate, staff, monkeypatch
):
    broken_renderer(monkeypatch)
    suspend(certificate, staff)
    notice = certificate.documents.get(kind=Kind.SUSPENSION_NOTICE)
    client.force_login(staff.decider)

    body = client.get(f"/staff/certificates/{certificate.pk}/").content.decode()

    row = body.split(f'data-document="{notice.pk}"')[1].split("</tr>")[0]
    assert 'data-testid="document-pending"' in row
    assert "WeasyPrint crashed" in row


# --- item 4: stored evidence is re-checked --------------------------------------------------


def tamper(document, content=b"%PDF-1.7 altered"):
    Path(document.file.path).write_bytes(content)


def test_download_of_an_intact_document_is_private_and_not_cached(client, certificate):
    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    client.force_login(ClientUserFactory(organization=certificate.organization))

    response = client.get(f"/portal/documents/{document.pk}/")

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == document.sha256


def test_altered_file_is_refused_on_download_and_the_technical_manager_alerted(
    client, certificate, tm
):
    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    tamper(document)
    client.force_login(ClientUserFactory(organization=certificate.organization))

    response = client.get(f"/portal/documents/{document.pk}/")

    assert response.status_code == 503
    assert response["Cache-Control"] == "private, no-store"
    assert b"altered" not in response.content  # the client is told it is unavailable only
    alert = Notification.objects.get(recipient=tm, kind="document_tampered")
    assert certificate.number in alert.subject
    assert "file altered" in alert.body
    # A second refused download does not repeat the alert within the hour.
    assert client.get(f"/portal/documents/{document.pk}/").status_code == 503
    assert Notification.objects.filter(kind="document_tampered").count() == 1


def test_missing_file_is_refused_on_download(client, certificate, staff):
    document = certificate.documents.get(kind=Kind.APPROVAL_NOTICE)
    os.remove(document.file.path)
    client.force_login(staff.decider)

    assert client.get(f"/portal/documents/{document.pk}/").status_code == 503


def test_altered_audit_report_is_refused_on_download(client, staff, certificate):
    stage2 = certificate.decision.audit
    report = audit_reports.audit_report_generate(
        audit=stage2, actor=staff.leader, signed_on=date(2025, 3, 21)
    )
    url = reverse("audits_client:report", args=[report.pk])
    client.force_login(staff.planner)
    ok = client.get(url)
    assert ok.status_code == 200
    assert ok["Cache-Control"] == "private, no-store"

    Path(report.file.path).write_bytes(b"%PDF-1.7 altered")

    assert client.get(url).status_code == 503


def test_verify_documents_reports_altered_and_missing_files_and_fails(certificate, capsys):
    certificate_pdf = certificate.documents.get(kind=Kind.CERTIFICATE)
    approval = certificate.documents.get(kind=Kind.APPROVAL_NOTICE)
    call_command("verify_documents")  # all intact: exits normally
    tamper(certificate_pdf)
    os.remove(approval.file.path)

    with pytest.raises(CommandError, match="2 document"):
        call_command("verify_documents")

    out = capsys.readouterr().out
    assert f"#{certificate_pdf.pk}): file altered" in out
    assert f"#{approval.pk}): file missing" in out


def test_regenerating_a_broken_certificate_keeps_number_content_and_both_versions(
    client, certificate, tm
):
    old = certificate.documents.get(kind=Kind.CERTIFICATE)
    events = certificate.events.count()
    tamper(old)

    new = pdf.certificate_document_regenerate(document=old, actor=tm)

    new.refresh_from_db()
    old.refresh_from_db()
    assert new.state == State.STORED and new.replaces == old
    assert (new.certificate, new.kind, new.html) == (certificate, old.kind, old.html)
    assert certificate.number in new.html
    assert new.file.name != old.file.name
    with new.file.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == new.sha256
    assert old.file.name and old.sha256  # the old row and its file are kept as they are
    assert certificate.events.count() == events  # no CNCA event
    certificate.refresh_from_db()
    assert certificate.number == new.certificate.number
    # The client is offered the new version only; staff see both.
    client.force_login(ClientUserFactory(organization=certificate.organization))
    body = client.get("/portal/").content.decode()
    assert f"/portal/documents/{new.pk}/" in body
    assert f"/portal/documents/{old.pk}/" not in body
    assert client.get(f"/portal/documents/{new.pk}/").status_code == 200


def test_regeneration_is_refused_for_an_intact_file_a_replaced_one_and_other_roles(
    certificate, staff, tm
):
    from certbody.lifecycle import RuleViolation

    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    with pytest.raises(RuleViolation, match="完好"):
        pdf.certificate_document_regenerate(document=document, actor=tm)
    tamper(document)
    with pytest.raises(RuleViolation, match="无权"):
        pdf.certificate_document_regenerate(document=document, actor=staff.market)
    pdf.certificate_document_regenerate(document=document, actor=tm)
    with pytest.raises(RuleViolation, match="已由新版本"):
        pdf.certificate_document_regenerate(document=document, actor=tm)


def test_legacy_certificate_document_without_html_is_regenerated_from_its_record(certificate, tm):
    """Rows stored before issue #11 kept no HTML: the certificate's latest one is rebuilt from
    the certificate's record, unchanged since."""
    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    CertificateDocument.objects.filter(pk=document.pk).update(html="", expected_text=[])
    tamper(document)

    new = pdf.certificate_document_regenerate(document=document, actor=tm)

    assert certificate.number in new.html
    assert new.expected_text == [ORG_NAME, certificate.number]


def test_verify_documents_regenerate_repairs_broken_certificates(certificate, capsys, system_user):
    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    tamper(document)

    call_command("verify_documents", "--regenerate")

    out = capsys.readouterr().out
    assert "regenerated as #" in out
    new = document.replacements.get()
    assert new.state == State.STORED
    call_command("verify_documents")  # the broken one is replaced: no failure any more


# --- orphan files -----------------------------------------------------------------------------


def test_orphan_files_are_reported_once_to_the_technical_manager(certificate, tm, settings):
    orphan = Path(settings.MEDIA_ROOT) / "certificates" / "left-behind.pdf"
    orphan.write_bytes(b"%PDF-1.7 from a rolled-back transaction")
    old = time.time() - 7200
    os.utime(orphan, (old, old))
    fresh = Path(settings.MEDIA_ROOT) / "certificates" / "being-written.pdf"
    fresh.write_bytes(b"%PDF-1.7 transaction still running")

    assert jobs.run("orphan_files") == 1

    alert = Notification.objects.get(recipient=tm, kind="orphan_files")
    assert "certificates/left-behind.pdf" in alert.body
    assert "being-written" not in alert.body
    assert certificate.documents.first().file.name not in alert.body
    assert orphan.exists()  # reported, never deleted
    assert jobs.run("orphan_files") == 0


def test_the_weekly_integrity_job_reports_each_broken_document_once(certificate, tm):
    document = certificate.documents.get(kind=Kind.CERTIFICATE)
    assert jobs.run("document_integrity") == 0
    tamper(document)

    assert jobs.run("document_integrity") == 1

    alert = Notification.objects.get(recipient=tm, kind="document_integrity")
    assert f"#{document.pk}): file altered" in alert.body
    assert jobs.run("document_integrity") == 0  # told once


def test_every_new_job_has_a_beat_entry():
    from certbody.celery import app

    scheduled = {entry["args"][0] for entry in app.conf.beat_schedule.values()}
    assert {"pending_documents", "orphan_files", "document_integrity"} <= scheduled
    assert {"pending_documents", "orphan_files", "document_integrity"} <= set(jobs.JOBS)


@pytest.mark.after_commit
def test_without_redis_the_celery_task_renders_in_process_after_commit(
    certificate, staff, settings, django_capture_on_commit_callbacks
):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("with REDIS_URL the task goes to a worker")

    with django_capture_on_commit_callbacks(execute=True):
        suspend(certificate, staff)

    assert certificate.documents.get(kind=Kind.SUSPENSION_NOTICE).state == State.STORED


# --- 004 §6.2.4: documents are printed in Chinese whatever the issuer's language -----------


def test_certificate_and_notices_issued_by_an_english_speaker_are_in_chinese(
    staff, technical_manager, monkeypatch
):
    monkeypatch.setattr(certbody_pdf, "html_to_pdf", lambda html: STUB_PDF)
    stage2 = completed_stage2(OrganizationFactory(name=ORG_NAME), staff, grade="three_star")
    with translation.override("en"):
        decision = services.decision_make(
            audit=stage2,
            actor=staff.decider,
            outcome="grant",
            decided_on=date(2025, 3, 20),
            star_grade="three_star",
        )
        head = decision.certificates.get(head__isnull=True)
        services.certificate_suspend(
            certificate=head,
            actor=staff.decider,
            cause=11,
            verified_on=date(2025, 6, 3),
            starts_on=date(2025, 6, 3),
            ends_on=date(2025, 8, 31),
        )
        services.certificate_restore(
            certificate=head,
            actor=technical_manager,
            restored_on=date(2025, 7, 1),
            evidence="客户撤回暂停申请",
        )
        assert head.get_star_grade_display() == "Three star"  # the issuer reads English

    certificate = head.documents.get(kind=Kind.CERTIFICATE)
    assert "三星级" in certificate.html and "Three star" not in certificate.html
    for kind in (Kind.APPROVAL_NOTICE, Kind.RESTORATION_NOTICE):
        notice = CertificateDocument.objects.get(certificate=head, kind=kind)
        assert "三星级" in notice.html and "Three star" not in notice.html
    suspension = head.documents.get(kind=Kind.SUSPENSION_NOTICE)
    assert "暂停认证资格通知书" in suspension.html
    assert "（11）" in suspension.html
