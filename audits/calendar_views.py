"""The planning calendar at ``/staff/calendar/`` (issue #14): month and week views of every
audit by auditor and by client, auditors' blocked days, days booked, windows falling due; a
form to block days and one to schedule an audit that shows every conflict before saving.

Thin views (style.md "Views are thin"): the grid comes from ``audits.selectors.calendar``, the
writes go through ``audits.services`` (``auditor_block_days``, ``auditor_unblock_days``,
``audit_calendar_schedule``), refusals become messages. Server-rendered; the conflict check is
an htmx POST answered with a partial (no inline script or style: CSP).
"""

import contextlib
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications.models import Organization
from audits import services
from audits.models import Audit, Auditor, AuditorUnavailability
from audits.selectors.calendar import calendar_month, calendar_week, schedule_conflicts
from certbody import policy
from certbody.lifecycle import RuleViolation
from certbody.workspace.desks import require
from certbody.workspace.views import permission_required

staff_required = permission_required("audits.view_desk")

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _auditor_users():
    return get_user_model().objects.filter(auditor_profile__active=True).order_by("username")


class BlockDaysForm(forms.Form):
    auditor = forms.ModelChoiceField(label=_("auditor"), queryset=Auditor.objects.none())
    start = forms.DateField(label=_("first day"), widget=DATE_INPUT)
    end = forms.DateField(label=_("last day"), widget=DATE_INPUT)
    kind = forms.ChoiceField(label=_("kind"), choices=AuditorUnavailability.Kind.choices)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        auditors = Auditor.objects.filter(active=True).select_related("user")
        if not policy.allowed(user, "audits.block_days", None):
            auditors = auditors.filter(user=user)  # an auditor blocks their own days only
        self.fields["auditor"].queryset = auditors


class ScheduleForm(forms.Form):
    planned_start = forms.DateField(label=_("planned start"), widget=DATE_INPUT)
    planned_end = forms.DateField(label=_("planned end"), widget=DATE_INPUT)
    leader = forms.ModelChoiceField(
        label=_("Team leader"), queryset=get_user_model().objects.none(), required=False
    )
    auditors = forms.ModelMultipleChoiceField(
        label=_("Auditors"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = _auditor_users()
        self.fields["auditors"].queryset = _auditor_users()

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            raise forms.ValidationError(
                _("The audit's end date cannot be earlier than its start date.")
            )
        return data


def _errors(form) -> str:
    return "；".join(str(error) for errors in form.errors.values() for error in errors)


def _period(request):
    """(view, anchor date) from ``?view=month|week&date=YYYY-MM-DD`` (default: this month)."""
    view = "week" if request.GET.get("view") == "week" else "month"
    try:
        anchor = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        anchor = timezone.localdate()
    return view, anchor


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@staff_required
@require_GET
def calendar(request):
    """Month (default) or week grid with the filters by auditor (``auditor``: Auditor id) and
    client (``organization``), the auditors' load, windows due and the block-days form."""
    view, anchor = _period(request)
    auditor = Auditor.objects.filter(pk=_int(request.GET.get("auditor"))).first()
    organization_id = _int(request.GET.get("organization"))
    if view == "week":
        grid = calendar_week(anchor, auditor=auditor, organization_id=organization_id)
        previous, following = anchor - timedelta(days=7), anchor + timedelta(days=7)
    else:
        grid = calendar_month(
            anchor.year, anchor.month, auditor=auditor, organization_id=organization_id
        )
        previous = grid.period_first - timedelta(days=1)
        following = grid.period_last + timedelta(days=1)
    filters = {
        k: v
        for k, v in (("auditor", auditor and auditor.pk), ("organization", organization_id))
        if v
    }

    def link(**changes):
        return "?" + urlencode({"view": view, "date": anchor.isoformat(), **filters, **changes})

    block_form = BlockDaysForm(
        user=request.user, initial={"auditor": auditor, "start": anchor, "end": anchor}
    )
    can_block = block_form.fields["auditor"].queryset.exists()
    return render(
        request,
        "audits/calendar/calendar.html",
        {
            "view": view,
            "grid": grid,
            "anchor": anchor,
            "today": timezone.localdate(),
            "auditors": Auditor.objects.filter(active=True).select_related("user"),
            "organizations": Organization.objects.filter(programmes__isnull=False)
            .distinct()
            .order_by("name"),
            "selected_auditor": auditor,
            "selected_organization": organization_id,
            "previous_url": link(date=previous.isoformat()),
            "next_url": link(date=following.isoformat()),
            "month_url": link(view="month"),
            "week_url": link(view="week"),
            "block_form": block_form if can_block else None,
            "can_schedule": policy.allowed(request.user, "audits.schedule_audit"),
            "can_unblock": policy.allowed(request.user, "audits.block_days"),
            "back": request.get_full_path(),
        },
    )


def _back(request) -> str:
    url = request.POST.get("back", "")
    calendar_url = reverse("audits_calendar:calendar")
    return url if url.startswith(calendar_url) else calendar_url


@staff_required
@require_POST
def block_days(request):
    """Block an auditor's days (the auditor themself or the planners; ``audits.block_days``)."""
    form = BlockDaysForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect(_back(request))
    data = form.cleaned_data
    try:
        services.auditor_block_days(
            auditor=data["auditor"],
            actor=request.user,
            start=data["start"],
            end=data["end"],
            kind=data["kind"],
            note=data["note"],
        )
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The days are blocked."))
    return redirect(_back(request))


@staff_required
@require_POST
def unblock_days(request, pk: int):
    """Remove blocked days (kept in the history with who removed them)."""
    block = get_object_or_404(AuditorUnavailability.objects.select_related("auditor"), pk=pk)
    require(request.user, "audits.block_days", block.auditor)
    try:
        services.auditor_unblock_days(block=block, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The blocked days are removed."))
    return redirect(_back(request))


def _schedule_audit(request, pk: int) -> Audit:
    audit = get_object_or_404(
        Audit.objects.select_related("programme__organization"), pk=pk, state=Audit.State.PLANNED
    )
    require(request.user, "audits.schedule_audit", audit)
    return audit


def _team_ids(audit: Audit, form: ScheduleForm) -> list[int]:
    ids = list(audit.team.values_list("user_id", flat=True))
    leader = form.cleaned_data.get("leader")
    extra = ([leader] if leader else []) + list(form.cleaned_data.get("auditors") or [])
    return ids + [user.pk for user in extra if user.pk not in ids]


def _schedule_page(request, audit, form, conflicts=None, status=200):
    return render(
        request,
        "audits/calendar/schedule.html",
        {
            "audit": audit,
            "form": form,
            "conflicts": conflicts,
            "team": audit.team.select_related("user").order_by("role", "pk"),
        },
        status=status,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def schedule(request, pk: int):
    """Schedule or move a planned audit and add its team; POST saves through
    ``audit_calendar_schedule`` (the services refuse a blocked or booked person)."""
    audit = _schedule_audit(request, pk)
    if request.method == "GET":
        start = audit.planned_start
        with contextlib.suppress(ValueError):
            start = date.fromisoformat(request.GET.get("date", "")) or start
        initial = {"planned_start": start, "planned_end": audit.planned_end}
        if start and (audit.planned_end is None or audit.planned_end < start):
            initial["planned_end"] = start
        return _schedule_page(request, audit, ScheduleForm(initial=initial))
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        return _schedule_page(request, audit, form, status=422)
    data = form.cleaned_data
    try:
        services.audit_calendar_schedule(
            audit=audit,
            actor=request.user,
            planned_start=data["planned_start"],
            planned_end=data["planned_end"],
            leader=data["leader"],
            auditors=list(data["auditors"]),
        )
    except RuleViolation as exc:
        form.add_error(None, str(exc))
        conflicts = schedule_conflicts(
            audit, data["planned_start"], data["planned_end"], _team_ids(audit, form)
        )
        return _schedule_page(request, audit, form, conflicts, status=422)
    messages.success(request, _("The audit is scheduled."))
    for warning in schedule_conflicts(
        audit, data["planned_start"], data["planned_end"], _team_ids(audit, form)
    ):
        messages.warning(request, warning)
    url = reverse("audits_calendar:calendar")
    return redirect(f"{url}?{urlencode({'date': data['planned_start'].isoformat()})}")


@staff_required
@require_POST
def schedule_check(request, pk: int):
    """The conflicts of the dates and team in the form, before saving: for htmx the partial
    list, otherwise the schedule page with the list. Writes nothing."""
    audit = _schedule_audit(request, pk)
    form = ScheduleForm(request.POST)
    conflicts = None
    if form.is_valid():
        data = form.cleaned_data
        conflicts = schedule_conflicts(
            audit, data["planned_start"], data["planned_end"], _team_ids(audit, form)
        )
    if request.htmx:
        return render(
            request,
            "audits/calendar/_conflicts.html",
            {"conflicts": conflicts, "form_errors": None if form.is_valid() else _errors(form)},
        )
    return _schedule_page(request, audit, form, conflicts)
