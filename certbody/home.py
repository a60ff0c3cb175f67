"""The staff home page: what is due and overdue for me, by role.

Each ``Section`` is one piece of work a role owns (surveillance due, plans to report, NCs to
verify, decisions to make, reports to submit, appeals, applications to review …) with its
count, how many are overdue, and the first few rows linking to the workspace object pages
(never to the admin, which is for superusers). A section costs two
queries whatever the number of rows (an aggregate and a sliced list), so the page stays at
a bounded number of queries.

The project package ties the apps together here (as ``reporting`` does for its dashboard);
the apps themselves never import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certbody import roles

ROWS = 5  # rows shown per section
# How far ahead "due" looks: the surveillance reminders start 90 days before (domain §11).
AUDITS_AHEAD = timedelta(days=90)
PLANS_AHEAD = timedelta(days=7)


@dataclass
class Row:
    label: str
    detail: str
    url: str
    day: date | None = None  # the due date, or the date ``Section.day_label`` names
    overdue: bool = False


@dataclass
class Section:
    key: str
    title: str
    count: int
    overdue: int
    rows: list[Row] = field(default_factory=list)
    more_url: str = ""
    day_label: str = ""
    detail_label: str = ""
    empty: str = ""

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


def _desks():
    from certbody.workspace import DESKS

    return DESKS


def object_url(desk_key: str, obj) -> str:
    """The workspace page of ``obj`` on desk ``desk_key``; "" (no link) when that desk is not
    registered (staff are never sent to the admin)."""
    if desk_key in _desks():
        return reverse("workspace:object", args=[desk_key, obj.pk])
    return ""


def list_url(desk_key: str, query: str = "") -> str:
    """The workspace list of ``desk_key`` (with ``query``); "" when that desk is not
    registered."""
    if desk_key not in _desks():
        return ""
    url = reverse("workspace:list", args=[desk_key])
    return f"{url}?{query}" if query else url


def _section(
    key: str,
    title,
    queryset: QuerySet,
    *,
    due_field: str | None,
    today: date,
    order_by: tuple[str, ...],
    row: Callable[[object], Row],
    more_url: str = "",
    day_label=None,
    detail_label=None,
) -> Section:
    """Two queries: the count (and overdue count) of ``queryset``, then its first rows."""
    aggregates = {"n": Count("pk")}
    if due_field:
        aggregates["late"] = Count("pk", filter=Q(**{f"{due_field}__lt": today}))
    figures = queryset.aggregate(**aggregates)
    rows = [row(obj) for obj in queryset.order_by(*order_by)[:ROWS]] if figures["n"] else []
    if due_field:
        for r in rows:
            r.overdue = bool(r.day and r.day < today)
    return Section(
        key=key,
        title=str(title),
        count=figures["n"],
        overdue=figures.get("late", 0) or 0,
        rows=rows,
        more_url=more_url,
        empty=str(_("Nothing to do.")),
        day_label=str(day_label or _("due on")),
        detail_label=str(detail_label or _("organisation")),
    )


# --- the sections ---------------------------------------------------------------------------


def audits_due(user, today: date) -> Section:
    """Audit department: surveillance and recertification audits not yet started whose due
    date is past or within ``AUDITS_AHEAD`` (domain §11; 004 §5.4.1.5, §5.8)."""
    from audits.models import Audit, AuditProgramme

    queryset = Audit.objects.filter(
        state=Audit.State.PLANNED,
        kind__in=[Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION],
        programme__state=AuditProgramme.State.ACTIVE,
        due_on__lte=today + AUDITS_AHEAD,
    ).select_related("programme__organization")
    return _section(
        "audits-due",
        _("Surveillance and recertification due"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "pk"),
        row=lambda a: Row(
            label=a.get_kind_display()
            + (f" {a.sequence}" if a.kind == Audit.Kind.SURVEILLANCE else ""),
            detail=a.programme.organization.name,
            url=object_url("audits", a),
            day=a.due_on,
        ),
        more_url=list_url("audits", "state=planned"),
    )


def plans_to_report(user, today: date) -> Section:
    """Audit department: audit plans to report to CNCA, due 3 days before the audit starts
    (004 §9.2; ``Audit.plan_report_due``), not reported yet."""
    from audits.models import Audit, AuditPlan

    reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
    queryset = (
        Audit.objects.filter(
            state=Audit.State.PLANNED,
            plan_report_due__isnull=False,
            plan_report_due__lte=today + PLANS_AHEAD,
        )
        .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
        .exclude(Exists(reported))
        .select_related("programme__organization")
    )
    return _section(
        "plans-to-report",
        _("Audit plans to report to CNCA"),
        queryset,
        due_field="plan_report_due",
        today=today,
        order_by=("plan_report_due", "pk"),
        row=lambda a: Row(
            label=a.get_kind_display(),
            detail=a.programme.organization.name,
            url=object_url("audits", a),
            day=a.plan_report_due,
        ),
        more_url=list_url("audits", "state=planned"),
    )


def nonconformities_to_verify(user, today: date) -> Section:
    """Auditor: answered NCs on audits where I am team leader or auditor (004 §5.10)."""
    from audits.models import AuditTeamMember, Nonconformity

    mine = AuditTeamMember.objects.filter(
        audit_id=OuterRef("audit_id"),
        user_id=user.pk,
        role__in=[AuditTeamMember.Role.LEADER, AuditTeamMember.Role.AUDITOR],
    )
    queryset = Nonconformity.objects.filter(Exists(mine), state=Nonconformity.State.ANSWERED)
    queryset = queryset.select_related("audit__programme__organization")
    return _section(
        "nonconformities-to-verify",
        _("Nonconformities to verify"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "pk"),
        row=lambda nc: Row(
            label=f"NC-{nc.number:02d} {nc.get_severity_display()} · {nc.clause}",
            detail=nc.audit.programme.organization.name,
            url=object_url("nonconformities", nc),
            day=nc.due_on,
        ),
        more_url=list_url("nonconformities", "state=answered"),
    )


SCORED_KINDS = ("stage2", "surveillance", "recertification")


def audits_i_lead(user, today: date) -> Section:
    """Auditor: audits I lead that are in progress, or completed with the score sheet still
    to fill or sign off (stage 2, surveillance and recertification; 004 §5.6)."""
    from audits.models import Audit, AuditTeamMember, ScoreSheet

    leading = AuditTeamMember.objects.filter(
        audit_id=OuterRef("pk"), user_id=user.pk, role=AuditTeamMember.Role.LEADER
    )
    signed = ScoreSheet.objects.filter(audit_id=OuterRef("pk"), state=ScoreSheet.State.SUBMITTED)
    queryset = (
        Audit.objects.filter(Exists(leading))
        .filter(
            Q(state=Audit.State.IN_PROGRESS)
            | Q(state=Audit.State.COMPLETED, kind__in=SCORED_KINDS) & ~Q(Exists(signed))
        )
        .select_related("programme__organization")
    )
    return _section(
        "audits-i-lead",
        _("Audits I lead: in progress or score sheet to fill"),
        queryset,
        due_field=None,
        today=today,
        order_by=("planned_start", "pk"),
        row=lambda a: Row(
            label=f"{a.get_kind_display()} · {a.get_state_display()}",
            detail=a.programme.organization.name,
            url=object_url("audits", a),
            day=a.planned_start,
        ),
        day_label=_("planned start"),
        more_url=list_url("audits"),
    )


DECISION_KINDS = ("stage2", "surveillance", "recertification", "special")


def decisions_to_make(user, today: date) -> Section:
    """Decision maker: completed audits awaiting a decision on which I was not on the team
    (004 §5.12.1). Oldest audit end first."""
    from audits.models import Audit, AuditTeamMember

    on_team = AuditTeamMember.objects.filter(audit_id=OuterRef("pk"), user_id=user.pk)
    queryset = (
        Audit.objects.filter(state=Audit.State.COMPLETED, kind__in=DECISION_KINDS)
        .exclude(Exists(on_team))
        .select_related("programme__organization")
    )
    return _section(
        "decisions-to-make",
        _("Decisions to make"),
        queryset,
        due_field=None,
        today=today,
        order_by=("actual_end", "pk"),
        row=lambda a: Row(
            label=a.get_kind_display(),
            detail=a.programme.organization.name,
            url=object_url("decisions", a),
            day=a.actual_end,
        ),
        day_label=_("audit ended on"),
        more_url=list_url("decisions"),
    )


def reports_to_submit(user, today: date) -> Section:
    """Reporting officer: generated report runs not submitted yet, overdue first (002)."""
    from reporting.models import ReportRun

    queryset = ReportRun.objects.filter(state=ReportRun.State.GENERATED)
    return _section(
        "reports-to-submit",
        _("Reports to submit"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "kind", "pk"),
        row=lambda run: Row(
            label=run.title,
            detail=run.period_label,
            url=object_url("reports", run),
            day=run.due_on,
        ),
        detail_label=_("period"),
        more_url=list_url("reports", "state=generated"),
    )


def open_appeals(user, today: date) -> Section:
    """Technical manager: every open appeal and complaint; anyone else: those assigned to
    them as handler. Written result due 60 days after receipt (004 §8.3)."""
    from certificates.models import Appeal

    queryset = Appeal.objects.exclude(state=Appeal.State.DECIDED)
    if roles.TECHNICAL_MANAGER not in role_names(user):
        queryset = queryset.filter(handler_id=user.pk)
    queryset = queryset.select_related("organization")
    return _section(
        "appeals",
        _("Appeals and complaints"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "pk"),
        row=lambda appeal: Row(
            label=f"{appeal.reference} {appeal.subject}",
            detail=appeal.organization.name if appeal.organization else appeal.name,
            url=object_url("appeals", appeal),
            day=appeal.due_on,
        ),
        detail_label=_("from"),
        more_url=list_url("appeals"),
    )


def applications_to_review(user, today: date) -> Section:
    """Market: applications submitted or under review (domain §3–§4), oldest first."""
    from applications.models import Application

    queryset = Application.objects.filter(
        state__in=[Application.State.SUBMITTED, Application.State.UNDER_REVIEW]
    ).select_related("organization")
    return _section(
        "applications-to-review",
        _("Applications to review"),
        queryset,
        due_field=None,
        today=today,
        order_by=("submitted_at", "pk"),
        row=lambda a: Row(
            label=f"{a.reference} · {a.get_state_display()}",
            detail=a.organization.name,
            url=object_url("applications", a),
            day=timezone.localdate(a.submitted_at) if a.submitted_at else None,
        ),
        day_label=_("submitted on"),
        more_url=list_url("applications"),
    )


def role_names(user) -> set[str]:
    """The user's staff roles in one query, as ``roles.has_role`` answers them (superusers:
    every role); kept on the user object for the rest of the request."""
    cached = getattr(user, "_home_role_names", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        names = set()
    elif user.is_superuser:
        names = set(roles.STAFF_ROLES)
    elif not user.is_staff:
        names = set()
    else:
        names = set(user.groups.values_list("name", flat=True)) & set(roles.STAFF_ROLES)
    user._home_role_names = names
    return names


def _is_handler(user) -> bool:
    from certificates.models import Appeal

    return Appeal.objects.filter(handler_id=user.pk).exclude(state=Appeal.State.DECIDED).exists()


# Role → its sections, in page order. A user with several roles sees each section once.
SECTIONS_BY_ROLE: list[tuple[str, list[Callable]]] = [
    (roles.MARKET, [applications_to_review]),
    (roles.AUDIT_DEPARTMENT, [audits_due, plans_to_report]),
    (roles.AUDITOR, [nonconformities_to_verify, audits_i_lead]),
    (roles.DECISION_MAKER, [decisions_to_make]),
    (roles.REPORTING_OFFICER, [reports_to_submit]),
    (roles.TECHNICAL_MANAGER, [open_appeals]),
]


def sections_for(user, today: date | None = None) -> list[Section]:
    """The sections of the user's roles (superusers: all), each built with two queries."""
    today = today or timezone.localdate()
    mine = role_names(user)
    chosen: list[Callable] = []
    for role, builders in SECTIONS_BY_ROLE:
        if role in mine:
            chosen += [b for b in builders if b not in chosen]
    # An appeal handler is assigned per case (004 §8.2): show their cases whatever the role.
    if open_appeals not in chosen and _is_handler(user):
        chosen.append(open_appeals)
    return [build(user, today) for build in chosen]
