"""The audits app's sections of the staff home page (``certbody.home``), registered from
``AuditsConfig.ready``: audits due, plans to report to CNCA, NCs to verify, audits I lead,
my audits (filtered to the signed-in auditor)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from audits.models import (
    Audit,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    Nonconformity,
    ScoreSheet,
)
from certbody import roles
from certbody.home import (
    Row,
    Section,
    list_url,
    object_url,
    register_panel,
    register_section,
    role_names,
    section,
)

# How far ahead "due" looks: the surveillance reminders start 90 days before (domain §11).
AUDITS_AHEAD = timedelta(days=90)
PLANS_AHEAD = timedelta(days=7)
SCORED_KINDS = ("stage2", "surveillance", "recertification")


def audits_due(user, today: date) -> Section:
    """Audit department: surveillance and recertification audits not yet started whose due
    date is past or within ``AUDITS_AHEAD`` (domain §11; 004 §5.4.1.5, §5.8)."""
    queryset = audits_due_queryset(user, today).select_related("programme__organization")
    return section(
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
        more_url=list_url("audits", "todo=audits-due"),
    )


def audits_due_queryset(user, today: date):
    return Audit.objects.filter(
        state=Audit.State.PLANNED,
        kind__in=[Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION],
        programme__state=AuditProgramme.State.ACTIVE,
        due_on__lte=today + AUDITS_AHEAD,
    )


def plans_to_report_queryset(user, today: date):
    reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
    return (
        Audit.objects.filter(
            state=Audit.State.PLANNED,
            plan_report_due__isnull=False,
            plan_report_due__lte=today + PLANS_AHEAD,
        )
        .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
        .exclude(Exists(reported))
    )


def plans_to_report(user, today: date) -> Section:
    """Audit department: audit plans to report to CNCA, due 3 days before the audit starts
    (004 §9.2; ``Audit.plan_report_due``), not reported yet."""
    queryset = plans_to_report_queryset(user, today).select_related("programme__organization")
    return section(
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
        more_url=list_url("audits", "todo=plans-to-report"),
    )


def nonconformities_to_verify(user, today: date) -> Section:
    """Auditor: answered NCs on audits where I am team leader or auditor (004 §5.10)."""
    mine = AuditTeamMember.objects.filter(
        audit_id=OuterRef("audit_id"),
        user_id=user.pk,
        role__in=[AuditTeamMember.Role.LEADER, AuditTeamMember.Role.AUDITOR],
    )
    queryset = Nonconformity.objects.filter(Exists(mine), state=Nonconformity.State.ANSWERED)
    queryset = queryset.select_related("audit__programme__organization")
    return section(
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
        more_url=list_url("nonconformities", "to_verify=on"),
    )


def audits_i_lead_queryset(user, today: date):
    leading = AuditTeamMember.objects.filter(
        audit_id=OuterRef("pk"), user_id=user.pk, role=AuditTeamMember.Role.LEADER
    )
    signed = ScoreSheet.objects.filter(audit_id=OuterRef("pk"), state=ScoreSheet.State.SUBMITTED)
    return Audit.objects.filter(Exists(leading)).filter(
        Q(state=Audit.State.IN_PROGRESS)
        | Q(state=Audit.State.COMPLETED, kind__in=SCORED_KINDS) & ~Q(Exists(signed))
    )


def audits_i_lead(user, today: date) -> Section:
    """Auditor: audits I lead that are in progress, or completed with the score sheet still
    to fill or sign off (stage 2, surveillance and recertification; 004 §5.6)."""
    queryset = audits_i_lead_queryset(user, today).select_related("programme__organization")
    return section(
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
        more_url=list_url("audits", "todo=audits-i-lead"),
    )


MY_OPEN_STATES = (Audit.State.PLANNED, Audit.State.IN_PROGRESS)


def _my_audit_row(audit: Audit) -> Row:
    # Only a due date makes an audit overdue; a planned start is shown, never flagged.
    label = f"{audit.get_kind_display()} · {audit.get_state_display()}"
    if audit.due_on is None and audit.planned_start:
        label += f" · {audit.planned_start:%Y-%m-%d}"
    return Row(
        label=label,
        detail=audit.programme.organization.name,
        url=object_url("audits", audit),
        day=audit.due_on,
    )


def my_audits_queryset(user, today: date):
    on_team = AuditTeamMember.objects.filter(audit_id=OuterRef("pk"), user_id=user.pk)
    return Audit.objects.filter(Exists(on_team), state__in=MY_OPEN_STATES)


def my_audits(user, today: date) -> Section:
    """Auditor: audits I am on the team of (leader, auditor, trainee or expert), planned or
    in progress, by due date ascending so the oldest overdue comes first (004 §5.4.1.5,
    §5.8: surveillance and recertification due dates); an audit without a due date (stage 2,
    special) by its planned start after them."""
    queryset = my_audits_queryset(user, today).select_related("programme__organization")
    return section(
        "my-audits",
        _("My audits"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=(F("due_on").asc(nulls_last=True), F("planned_start").asc(nulls_last=True), "pk"),
        row=_my_audit_row,
        more_url=list_url("audits", "todo=my-audits"),
    )


def register() -> None:
    """Contribute the sections (called from ``AuditsConfig.ready``); page order by ``order``."""
    register_section("audits-due", audits_due, roles=[roles.AUDIT_DEPARTMENT], order=20)
    register_section("plans-to-report", plans_to_report, roles=[roles.AUDIT_DEPARTMENT], order=30)
    register_section(
        "nonconformities-to-verify", nonconformities_to_verify, roles=[roles.AUDITOR], order=40
    )
    register_section("audits-i-lead", audits_i_lead, roles=[roles.AUDITOR], order=50)
    register_section("my-audits", my_audits, roles=[roles.AUDITOR], order=35)
    register_panel("planning-calendar", "audits/calendar/_home_panel.html", calendar_link, order=5)


def calendar_link(user) -> dict:
    """The link to the planning calendar (issue #14) for the planners and the auditors."""
    from django.urls import reverse

    if not ({roles.AUDIT_DEPARTMENT, roles.TECHNICAL_MANAGER, roles.AUDITOR} & role_names(user)):
        return {"planning_calendar_url": ""}
    return {"planning_calendar_url": reverse("audits_calendar:calendar")}


# The audits list filtered as each section counts (``?todo=<section key>``, issue #14): the
# section's "more" link lands on a list of its count. ``(user, today) -> queryset``.
TODO = {
    "audits-due": (_("Surveillance and recertification due"), audits_due_queryset),
    "plans-to-report": (_("Audit plans to report to CNCA"), plans_to_report_queryset),
    "audits-i-lead": (
        _("Audits I lead: in progress or score sheet to fill"),
        audits_i_lead_queryset,
    ),
    "my-audits": (_("My audits"), my_audits_queryset),
}
