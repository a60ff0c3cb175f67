"""Staff pages of the audits app: the score sheet (服务测评检查表) of an audit, and the audit
plan as sent, for printing.

Thin views (style.md "Views are thin"): check access, bind a form, call one service of
``audits.services``, turn its ``RuleViolation`` into a message. Staff only; the audit's team
leader and auditors edit, every other staff member reads. Each item row posts on change with
htmx and gets back its points (or the refusal, HTTP 422) and the summary (out-of-band), so
the grade follows live; without JavaScript the same endpoints take ordinary form posts and
redirect back to the page.
"""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audits import scoring, selectors, services
from audits.models import Audit, AuditPlan, AuditTeamMember, ScoreItem, ScoreSheet, SpecialDeduction
from certbody.access import visible_to
from certbody.lifecycle import RuleViolation
from certbody.models import CertificationBody
from certbody.workspace.desks import require
from certbody.workspace.views import permission_required

ORGANIZATION = "programme__organization"


# Logged-in staff only (anonymous users go to the log-in page, client users get 403); the
# object-level checks below ask the matrix too (``audits.score``, ``audits.sign_score_sheet``).
staff_required = permission_required("audits.view_desk")


# --- forms --------------------------------------------------------------------------------


class ScoreItemForm(forms.Form):
    excluded = forms.BooleanField(label=_("excluded from scoring"), required=False)
    exclusion_justification = forms.CharField(label=_("why not applicable"), required=False)
    met = forms.TypedChoiceField(
        label=_("met"),
        choices=[("1", _("Met")), ("0", _("Not met"))],
        coerce=lambda value: value == "1",
        required=False,
        # No choice is no result: the service refuses it for a qualitative indicator, so an
        # unassessed indicator never becomes "met" because its evidence was typed first.
        empty_value=None,
    )
    samples = forms.IntegerField(label=_("samples checked"), min_value=0, required=False)
    nonconforming = forms.IntegerField(
        label=_("nonconforming samples"), min_value=0, required=False
    )
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "excluded": data["excluded"],
            "exclusion_justification": data["exclusion_justification"],
            "met": data["met"],
            "samples": data["samples"] or 0,
            "nonconforming": data["nonconforming"] or 0,
            "evidence": data["evidence"],
        }


class SpecialDeductionForm(forms.Form):
    category = forms.ChoiceField(label=_("category"), choices=SpecialDeduction.Category.choices)
    description = forms.CharField(
        label=_("what was found"), widget=forms.Textarea(attrs={"rows": 2})
    )
    correction_required = forms.CharField(
        label=_("correction required"), widget=forms.Textarea(attrs={"rows": 2})
    )


class SpecialBonusForm(forms.Form):
    granted = forms.BooleanField(label=_("special bonus (+1)"), required=False)
    justification = forms.CharField(
        label=_("why the bonus"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class SubmitForm(forms.Form):
    submitted_on = forms.DateField(
        label=_("signed off on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))


# --- helpers ------------------------------------------------------------------------------


def _audit(request, pk) -> Audit:
    queryset = visible_to(
        Audit.objects.select_related("programme__organization"), request.user, ORGANIZATION
    )
    return get_object_or_404(queryset, pk=pk)


def _sheet(request, pk) -> ScoreSheet:
    queryset = visible_to(
        ScoreSheet.objects.select_related("audit__programme__organization", "catalogue"),
        request.user,
        f"audit__{ORGANIZATION}",
    )
    return get_object_or_404(queryset, pk=pk)


def _page_url(audit_pk: int, anchor: str = "") -> str:
    url = reverse("audits:score_sheet", args=[audit_pk])
    return f"{url}#{anchor}" if anchor else url


def _errors(form) -> str:
    return "；".join(
        f"{form.fields[name].label}：{error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


def _row_context(item: ScoreItem, *, editable: bool) -> dict:
    return {
        "item": item,
        "indicator": item.indicator,
        "values": {
            "excluded": item.excluded,
            "exclusion_justification": item.exclusion_justification,
            "met": item.met,
            "samples": item.samples,
            "nonconforming": item.nonconforming,
            "evidence": item.evidence,
        },
        "editable": editable,
    }


def _summary_context(sheet: ScoreSheet) -> dict:
    return {
        "sheet": sheet,
        "grade_label": selectors.grade_label(sheet.grade),
        "deduction_count": sheet.deductions.count(),
        "parts": selectors.part_breakdown(sheet),
        "pass_threshold": scoring.PASS_THRESHOLD,
        "max_deductions": scoring.MAX_SPECIAL_DEDUCTIONS,
    }


def _item_response(request, item: ScoreItem, *, status=200, error="") -> HttpResponse:
    """For htmx: the row's result (points and error; the inputs stay as the user left them)
    and the summary, out-of-band, so the grade follows each change."""
    sheet = ScoreSheet.objects.get(pk=item.sheet_id)
    item = ScoreItem.objects.select_related("indicator").get(pk=item.pk)
    result = render_to_string(
        "audits/_score_item_result.html", {"item": item, "error": error}, request=request
    )
    summary = render_to_string(
        "audits/_score_summary.html", {**_summary_context(sheet), "oob": True}, request=request
    )
    return HttpResponse(result + summary, status=status)


# --- pages --------------------------------------------------------------------------------


@staff_required
@require_GET
def score_sheet(request, audit_pk: int):
    """The score sheet of an audit, grouped by the checklist's three parts (004 §5.6.5.2)."""
    audit = _audit(request, audit_pk)
    sheet = (
        ScoreSheet.objects.select_related("catalogue", "submitted_by").filter(audit=audit).first()
    )
    context = {
        "audit": audit,
        "sheet": sheet,
        "team": audit.team.select_related("user").order_by("role", "user__username"),
        "scored_kind": audit.kind in selectors.SCORED_KINDS,
        "audit_open": audit.state in selectors.EDITABLE_AUDIT_STATES,
        "can_open": selectors.can_open(request.user, audit),
    }
    if sheet is not None:
        editable = selectors.can_edit(request.user, sheet)
        is_leader = selectors.is_team_leader(request.user, audit)
        summary = _summary_context(sheet)
        context.update(
            summary,
            part_rows=[
                (part, [_row_context(item, editable=editable) for item in part.items])
                for part in summary["parts"]
            ],
            deductions=list(sheet.deductions.all()),
            editable=editable,
            can_submit=editable and is_leader,
            can_reopen=(
                is_leader
                and sheet.state == ScoreSheet.State.SUBMITTED
                and audit.state in selectors.EDITABLE_AUDIT_STATES
            ),
            deduction_form=SpecialDeductionForm(),
            bonus_form=SpecialBonusForm(
                initial={"granted": sheet.special_bonus, "justification": sheet.bonus_justification}
            ),
        )
    return render(request, "audits/score_sheet.html", context)


@staff_required
@require_POST
def score_sheet_open(request, audit_pk: int):
    """Open the audit's score sheet (team leader or auditors, or the audit department)."""
    audit = _audit(request, audit_pk)
    require(request.user, "audits.open_score_sheet", audit)
    try:
        services.score_sheet_open(audit=audit, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The score sheet is open."))
    return redirect(_page_url(audit.pk))


@staff_required
@require_POST
def score_item_update(request, pk: int):
    """Score one indicator; htmx gets the row and the summary, a plain post a redirect."""
    item = get_object_or_404(
        visible_to(
            ScoreItem.objects.select_related("indicator", "sheet__audit"),
            request.user,
            f"sheet__audit__{ORGANIZATION}",
        ),
        pk=pk,
    )
    audit = item.sheet.audit
    require(request.user, "audits.score", audit)
    form = ScoreItemForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.score_item_update(item=item, actor=request.user, **form.service_arguments())
        except RuleViolation as exc:
            error = str(exc)
    else:
        error = _errors(form)
    if request.htmx:
        if error:
            return _item_response(request, item, status=422, error=error)
        return _item_response(request, item)
    if error:
        messages.error(request, f"{item.indicator}：{error}")
    else:
        messages.success(request, _("Saved."))
    return redirect(_page_url(audit.pk, f"item-{item.pk}"))


@staff_required
@require_POST
def special_deduction_add(request, pk: int):
    """Record a special deduction (004 §5.6.5.2 c)."""
    sheet = _sheet(request, pk)
    require(request.user, "audits.score", sheet.audit)
    form = SpecialDeductionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
    else:
        try:
            services.special_deduction_add(sheet=sheet, actor=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            messages.error(request, str(exc))
    return redirect(_page_url(sheet.audit_id, "deductions"))


@staff_required
@require_POST
def special_deduction_remove(request, pk: int):
    """Remove a special deduction recorded by mistake."""
    deduction = get_object_or_404(
        visible_to(
            SpecialDeduction.objects.select_related("sheet__audit"),
            request.user,
            f"sheet__audit__{ORGANIZATION}",
        ),
        pk=pk,
    )
    require(request.user, "audits.score", deduction.sheet.audit)
    try:
        services.special_deduction_remove(deduction=deduction, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    return redirect(_page_url(deduction.sheet.audit_id, "deductions"))


@staff_required
@require_POST
def special_bonus_set(request, pk: int):
    """Grant or withdraw the special bonus (004 §5.6.5.2 d)."""
    sheet = _sheet(request, pk)
    require(request.user, "audits.score", sheet.audit)
    form = SpecialBonusForm(request.POST)
    if form.is_valid():
        try:
            services.special_bonus_set(sheet=sheet, actor=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _errors(form))
    return redirect(_page_url(sheet.audit_id, "bonus"))


def _leader_confirm(request, pk, *, form_class, service, template, done, initial=None):
    """One confirm step for the team leader's transitions of a sheet: GET shows the form,
    POST calls ``service(sheet=…, actor=…, **cleaned_data)``; refusals stay on the form."""
    sheet = _sheet(request, pk)
    require(request.user, "audits.sign_score_sheet", sheet.audit)
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                service(sheet=sheet, actor=request.user, **form.cleaned_data)
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, done)
                return redirect(_page_url(sheet.audit_id))
    else:
        form = form_class(initial=initial)
    return render(
        request, template, {**_summary_context(sheet), "audit": sheet.audit, "form": form}
    )


@staff_required
@require_http_methods(["GET", "POST"])
def score_sheet_submit(request, pk: int):
    """The team leader confirms the result and signs the sheet off (004 §5.6.5.3)."""
    return _leader_confirm(
        request,
        pk,
        form_class=SubmitForm,
        service=services.score_sheet_submit,
        template="audits/score_sheet_submit.html",
        done=_("The score sheet is signed off."),
        initial={"submitted_on": timezone.localdate()},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def score_sheet_reopen(request, pk: int):
    """The team leader reopens a signed-off sheet for correction, with the reason."""
    return _leader_confirm(
        request,
        pk,
        form_class=ReopenForm,
        service=services.score_sheet_reopen,
        template="audits/score_sheet_reopen.html",
        done=_("The score sheet is reopened for correction."),
    )


# --- the audit plan as sent (004 §5.4.6.1) ----------------------------------------------------


def plan_context(audit: Audit, plan: AuditPlan | None) -> dict:
    """The context of ``audits/audit_plan.html``: the plan as sent, its sites and team."""
    try:
        body = CertificationBody.get()
    except CertificationBody.DoesNotExist:
        body = None
    return {
        "cb": body,
        "audit": audit,
        "plan": plan,
        "sites": list(plan.sites.all()) if plan else [],
        "agenda": list(plan.agenda.select_related("site", "auditor")) if plan else [],
        "team": plan.team_snapshot if plan and plan.team_snapshot else [],
        "roles": dict(AuditTeamMember.Role.choices),
        "determination": getattr(audit, "time_determination", None),
    }


@staff_required
@require_GET
def plan_document(request, audit_pk: int):
    """The audit plan as sent to the client, for printing (004 §5.4.6.1)."""
    audit = _audit(request, audit_pk)
    plan = AuditPlan.objects.filter(audit=audit).first()
    return render(request, "audits/audit_plan.html", plan_context(audit, plan))
