"""Written notices to clients (002 §4.1.2; 004 §5.12.5, §7.2.3, §8.3): one renderer, one store.

Every notice is a Chinese A4 PDF rendered with WeasyPrint from
``templates/certificates/pdf/notice_<name>.html`` (all extend ``notice_base.html``) and stored
once, immutably, with its SHA-256; the client downloads it in the portal. The services call
``notice_issue`` inside their transaction: the notice's row and content (its HTML, rendered from
the records of that moment) are written with the status change or not at all, and the PDF is
laid out after commit (``pdf.document_queue``, issue #11), so a PDF failure never holds back a
suspension or withdrawal whose 5-working-day clock is running.
"""

from datetime import date

from django.template.loader import render_to_string

from certbody.models import CertificationBody
from certbody.pdf import render_pdf
from certificates import pdf
from certificates.models import CertificateDocument

Kind = CertificateDocument.Kind

# Title and reference prefix of each notice.
NOTICES = {
    Kind.APPROVAL_NOTICE: ("认证批准通知书", "PZ"),
    Kind.MAINTENANCE_NOTICE: ("监督审核保持认证资格通知书", "BC"),
    Kind.RESTORATION_NOTICE: ("恢复认证资格通知书", "HF"),
    Kind.SUSPENSION_NOTICE: ("暂停认证资格通知书", "ZT"),
    Kind.WITHDRAWAL_NOTICE: ("撤销认证资格通知书", "CX"),
    Kind.CANCELLATION_NOTICE: ("注销认证资格通知书", "ZX"),
    Kind.REFUSAL_NOTICE: ("不予认证通知书", "BY"),
    Kind.APPEAL_DECISION: ("申诉/投诉处理结果通知书", "SS"),
}

# 002 §4.1.2 / 004 §7.2.3: no use of certificate, mark or certification claims meanwhile.
NO_USE_SENTENCE = "暂停期间，贵组织不得以任何方式使用认证证书、认证标志或引用认证信息。"
# 004 §8.4; 001 §10: the written result tells the appellant where else to complain.
REGULATOR_SENTENCE = (
    "如认为本机构未遵守认证相关法律法规或认证规则，并导致自身合法权益受到严重侵害的，"
    "可以直接向本机构所在地市场监管部门或国家认证认可监督管理委员会投诉。"
)
# 004 §8.1: decisions may be appealed.
APPEAL_RIGHT_SENTENCE = "如对本决定有异议，可自收到本通知书之日起向本机构提出申诉。"


def template_name(kind: str) -> str:
    """``certificates/pdf/notice_<name>.html`` for a document kind (``_notice`` dropped)."""
    if kind not in NOTICES:
        raise ValueError(f"{kind!r} is not a notice kind")
    return f"certificates/pdf/notice_{kind.removesuffix('_notice')}.html"


def render_notice_pdf(kind: str, context: dict) -> bytes:
    """Render the notice ``kind`` with ``context`` to PDF bytes (A4, Noto CJK; unchecked)."""
    return render_pdf(template_name(kind), context)


def render_notice_html(kind: str, context: dict) -> str:
    """The notice ``kind`` with ``context`` as a complete HTML document."""
    return render_to_string(template_name(kind), context)


def notice_reference(kind: str, on: date, subject: str) -> str:
    """The notice's reference, e.g. ``ZT20250602-012325FW0001R0C``."""
    return f"{NOTICES[kind][1]}{on:%Y%m%d}-{subject}"


def notice_issue(
    *,
    kind: str,
    actor,
    on: date,
    certificate=None,
    decision=None,
    appeal=None,
    organization=None,
    facts: dict | None = None,
    note: str = "",
) -> CertificateDocument:
    """Write one notice dated ``on`` (a local date); returns the document, pending until its
    PDF is rendered after commit (``pdf.document_queue``).

    ``certificate`` / ``decision`` / ``appeal``: what the notice is about (at least one). An
    appeal's answer belongs to the appellant (``appeal.organization``, or nobody for a member of
    the public) and is filed under the appeal only.
    ``facts``: what the template of ``kind`` shows beyond the common header (dates, cause …).
    Must run inside the caller's ``transaction.atomic()``. The PDF must show the addressee and
    the notice's reference (read back before it is stored).
    """
    title, _prefix = NOTICES[kind]
    subject = (
        appeal.reference
        if appeal is not None
        else certificate.number
        if certificate is not None
        else f"D{decision.pk}"
    )
    if appeal is not None:
        # 004 §8.2: the answer goes to the appellant only, never to the client complained of.
        organization = appeal.organization
        addressee = organization.name if organization is not None else appeal.name
    else:
        if organization is None:
            organization = (
                certificate.organization
                if certificate is not None
                else decision.audit.programme.organization
            )
        addressee = (
            certificate.organization_name
            if certificate is not None and certificate.organization_name
            else organization.name
        )
    context = {
        "kind": kind,
        "title": title,
        "reference": notice_reference(kind, on, subject),
        "on": on,
        "cb": CertificationBody.get(),
        "addressee": addressee,
        "organization": organization,
        "certificate": certificate,
        "sub_numbers": (
            list(certificate.sub_certificates.order_by("number").values_list("number", flat=True))
            if certificate is not None and certificate.head_id is None
            else []
        ),
        "decision": decision,
        "appeal": appeal,
        "no_use_sentence": NO_USE_SENTENCE,
        "regulator_sentence": REGULATOR_SENTENCE,
        "appeal_right_sentence": APPEAL_RIGHT_SENTENCE,
        "cnca_sentence": pdf.CNCA_SENTENCE,
        "verify_url": pdf.verification_url(certificate) if certificate is not None else "",
        **(facts or {}),
    }
    return pdf.document_queue(
        kind=kind,
        html=render_notice_html(kind, context),
        expected=[addressee, context["reference"]],
        actor=actor,
        # An appeal's answer is filed under the appeal alone: listing it under the certificate
        # would show it to the certified client (004 §8.2 confidentiality).
        certificate=certificate if appeal is None else None,
        organization=organization,
        decision=decision if appeal is None else None,
        appeal=appeal,
        note=note or title,
    )
