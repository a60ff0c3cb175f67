"""The audit plan as a Chinese PDF (004 §5.4.6.1; printed in Chinese whatever the reader's
language, 004 §6.2.4): objectives, criteria, scope, dates, the agenda rows, the sites and the
team as sent. Made on demand for the staff (``audits:plan_pdf``) and for the client in the
portal (``audits_client:plan_pdf``), never stored: the plan's history keeps every version."""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import AuditPlan, AuditTeamMember
from certbody.models import CertificationBody
from certbody.pdf import PdfError, document_language, render_checked

TITLE = "审核计划"


def plan_reference(plan: AuditPlan) -> str:
    """The plan's printed reference: ``JH<audit pk>-V<version>``."""
    return f"JH{plan.audit_id:06d}-V{plan.version}"


def plan_pdf(plan: AuditPlan) -> bytes:
    """The plan as PDF bytes, checked readable (``certbody.pdf.render_checked``); raises
    ``PdfError`` when it cannot be made."""
    audit = plan.audit
    organization = audit.programme.organization
    with document_language():
        html = render_to_string(
            "audits/pdf/audit_plan.html",
            {
                "title": TITLE,
                "reference": plan_reference(plan),
                "on": plan.sent_on or timezone.localdate(),
                "cb": CertificationBody.objects.order_by("pk").first(),
                "addressee": organization.name,
                "audit": audit,
                "plan": plan,
                "agenda": list(plan.agenda.select_related("site", "auditor")),
                "sites": list(plan.sites.all()),
                "team": plan.team_snapshot or [],
                "roles": dict(AuditTeamMember.Role.choices),
            },
        )
    return render_checked(html, expected=[organization.name, plan_reference(plan)])


def plan_pdf_response(plan: AuditPlan) -> HttpResponse:
    """``plan_pdf`` as a download, or a plain 503 saying why it could not be made."""
    try:
        content = plan_pdf(plan)
    except PdfError as exc:
        return HttpResponse(
            _("The audit plan could not be made as a PDF: %(error)s") % {"error": exc},
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{plan_reference(plan)}.pdf"'
    return response
