"""Staff downloads of generated reports (the files are outside the web root, served only
through this permission-checked view)."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from certbody.uploads import download_response
from certbody.workspace import require
from certbody.workspace.views import staff_only
from reporting import layouts, privacy, services
from reporting.models import ReportRun

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@staff_only
@require_GET
def download(request, pk: int, fmt: str):
    """The XLSX or CSV file of one report run, named ``<title>_<period>.<fmt>``; a report with
    personal data (``reports.PERSONAL_COLUMNS``) comes with those columns masked unless the
    user holds ``certbody.view_personal_data``."""
    require(request.user, "reporting.view_desk")
    run = get_object_or_404(ReportRun, pk=pk)
    field = {"xlsx": run.file, "csv": run.csv_file}.get(fmt)
    if not field:
        raise Http404
    filename = services.download_name(run, fmt)
    if not privacy.must_mask(run.kind, request.user):
        return download_response(field, content_type=CONTENT_TYPES[fmt], filename=filename)
    with field.open("rb") as stored:
        content = privacy.masked_file(run.kind, fmt, stored.read(), layouts.of_run(run))
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
