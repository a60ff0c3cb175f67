"""Written notices to clients (002 §4.1.2; 004 §5.12.5, §7.2.3, §8.3): titles, fixed sentences,
templates and references. Pure helpers; writing a notice is the service
``certificates.services.notices.notice_issue``.

Every notice is a Chinese A4 PDF (004 §6.2.4: whatever the issuer's interface language)
rendered with WeasyPrint from ``templates/certificates/pdf/notice_<name>.html`` (all extend
``notice_base.html``).
"""

from datetime import date

from django.template.loader import render_to_string

from certbody.pdf import document_language, render_pdf
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
    """Render the notice ``kind`` with ``context`` to PDF bytes (A4, Noto CJK; unchecked), in
    Chinese (004 §6.2.4)."""
    return render_pdf(template_name(kind), context)


def render_notice_html(kind: str, context: dict) -> str:
    """The notice ``kind`` with ``context`` as a complete HTML document, in Chinese whatever the
    issuer's interface language (004 §6.2.4)."""
    with document_language():
        return render_to_string(template_name(kind), context)


def notice_reference(kind: str, on: date, subject: str) -> str:
    """The notice's reference, e.g. ``ZT20250602-012325FW0001R0C``."""
    return f"{NOTICES[kind][1]}{on:%Y%m%d}-{subject}"
