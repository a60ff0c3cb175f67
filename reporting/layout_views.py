"""Staff pages of the regulator report files: the file layouts loaded from the platform's
template (issue #17) and the preview of a generated report with the problems found (#14).

- ``layouts_page``: the layouts of every kind (versions, active one, template hash) and the
  upload form; a template with unknown headers leads to ``layout_confirm``, where each unknown
  header is mapped to a field or refused (the layout is saved only when every column is
  mapped; a refused column is reported by name).
- ``preview``: a generated report's stored XLSX as a paged table, cells with problems
  (``ReportRun.findings``, ``layouts.validate``) highlighted by row and column, every problem
  listed with a link to its page, then the download and submit buttons. Personal data masked
  as in the downloads (``reporting.privacy``).
"""

from __future__ import annotations

import base64
import io
import math
from itertools import islice

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from certbody import policy
from certbody.lifecycle import RuleViolation, refusal
from certbody.workspace.views import permission_required
from reporting import guards, layouts, privacy, services
from reporting.models import ReportLayout, ReportRun

PAGE_SIZE = 50
MAX_TEMPLATE_BYTES = 5 * 1024 * 1024
SESSION_KEY = "reporting_layout_upload"
REFUSE = "__refuse__"


class TemplateForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("report"),
        choices=[(k, label) for k, label in ReportRun.Kind.choices if k in layouts.CATALOGUES],
    )
    template = forms.FileField(
        label=_("platform template (XLSX)"),
        help_text=_("The template the platform serves today; its header row names the columns."),
    )

    def clean_template(self):
        upload = self.cleaned_data["template"]
        if upload.size > MAX_TEMPLATE_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return upload


def _load(request, *, kind: str, content: bytes, name: str, mapping=None):
    """``services.layout_load``; unknown headers go to the confirm page (upload kept in the
    session), other refusals come back as the error text."""
    try:
        layout = services.layout_load(
            kind=kind, content=content, actor=request.user, source_name=name, mapping=mapping
        )
    except services.UnknownColumns as exc:
        request.session[SESSION_KEY] = {
            "kind": kind,
            "name": name,
            "content": base64.b64encode(content).decode("ascii"),
            "unknown": exc.headers,
        }
        return redirect("reporting:layout_confirm"), None
    except RuleViolation as exc:
        return None, str(exc)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, gettext("Layout %(layout)s loaded and active.") % {"layout": layout})
    return redirect("reporting:layouts"), None


@permission_required("reporting.view_desk")
@require_http_methods(["GET", "POST"])
def layouts_page(request):
    """The layouts (every version) and, for the reporting officer, the template upload."""
    may_load = policy.allowed(request.user, "reporting.manage_layouts")
    form = TemplateForm(request.POST or None, request.FILES or None)
    error = None
    if request.method == "POST":
        if not may_load:
            raise PermissionDenied(policy.denial_message("reporting.manage_layouts"))
        if form.is_valid():
            upload = form.cleaned_data["template"]
            response, error = _load(
                request, kind=form.cleaned_data["kind"], content=upload.read(), name=upload.name
            )
            if response is not None:
                return response
    rows = ReportLayout.objects.select_related("loaded_by")
    defaults = [
        (label, sum(len(s["columns"]) for s in layouts.default_spec(kind)["sheets"]))
        for kind, label in ReportRun.Kind.choices
        if kind in layouts.CATALOGUES
    ]
    return render(
        request,
        "reporting/layouts.html",
        {"layouts": rows, "form": form, "may_load": may_load, "error": error, "defaults": defaults},
    )


@permission_required("reporting.manage_layouts")
@require_http_methods(["GET", "POST"])
def layout_confirm(request):
    """Map each unknown header of the uploaded template to a field, or refuse it."""
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect("reporting:layouts")
    catalogue = layouts.CATALOGUES[pending["kind"]]
    choices = [("", "—"), (REFUSE, gettext("Refuse this column"))] + [
        (field, f"{header} ({field})") for field, header in catalogue.items()
    ]
    error = None
    chosen = {}
    if request.method == "POST":
        chosen = {h: request.POST.get(f"map-{n}", "") for n, h in enumerate(pending["unknown"])}
        refused = [h for h, f in chosen.items() if f == REFUSE]
        unmapped = [h for h, f in chosen.items() if f not in catalogue and f != REFUSE]
        if refused or unmapped:
            error = gettext(
                "The layout is not saved until every column is mapped. Refused: %(refused)s. "
                "Not mapped: %(unmapped)s."
            ) % {
                "refused": gettext(", ").join(refused) or "—",
                "unmapped": gettext(", ").join(unmapped) or "—",
            }
        else:
            response, error = _load(
                request,
                kind=pending["kind"],
                content=base64.b64decode(pending["content"]),
                name=pending["name"],
                mapping=chosen,
            )
            if response is not None:
                return response
    rows = [(n, h, chosen.get(h, "")) for n, h in enumerate(pending["unknown"])]
    return render(
        request,
        "reporting/layout_confirm.html",
        {"pending": pending, "rows": rows, "choices": choices, "error": error},
    )


@permission_required("reporting.manage_layouts")
@require_POST
def layout_activate(request, pk: int):
    """Make an earlier layout version active again."""
    layout = get_object_or_404(ReportLayout, pk=pk)
    try:
        services.layout_activate(layout=layout, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    return redirect("reporting:layouts")


def _page_rows(run: ReportRun, first: int, count: int, sheet: int = 0):
    """``(sheet titles, header, rows, row count)``: rows ``first``…``first + count - 1``
    (0-based, after the header) of worksheet ``sheet`` (0-based; the first when out of range)
    of ``run``'s stored XLSX."""
    from openpyxl import load_workbook

    with run.file.open("rb") as stored:
        book = load_workbook(io.BytesIO(stored.read()), read_only=True)
    titles = book.sheetnames
    ws = book.worksheets[sheet if 0 <= sheet < len(titles) else 0]
    values = ws.iter_rows(values_only=True)
    header = list(next(values, ()))
    rows = [list(row) for row in islice(values, first, first + count)]
    total = max(0, (ws.max_row or 1) - 1) if len(titles) > 1 else run.row_count
    book.close()
    return titles, header, rows, total


@permission_required("reporting.view_desk")
def preview(request, pk: int):
    """One page of a generated report with its problems highlighted (issue #14)."""
    run = get_object_or_404(ReportRun.objects.select_related("layout"), pk=pk)
    try:
        sheet = max(0, int(request.GET.get("sheet", 0)))
        asked = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        sheet, asked = 0, 1
    titles, header, rows, total = [], [], [], run.row_count
    if run.file:
        titles, header, rows, total = _page_rows(run, (asked - 1) * PAGE_SIZE, PAGE_SIZE, sheet)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(asked, pages)
    if page != asked and run.file:
        titles, header, rows, total = _page_rows(run, (page - 1) * PAGE_SIZE, PAGE_SIZE, sheet)
    sheet = sheet if sheet < len(titles) else 0
    shown = titles[sheet] if len(titles) > 1 else None
    masks = {}
    if privacy.must_mask(run.kind, request.user):
        masks = privacy.personal_columns(run.kind, layouts.of_run(run))
    masked = {n: masks[h] for n, h in enumerate(header) if h in masks}
    first_row = (page - 1) * PAGE_SIZE + 2  # spreadsheet row numbers; row 1 is the header
    problems_at: dict[tuple[int, int], list[str]] = {}
    findings = []
    for finding in run.findings or []:
        text = layouts.describe(finding)
        here = shown is None or finding.get("sheet") == shown
        if finding.get("row", 0) >= 2 and here:
            problems_at.setdefault((finding["row"], finding["col"]), []).append(text)
        index = titles.index(finding["sheet"]) if finding.get("sheet") in titles else 0
        findings.append(
            {
                **finding,
                "text": text,
                "page": (finding["row"] - 2) // PAGE_SIZE + 1 if finding.get("row") else None,
                "sheet_index": index,
            }
        )
    table = []
    for offset, row in enumerate(rows):
        number = first_row + offset
        cells = []
        for n, value in enumerate(row):
            if n in masked and value not in (None, ""):
                value = masked[n](str(value))
            cells.append(
                {"value": "" if value is None else value, "problems": problems_at.get((number, n))}
            )
        table.append({"number": number, "cells": cells})
    submit_url = submit_refused = None
    if not run.is_submitted and policy.allowed(request.user, "reporting.submit_report", run):
        submit_refused = refusal(guards.report_validated, run)
        if not submit_refused:
            submit_url = reverse("workspace:action", args=["reports", run.pk, "submit"])
    return render(
        request,
        "reporting/preview.html",
        {
            "run": run,
            "header": header,
            "table": table,
            "findings": findings,
            "page": page,
            "pages": pages,
            "previous": page - 1 if page > 1 else None,
            "next": page + 1 if page < pages else None,
            "downloads": [
                (fmt.upper(), reverse("reporting:download", args=[run.pk, fmt]))
                for fmt, field in (("xlsx", run.file), ("csv", run.csv_file))
                if field
            ],
            "submit_url": submit_url,
            "submit_refused": submit_refused,
            "personal_data_masked": bool(masked),
            "sheets": list(enumerate(titles)) if len(titles) > 1 else [],
            "sheet": sheet,
        },
    )
