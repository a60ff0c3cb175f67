"""Files staff open from the certificates desks: the audit reports a decision rests on
(before they are delivered to the client, so not through the portal's download)."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from audits.models import AuditReport
from certbody.workspace import require
from certbody.workspace_views import staff_only


@staff_only
@require_GET
def audit_report_download(request, pk: int):
    """One audit or termination report as stored; staff with the certificates desk only."""
    require(request.user, "certificates.view_desk")
    report = get_object_or_404(AuditReport, pk=pk)
    response = FileResponse(
        report.file.open("rb"),
        content_type="application/pdf",
        as_attachment=True,
        filename=report.file.name.rsplit("/", 1)[-1],
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
