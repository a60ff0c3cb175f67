"""Staff downloads of generated reports (the files are outside the web root, served only
through this permission-checked view)."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from certbody.uploads import download_response
from certbody.workspace import require
from certbody.workspace_views import staff_only
from reporting import services
from reporting.models import ReportRun

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@staff_only
@require_GET
def download(request, pk: int, fmt: str):
    """The XLSX or CSV file of one report run, named ``<title>_<period>.<fmt>``."""
    require(request.user, "reporting.view_desk")
    run = get_object_or_404(ReportRun, pk=pk)
    field = {"xlsx": run.file, "csv": run.csv_file}.get(fmt)
    if not field:
        raise Http404
    return download_response(
        field, content_type=CONTENT_TYPES[fmt], filename=services.download_name(run, fmt)
    )
