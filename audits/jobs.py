"""The audits app's periodic jobs (``certbody.jobs``), registered from ``AuditsConfig.ready``.

All four only tell people, so they are rows of one step (``certbody.jobs.Reminder``):

- ``initial_decision``: stage 2 completed without a decision, 30 days before and after the
  6-month limit (004 §5.12.3).
- ``plan_reports``: audit plans not reported to CNCA, 2 days before and after the deadline
  3 days before the audit (004 §9.2).
- ``nonconformity_reminders``: an unsettled nonconformity 14 and 3 days before its ``due_on``,
  to the audit team leader and the audit department, and to the client while the answer is
  theirs to give (004 §5.10.1, §5.10.3).
- ``nonconformity_overdue``: an unsettled nonconformity past its ``due_on``: no grant,
  maintenance or renewal decision may be made (004 §5.10.4; for a surveillance under CAS the
  certificate and mark may no longer be used, 001 §7.5); to the team leader, the audit
  department, the decision makers and the technical manager, and to the client while the
  answer is theirs to give. The deadline day itself is still in time.
- ``registration_expiry``: an auditor's registration 60 and 30 days before it expires, to the
  auditor and the audit department, once per band and expiry date (a renewal with a new expiry
  is reminded again); an expired registration keeps the auditor off teams (004 §4.2).

Jobs about audits that need the certificates (surveillance reminders and overdue surveillance)
are the certificates app's (``certificates.jobs``): this app does not import a higher one.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import CharField, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import NoReverseMatch, reverse

from audits.models import Audit, Auditor, AuditPlan, AuditTeamMember, Nonconformity
from audits.selectors import next_step, unsettled_q
from audits.selectors.auditors import EXPIRING_DAYS
from certbody import roles
from certbody.jobs import (
    Daily,
    KeyedExists,
    Reminder,
    bands,
    overdue_or_soon,
    register,
    state_in,
)

INITIAL_DECISION_WARNING_DAYS = 30
PLAN_REPORT_WARNING_DAYS = 2
NONCONFORMITY_REMINDER_DAYS = (3, 14)  # nearest first: only the latest threshold reached
# Nearest first: only the latest threshold reached; the far one is the desk's "expiring".
REGISTRATION_REMINDER_DAYS = (30, EXPIRING_DAYS)


# --- initial decision (004 §5.12.3) --------------------------------------------------------------


def _stage2_undecided(today: date):
    return Audit.objects.filter(
        kind=Audit.Kind.STAGE2,
        state=Audit.State.COMPLETED,
        decision_due_on__lte=today + timedelta(days=INITIAL_DECISION_WARNING_DAYS),
    ).select_related("programme__organization")


def _initial_decision_threshold(today: date):
    return bands((("passed", Q(decision_due_on__lt=today)),), "soon")


# --- audit plans reported to CNCA (004 §9.2) -----------------------------------------------------


def _plans_not_reported(today: date):
    reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
    return (
        Audit.objects.filter(
            state_in("state", Audit.State, [Audit.State.PLANNED]),
            plan_report_due__lte=today + timedelta(days=PLAN_REPORT_WARNING_DAYS),
        )
        .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
        .exclude(KeyedExists(reported))
        .select_related("programme__organization")
    )


# --- nonconformities (004 §5.10) -----------------------------------------------------------------


def _nonconformities_soon(today: date):
    far = NONCONFORMITY_REMINDER_DAYS[-1]
    return Nonconformity.objects.filter(
        unsettled_q(), due_on__gte=today, due_on__lte=today + timedelta(days=far)
    ).select_related("audit__programme__organization")


def _nonconformity_bands(today: date):
    near, far = NONCONFORMITY_REMINDER_DAYS
    return bands(((f"{near}d", Q(due_on__lte=today + timedelta(days=near))),), f"{far}d")


def _nonconformities_overdue(today: date):
    return Nonconformity.objects.filter(unsettled_q(), due_on__lt=today).select_related(
        "audit__programme__organization"
    )


def _awaiting_client(nc: Nonconformity) -> bool:
    return nc.state in (Nonconformity.State.OPEN, Nonconformity.State.REJECTED)


def _nonconformity_context(nc: Nonconformity, today: date) -> dict:
    return {
        "nc": nc,
        "audit": nc.audit,
        "organization": nc.audit.programme.organization,
        "days_left": (nc.due_on - today).days,
        "overdue": nc.threshold == "overdue",
        "awaiting_client": _awaiting_client(nc),
        "next_step": next_step(nc),
        "portal_path": _portal_path(nc),
    }


def _portal_path(nc: Nonconformity) -> str:
    try:
        return reverse("audits_portal:detail", args=[nc.pk])
    except NoReverseMatch:
        return ""


def _team_leaders(nc: Nonconformity) -> list:
    return [
        member.user
        for member in AuditTeamMember.objects.filter(
            audit_id=nc.audit_id, role=AuditTeamMember.Role.LEADER
        ).select_related("user")
    ]


def _client_while_theirs(nc: Nonconformity):
    return nc.audit.programme.organization if _awaiting_client(nc) else None


# --- auditor registrations (004 §4.2) ------------------------------------------------------------


def _registrations_expiring(today: date):
    far = REGISTRATION_REMINDER_DAYS[-1]
    return (
        Auditor.objects.filter(
            active=True,
            registration_valid_until__gte=today,
            registration_valid_until__lte=today + timedelta(days=far),
        )
        .exclude(registration_number="")
        .select_related("user")
    )


def _registration_bands(today: date):
    """``30d <expiry>`` or ``60d <expiry>``: the band named with the expiry date, so each band
    is told once per registration expiry and a renewed registration is told again."""
    near, far = REGISTRATION_REMINDER_DAYS
    band = bands(
        ((f"{near}d", Q(registration_valid_until__lte=today + timedelta(days=near))),), f"{far}d"
    )
    expiry = Cast("registration_valid_until", output_field=CharField())
    return Concat(band, Value(" "), expiry, output_field=CharField())


def _registration_context(auditor: Auditor, today: date) -> dict:
    return {
        "auditor": auditor,
        "valid_until": auditor.registration_valid_until,
        "days_left": (auditor.registration_valid_until - today).days,
    }


# The reminder table. Times are Asia/Shanghai: the night for what only asks "what is due
# today?", before office hours for what people act on; ``order`` places each job in a full pass.
REMINDERS = (
    Reminder(
        name="initial_decision",
        label="初次认证决定期限",
        schedule=Daily(1, 25),
        note="at night: the initial decision limit",
        order=60,
        due=_stage2_undecided,
        field="decision_due_on",
        threshold=_initial_decision_threshold,
        roles=lambda audit: (roles.DECISION_MAKER, roles.TECHNICAL_MANAGER),
        template="initial_decision_due",
        context=lambda audit, today: {
            "audit": audit,
            "limit": audit.decision_due_on,
            "passed": audit.threshold == "passed",
        },
    ),
    Reminder(
        name="plan_reports",
        label="审核计划上报",
        schedule=Daily(1, 30),
        note="at night: audit plans not reported to CNCA",
        order=70,
        due=_plans_not_reported,
        field="plan_report_due",
        threshold=lambda today: overdue_or_soon("plan_report_due", today),
        roles=lambda audit: (roles.AUDIT_DEPARTMENT, roles.REPORTING_OFFICER),
        template="plan_report_due",
        context=lambda audit, today: {"audit": audit, "overdue": audit.threshold == "overdue"},
    ),
    Reminder(
        name="nonconformity_reminders",
        label="不符合项到期提醒",
        schedule=Daily(8, 40),
        note="before office hours: nonconformities 14 and 3 days before their verification "
        "deadline",
        order=130,
        due=_nonconformities_soon,
        field="due_on",
        threshold=_nonconformity_bands,
        roles=lambda nc: (roles.AUDIT_DEPARTMENT,),
        users=_team_leaders,
        template="nonconformity_due",
        context=_nonconformity_context,
        client=_client_while_theirs,
        client_template="nonconformity_due_client",
    ),
    Reminder(
        name="nonconformity_overdue",
        label="不符合项逾期未验证",
        schedule=Daily(8, 40),
        note="before office hours: nonconformities past their verification deadline",
        order=140,
        due=_nonconformities_overdue,
        field="due_on",
        threshold=lambda today: "overdue",
        roles=lambda nc: (roles.AUDIT_DEPARTMENT, roles.DECISION_MAKER, roles.TECHNICAL_MANAGER),
        users=_team_leaders,
        template="nonconformity_due",
        context=_nonconformity_context,
        client=_client_while_theirs,
        client_template="nonconformity_due_client",
    ),
    Reminder(
        name="registration_expiry",
        label="审核员注册到期提醒",
        schedule=Daily(8, 45),
        note="before office hours: auditors' registrations 60 and 30 days before they expire",
        order=145,
        due=_registrations_expiring,
        field="registration_valid_until",
        threshold=_registration_bands,
        roles=lambda auditor: (roles.AUDIT_DEPARTMENT,),
        users=lambda auditor: [auditor.user],
        template="registration_expiry",
        context=_registration_context,
    ),
)

for _reminder in REMINDERS:
    register(_reminder.job())
