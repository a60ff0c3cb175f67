"""Certificates in every public status, built through the services as production does."""

import io
import re
from datetime import date

from pypdf import PdfReader

from audits import services as audit_services
from audits.models import Audit
from certificates import notices, pdf
from certificates import services as cert_services
from certificates.models import Certificate, CertificateDocument
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import Staff, accepted_application, issued_certificate, run_audit

ISSUED_ON = date(2025, 3, 20)  # factories.issued_certificate's default decision date
EXPIRES_ON = date(2028, 3, 19)  # 3 years from issue, ending the day before
SUSPENDED_FROM = date(2025, 6, 2)
SUSPENDED_UNTIL = date(2025, 9, 1)
CHANGED_ON = date(2025, 7, 1)

Status = Certificate.Status


def recertify(certificate: Certificate, staff: Staff) -> Certificate:
    """Run the organisation's recertification and grant it; returns the new head certificate."""
    application = accepted_application(certificate.organization, staff, kind="recertification")
    programme = audit_services.programme_create(application=application, actor=staff.planner)
    audit = programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
    run_audit(audit, staff, date(2025, 9, 1), date(2025, 9, 2))
    decision = cert_services.decision_make(
        audit=audit,
        actor=staff.decider,
        outcome="grant",
        decided_on=date(2025, 9, 10),
        star_grade="five_star",
    )
    return decision.certificates.get(head__isnull=True)


def certificate_in(status: str, organization=None, staff: Staff | None = None) -> Certificate:
    """A head certificate brought into ``status`` through the services, as stored now."""
    staff = staff or Staff()
    certificate = issued_certificate(organization, staff)
    actor = staff.decider
    if status == Status.SUSPENDED:
        cert_services.certificate_suspend(
            certificate=certificate,
            actor=actor,
            cause=11,  # the client's own request (004 §7.2.1(11), CNCA 0116)
            verified_on=SUSPENDED_FROM,
            starts_on=SUSPENDED_FROM,
            ends_on=SUSPENDED_UNTIL,
        )
    elif status == Status.WITHDRAWN:
        cert_services.certificate_withdraw(
            certificate=certificate,
            actor=actor,
            cause=8,  # system not operated (004 §7.3.1(8), CNCA 0116)
            verified_on=CHANGED_ON,
            withdrawn_on=CHANGED_ON,
        )
    elif status == Status.CANCELLED:
        cert_services.certificate_cancel(
            certificate=certificate, actor=actor, cancelled_on=CHANGED_ON
        )
    elif status == Status.EXPIRED:
        cert_services.certificate_expire(
            certificate=certificate, actor=actor, today=date(2028, 3, 20)
        )
    elif status == Status.SUPERSEDED:
        recertify(certificate, staff)
    elif status != Status.VALID:
        raise ValueError(status)
    certificate.refresh_from_db()
    assert certificate.status == status
    return certificate


def restored_certificate(staff: Staff | None = None) -> Certificate:
    """A certificate suspended and then restored (valid again)."""
    staff = staff or Staff()
    certificate = certificate_in(Status.SUSPENDED, staff=staff)
    cert_services.certificate_restore(
        certificate=certificate,
        actor=staff.decider,
        restored_on=date(2025, 7, 15),
        evidence="整改验证通过",
    )
    certificate.refresh_from_db()
    return certificate


def multi_site_certificate(name: str = "多网点电器有限公司", staff: Staff | None = None):
    """A head certificate with one sub-certificate (head office plus one outlet)."""
    organization = OrganizationFactory(name=name)
    SiteFactory(organization=organization, is_head_office=True, name="总部")
    SiteFactory(organization=organization, name="海淀网点")
    head = issued_certificate(organization, staff or Staff())
    return head, head.sub_certificates.get()


def certificate_document(certificate: Certificate) -> CertificateDocument:
    return certificate.documents.get(kind=CertificateDocument.Kind.CERTIFICATE)


def pdf_reader(content: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(content))


def pdf_text(content: bytes) -> str:
    """All text of a PDF with whitespace removed (extraction breaks lines and adds spaces)."""
    text = "".join(page.extract_text() for page in pdf_reader(content).pages)
    return re.sub(r"\s+", "", text)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def skip_pdf_rendering(monkeypatch) -> None:
    """Issue certificates and notices without WeasyPrint (~0.5 s each) where no PDF is under
    test; the documents are still stored (with the stub's content)."""
    monkeypatch.setattr(pdf, "render_certificate_pdf", lambda certificate: STUB_PDF)
    monkeypatch.setattr(notices, "render_notice_pdf", lambda kind, context: STUB_PDF)


STUB_PDF = b"%PDF-1.7\n% stand-in for tests that do not look at the PDF\n%%EOF\n"


def result_row(response, number: str) -> str:
    """The results-table row of the certificate ``number`` on the public search page."""
    for row in re.findall(r"<tr>(.*?)</tr>", response.content.decode(), re.S):
        if f">{number}</a>" in row:
            return row
    raise AssertionError(f"{number} is not in the results")


def result_numbers(response) -> list[str]:
    """Certificate numbers listed in the results table of the public search page."""
    return re.findall(r'<td[^>]*><a href="/verify/[^/"]+/">([^<]+)</a>', response.content.decode())


def certificates_in_every_status(staff, module_monkeypatch) -> dict:
    """A head certificate in each status, each of its own organisation, issued without
    WeasyPrint: the builder of a module's shared ``certificates`` (``tests/shared.py``)."""
    skip_pdf_rendering(module_monkeypatch)
    return {status: certificate_in(status, staff=staff) for status in Certificate.Status}
