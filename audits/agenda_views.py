"""The agenda of an audit plan (004 §5.4.6.1: dates, times, sites, team members and their tasks),
edited in the workspace as rows instead of free text.

Thin views: the planners or the audit's team leader (``audits.manage_plan``) edit the rows in a
formset; "Add a row" asks the server for one more row with htmx (the row, the formset's
total and the next button come back; no inline script), and without JavaScript the same button
posts the form and the page comes back with an empty row added. The rows are written by
``audits.services.audit_plan_agenda_set``, whose refusals are shown above the formset (422).
"""

from datetime import time

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from applications.models import Site
from audits import services
from audits.models import Audit, AuditPlan
from audits.plan_pdf import plan_pdf_response
from audits.views import _audit, staff_required
from certbody.lifecycle import RuleViolation
from certbody.widgets import DateInput
from certbody.workspace.desks import require

PREFIX = "agenda"


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class AgendaRowForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("date"), widget=DateInput)
    starts_at = forms.TimeField(label=gettext_lazy("from"), widget=TimeInput)
    ends_at = forms.TimeField(label=gettext_lazy("to"), widget=TimeInput)
    site = forms.ModelChoiceField(
        label=gettext_lazy("site"), queryset=Site.objects.none(), required=False
    )
    activity = forms.CharField(label=gettext_lazy("process or clause audited"), max_length=300)
    auditor = forms.ModelChoiceField(
        label=gettext_lazy("auditor"), queryset=get_user_model().objects.none(), required=False
    )

    def __init__(self, *args, audit: Audit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.filter(
            organization_id=audit.programme.organization_id
        ).order_by("pk")
        self.fields["auditor"].queryset = (
            get_user_model().objects.filter(audit_memberships__audit=audit).order_by("username")
        )


AgendaFormSet = forms.formset_factory(AgendaRowForm, extra=0, can_delete=True)


def agenda_initial(audit: Audit, plan: AuditPlan) -> list[dict]:
    """The rows to start from: the plan's agenda, else the opening meeting on the first day and
    the closing meeting on the last (004 §5.5.2), led by the team leader."""
    rows = [
        {
            "day": row.day,
            "starts_at": row.starts_at,
            "ends_at": row.ends_at,
            "site": row.site_id,
            "activity": row.activity,
            "auditor": row.auditor_id,
        }
        for row in plan.agenda.all()
    ]
    if rows or not (audit.planned_start and audit.planned_end):
        return rows
    leader = audit.team.filter(role="leader").values_list("user_id", flat=True).first()
    return [
        {
            "day": audit.planned_start,
            "starts_at": time(9, 0),
            "ends_at": time(9, 30),
            "activity": "首次会议",
            "auditor": leader,
        },
        {
            "day": audit.planned_end,
            "starts_at": time(16, 30),
            "ends_at": time(17, 0),
            "activity": "末次会议",
            "auditor": leader,
        },
    ]


def _plan(request, audit_pk: int) -> tuple[Audit, AuditPlan]:
    audit = _audit(request, audit_pk)
    require(request.user, "audits.manage_plan", audit)
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None:
        raise Http404
    return audit, plan


def _rows(formset) -> list[dict]:
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


@staff_required
@require_http_methods(["GET", "POST"])
def agenda_edit(request, audit_pk: int):
    """Edit the agenda rows of the audit's plan (planners or the team leader)."""
    audit, plan = _plan(request, audit_pk)
    status = 200
    show_errors = True
    if request.method == "POST":
        formset = AgendaFormSet(request.POST, prefix=PREFIX, form_kwargs={"audit": audit})
        if "add" in request.POST:
            # Without JavaScript: the same rows plus an empty one.
            data = request.POST.copy()
            data[f"{PREFIX}-TOTAL_FORMS"] = str(formset.total_form_count() + 1)
            formset = AgendaFormSet(data, prefix=PREFIX, form_kwargs={"audit": audit})
            show_errors = False
        elif formset.is_valid():
            try:
                services.audit_plan_agenda_set(plan=plan, actor=request.user, rows=_rows(formset))
            except RuleViolation as exc:
                formset._non_form_errors = formset.error_class([str(exc)])
                status = 422
            else:
                messages.success(request, _("Agenda saved."))
                return redirect("workspace:object", key="audits", pk=audit.pk)
        else:
            status = 422
    else:
        formset = AgendaFormSet(
            prefix=PREFIX, initial=agenda_initial(audit, plan), form_kwargs={"audit": audit}
        )
    return render(
        request,
        "audits/agenda_edit.html",
        {
            "audit": audit,
            "plan": plan,
            "formset": formset,
            "show_errors": show_errors,
            "next_index": formset.total_form_count(),
        },
        status=status,
    )


@staff_required
@require_GET
def agenda_row(request, audit_pk: int):
    """One empty agenda row for the formset (htmx), with the new total and the next button."""
    audit, _plan_obj = _plan(request, audit_pk)
    try:
        index = max(int(request.GET.get("index", "0")), 0)
    except ValueError:
        index = 0
    index = min(index, 200)
    form = AgendaFormSet(prefix=PREFIX, form_kwargs={"audit": audit}).empty_form
    form.prefix = f"{PREFIX}-{index}"
    return render(
        request,
        "audits/_agenda_row_added.html",
        {"audit": audit, "form": form, "next_index": index + 1},
    )


@staff_required
@require_GET
def plan_pdf(request, audit_pk: int):
    """The audit's plan as a Chinese PDF, for any staff member (404 without a plan)."""
    audit = _audit(request, audit_pk)
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None:
        raise Http404
    return plan_pdf_response(plan)
