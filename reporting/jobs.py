"""Periodic jobs: idempotent one-item steps and the driver that loops them.

Each step (``<job>_step(today=…)``) asks "what is due now?" of a stored deadline column, claims
**one** due row (``select_for_update(skip_locked=True)`` on PostgreSQL, so concurrent workers
take different rows), records that it acted with a ``JobMark`` (unique per job, object and
threshold: a second run, or a second worker, finds it and does nothing), acts only through
the services as ``certbody.lifecycle.system_user()``, tells the people concerned
(``certbody.notifications``) and returns True; it returns False when nothing is due. A service's
refusal (``RuleViolation``) is recorded on the mark as failed and notified, not retried.
``run(name)`` loops a step until it returns False, passing the step a cursor (``progress``) so
that one pass over many due rows stays linear; Celery tasks (``reporting.tasks``) and
``manage.py run_due_jobs`` call it. Tests call the steps directly with frozen time.

Jobs, in the order a full pass runs them (``JOBS``, the registry of ``certbody.jobs``). Each
carries its time (``Job.schedule``, with a note on why then): Celery beat's schedule
(``certbody/celery.py``) and ``manage.py run_due_jobs --list`` are both read from it.

- ``expiry``: certificates past their expiry become expired (004 §7.5; domain §13).
- ``suspension_ended``: a suspension whose period ended unresolved → withdrawal proposed with
  cause 004 §7.3.1(7) (``certificates.services.suspension_ended_step``).
- ``surveillance_overdue``: a planned surveillance past its due date → suspension with cause
  004 §7.2.1(6) proposed, or made when ``CertificationBody.auto_suspend_overdue_surveillance``
  (004 §5.7.4).
- ``surveillance_reminders``: 90, 60 and 30 days before a surveillance is due, to the audit
  department and the client (004 §5.7.3).
- ``recertification_reminders``: 6 and 4 months before expiry, and when the application
  deadline 3 months before expiry is reached (004 §5.8.1), to the market department and the
  client.
- ``initial_decision``: stage 2 completed without a decision, 30 days before and after the
  6-month limit (004 §5.12.3).
- ``plan_reports``: audit plans not reported to CNCA, 2 days before and after the deadline
  3 days before the audit (004 §9.2).
- ``status_change_reports``: a report for each suspension, restoration, withdrawal and
  cancellation, due within 2 working days (002 §4.3.8.3; 004 §9.4).
- ``periodic_reports``: each monthly and annual report generated at the start of its period's
  due window (002 §4.3.2–4.3.6).
- ``report_deadlines``: reports not submitted, 2 days before and after their due date.
- ``appeals``: appeals and complaints without a written result, 10 days before and after the
  60 days (004 §8.3).
- ``reporting_obligations``: reports owed after a major accident, before and after their
  deadline (002 §4.3.8.2; 004 §9.5).
- ``nonconformity_reminders``: an unsettled nonconformity 14 and 3 days before its ``due_on``,
  to the audit team leader and the audit department, and to the client while the answer is
  theirs to give (004 §5.10.1, §5.10.3).
- ``nonconformity_overdue``: an unsettled nonconformity past its ``due_on``: no grant,
  maintenance or renewal decision may be made (004 §5.10.4); to the team leader, the audit
  department, the decision makers and the technical manager, and to the client.
- ``outbox``: e-mails whose sending failed (a mail outage) tried again when due, with growing
  waits, until sent or given up (``certbody.notifications``).
- ``calendar``: in December, next year's working-day calendar is loaded from chinesecalendar
  or, when the package does not cover it yet, its absence is notified (domain §19).
- ``pending_documents``: a certificate or notice whose PDF is still pending after its change
  committed is rendered when its retry is due (issue #11; ``certificates.pdf``).
- ``orphan_files``: files under MEDIA_ROOT that no row refers to are reported to the technical
  manager, once each, never deleted.
- ``document_integrity``: every issued document's and audit report's SHA-256 is checked again;
  each file missing or altered is reported to the technical manager once.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
from collections.abc import Callable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Cast, Concat
from django.urls import NoReverseMatch, reverse

from applications.models import Application
from audits.models import Audit, AuditPlan, AuditTeamMember, Nonconformity
from audits.selectors import next_step, unsettled_q
from certbody import dates, notifications, roles
from certbody.dates import add_months
from certbody.jobs import Daily, Every, Job, register, registered
from certbody.lifecycle import RuleViolation, system_user
from certbody.models import CalendarDay, CalendarYear, CertificationBody
from certbody.notifications import notify_addresses, notify_staff
from certbody.workspace import object_url_for
from certificates import causes
from certificates import services as cert_services
from certificates.models import (
    Appeal,
    Certificate,
    CertificateEvent,
    Proposal,
    ReportingObligation,
)
from reporting import periods
from reporting import services as report_services
from reporting.models import JobMark, ReportRun

logger = logging.getLogger("reporting.jobs")

Status = Certificate.Status
IN_FORCE = (Status.VALID, Status.SUSPENDED)

SURVEILLANCE_REMINDER_DAYS = (30, 60, 90)  # nearest first: only the latest threshold reached
RECERTIFICATION_REMINDER_MONTHS = (3, 4, 6)  # 3 = the application deadline (004 §5.8.1)
INITIAL_DECISION_MONTHS = 6  # 004 §5.12.3
INITIAL_DECISION_WARNING_DAYS = 30
PLAN_REPORT_WARNING_DAYS = 2
REPORT_WARNING_DAYS = 2
APPEAL_WARNING_DAYS = 10
OBLIGATION_WARNING_DAYS = 1
NONCONFORMITY_REMINDER_DAYS = (3, 14)  # nearest first: only the latest threshold reached
SUSPENSION_MONTHS = 6  # 004 §7.2.2: at most 6 months
STATUS_CHANGE_LOOKBACK_DAYS = 31  # older changes predate the system or were reported by hand
MAX_STEPS = 1_000_000  # a driver's safety stop; a step always marks what it did


# --- helpers -------------------------------------------------------------------------------


CLAIM_BATCH = 50  # due rows looked at per query while claiming


def _claim(queryset, *, job: str, field: str, threshold, progress: dict | None):
    """Lock and return the first due row of ``queryset`` not yet marked for ``job``, or None.

    ``threshold``: the threshold's name, or an expression giving it per row (a ``Case`` over the
    deadline column ``field``), annotated as ``threshold``. Rows are taken in ``field`` order;
    ``select_for_update(skip_locked=True)`` lets concurrent workers take different rows on
    PostgreSQL. ``progress`` is the driver's cursor: rows at or before the last one looked at in
    this pass are not looked at again, so a pass over many due rows stays linear (a row skipped
    because another worker held it is that worker's, or the next run's).

    Written as keyed lookups, never as an anti-join over ``JobMark``: the due rows are read in
    deadline order, ``CLAIM_BATCH`` at a time (the deadline index), and their marks fetched by
    the mark's unique key ``(job, object_id, threshold)`` for just those ids. An anti-join's
    plan depends on the planner's statistics: on a PostgreSQL with stale statistics (after a
    bulk load, or with autovacuum off) it went from 1 ms to 1.8 s a claim. A row marked
    concurrently between the look-up and the lock is caught by ``_mark`` (unique constraint).
    """
    if isinstance(threshold, str):
        threshold = Value(threshold, output_field=CharField())
    rows = queryset.annotate(threshold=threshold)
    after = progress.get("after") if progress is not None else None
    while True:
        page = rows
        if after is not None:
            value, pk = after
            page = page.filter(Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk}))
        batch = list(page.order_by(field, "pk").values_list(field, "pk", "threshold")[:CLAIM_BATCH])
        if not batch:
            return None
        marked = set(
            JobMark.objects.filter(
                job=job,
                object_id__in=[pk for _value, pk, _name in batch],
                threshold__in={name for _value, _pk, name in batch},
            ).values_list("object_id", "threshold")
        )
        for value, pk, name in batch:
            after = (value, pk)
            if progress is not None:
                progress["after"] = after
            if (pk, name) in marked:
                continue
            # Locked again with the queryset's own conditions: still due, not another worker's.
            row = rows.filter(pk=pk).select_for_update(skip_locked=True, of=("self",)).first()
            if row is not None:
                return row
        if len(batch) < CLAIM_BATCH:
            return None


def _state_in(field: str, choices, wanted) -> Q:
    """``field`` in ``wanted``, written as NOT IN the other choices: SQLite, which keeps no
    statistics unless ANALYZE runs, would otherwise pick the (unselective) state index and sort
    every row in that state on each step; this way it walks the deadline column's index in
    order and stops at the first due row."""
    wanted = {str(value) for value in wanted}
    return ~Q(**{f"{field}__in": [value for value in choices.values if value not in wanted]})


def _is_head():
    """Head certificates, i.e. those without a head certificate. Written as NOT EXISTS rather
    than ``head IS NULL`` for the reason given in ``_state_in``: almost every certificate is a
    head, so that index would make SQLite sort them all on each step."""
    return ~Exists(Certificate.objects.filter(pk=OuterRef("head_id")))


def _bands(bands, default: str):
    """``Case`` giving the threshold name of the first band whose ``Q`` matches, else
    ``default`` (bands nearest the deadline first)."""
    return Case(
        *(When(condition, then=Value(name)) for name, condition in bands),
        default=Value(default),
        output_field=CharField(),
    )


def _mark(job: str, object_id: int, threshold: str, today: date) -> JobMark | None:
    """Insert the job's mark; None when it exists already (another run got there first)."""
    try:
        with transaction.atomic():
            return JobMark.objects.create(
                job=job, object_id=object_id, threshold=threshold, acted_on=today
            )
    except IntegrityError:
        return None


def _act(mark: JobMark, action: Callable[[], object], *, label: str, subject) -> bool:
    """Run ``action`` (a service call) in a savepoint; on refusal record and notify it."""
    try:
        with transaction.atomic():
            action()
    except RuleViolation as exc:
        mark.failed = True
        mark.note = str(exc)[:300]
        mark.save(update_fields=["failed", "note"])
        logger.warning("job %s on %s refused: %s", mark.job, subject, exc)
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            template="job_failed",
            context={"job": label, "subject": subject, "error": str(exc)},
            kind=mark.job,
            link=_link(subject),
        )
        return False
    return True


def _link(obj) -> str:
    """The workspace page of ``obj`` for a notification (never the admin: superusers only)."""
    if obj is None or not hasattr(obj, "_meta"):
        return ""
    return object_url_for(obj)


def _client_addresses(organization) -> list[str]:
    users = organization.users.filter(is_active=True).exclude(email="")
    return [organization.contact_email, *users.values_list("email", flat=True)]


def _in_force_head(programme_ref: str = "programme_id", statuses=IN_FORCE):
    return Exists(
        Certificate.objects.filter(
            programme_id=OuterRef(programme_ref), head__isnull=True, status__in=statuses
        )
    )


def _auto_suspend() -> bool:
    try:
        return CertificationBody.get().auto_suspend_overdue_surveillance
    except CertificationBody.DoesNotExist:
        return False


def _propose(certificate: Certificate, *, action: str, cause: int, reason: str, actor) -> Proposal:
    """Open a status-change proposal for a person to decide (the system never decides alone)."""
    return cert_services.proposal_open(
        certificate=certificate, actor=actor, action=action, cause=cause, reason=reason
    )


# --- certificates ---------------------------------------------------------------------------


def expiry_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Expire one head certificate (with its sub-certificates) whose validity has ended.

    Valid or suspended certificates with ``expires_on`` before ``today`` (004 §7.5: expire at
    the end of validity when not renewed), through ``certificate_expire``; the market department
    and the client are told (a renewal now needs a new initial application, 004 §5.8.1).
    """
    today = dates.today(today)
    job = "expiry"
    with transaction.atomic():
        certificate = _claim(
            Certificate.objects.filter(
                _is_head(), _state_in("status", Status, IN_FORCE), expires_on__lt=today
            ).select_related("organization"),
            job=job,
            field="expires_on",
            threshold="expired",
            progress=progress,
        )
        if certificate is None:
            return False
        mark = _mark(job, certificate.pk, "expired", today)
        if mark is None:
            return True
        system = system_user()
        done = _act(
            mark,
            lambda: cert_services.certificate_expire(
                certificate=certificate, actor=system, today=today
            ),
            label="证书到期失效",
            subject=certificate,
        )
        if done:
            context = {"certificate": certificate, "organization": certificate.organization}
            notify_staff(
                roles=(roles.MARKET, roles.REPORTING_OFFICER),
                template="certificate_expired",
                context=context,
                kind=job,
                link=_link(certificate),
            )
            notify_addresses(
                _client_addresses(certificate.organization),
                template="certificate_expired_client",
                context=context,
            )
    return True


def suspension_ended_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Propose withdrawing one certificate whose suspension period ended unresolved.

    Cause 004 §7.3.1(7) "suspension period ended" (CNCA 0115). The certificate is claimed like
    every other job's row, once per suspension (threshold ``until <suspended_until>``), so two
    runners at once never both propose; ``certificates.services.suspension_ended_propose``
    makes the proposal, or nothing when a withdrawal proposal is open or was already made
    during this suspension. Decision makers and the technical manager are told; the withdrawal
    itself is theirs to make (within 5 working days, 004 §7.3.1).
    """
    today = dates.today(today)
    job = "suspension_ended"
    with transaction.atomic():
        certificate = _claim(
            # cert_services.suspension_ended_due, written so that SQLite walks the deadline
            # index (see _state_in and _is_head)
            Certificate.objects.filter(
                _is_head(),
                _state_in("status", Status, [Status.SUSPENDED]),
                suspended_until__lt=today,
            ),
            job=job,
            field="suspended_until",
            threshold=Concat(
                Value("until "), Cast("suspended_until", CharField()), output_field=CharField()
            ),
            progress=progress,
        )
        if certificate is None:
            return False
        mark = _mark(job, certificate.pk, certificate.threshold, today)
        if mark is None:
            return True
        proposals = []
        done = _act(
            mark,
            lambda: proposals.append(
                cert_services.suspension_ended_propose(
                    certificate=certificate, actor=system_user(), today=today
                )
            ),
            label="暂停期满建议撤销",
            subject=certificate,
        )
        proposal = proposals[0] if done else None
        if proposal is None:
            if done:
                mark.note = "已有撤销建议"
                mark.save(update_fields=["note"])
            return True
        mark.note = f"建议 #{proposal.pk}"
        mark.save(update_fields=["note"])
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER),
            template="suspension_ended",
            context={
                "certificate": proposal.certificate,
                "proposal": proposal,
                "cause": causes.withdrawal_cause(causes.SUSPENSION_ENDED_UNRESOLVED),
            },
            kind=job,
            link=_link(proposal),
        )
    return True


def surveillance_overdue_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Act on one planned surveillance audit whose due date has passed (004 §5.7.4).

    The programme's valid head certificate is suspended with cause 004 §7.2.1(6) "surveillance
    not accepted at the required interval" — from ``today`` (the day the system verified it)
    for 6 months (004 §7.2.2) — when the CB's ``auto_suspend_overdue_surveillance`` is on;
    otherwise a suspension with that cause is proposed to the decision makers. Once per audit.
    """
    today = dates.today(today)
    job = "surveillance_overdue"
    with transaction.atomic():
        audit = _claim(
            Audit.objects.filter(
                _state_in("state", Audit.State, [Audit.State.PLANNED]),
                kind=Audit.Kind.SURVEILLANCE,
                due_on__lt=today,
            )
            .filter(_in_force_head(statuses=[Status.VALID]))
            .select_related("programme__organization"),
            job=job,
            field="due_on",
            threshold="overdue",
            progress=progress,
        )
        if audit is None:
            return False
        mark = _mark(job, audit.pk, "overdue", today)
        if mark is None:
            return True
        certificate = (
            Certificate.objects.filter(
                programme_id=audit.programme_id, head__isnull=True, status=Status.VALID
            )
            .select_related("organization")
            .first()
        )
        cause = causes.suspension_cause(6)
        reason = f"{audit}应于 {audit.due_on} 前实施，逾期未实施（004 §5.7.4）"
        system = system_user()
        context = {"audit": audit, "certificate": certificate, "cause": cause, "today": today}
        if _auto_suspend():
            ends_on = add_months(today, SUSPENSION_MONTHS)
            context["ends_on"] = ends_on
            done = _act(
                mark,
                lambda: cert_services.certificate_suspend(
                    certificate=certificate,
                    actor=system,
                    cause=cause.number,
                    verified_on=today,
                    starts_on=today,
                    ends_on=ends_on,
                    reason=reason,
                    evidence=f"系统于 {today} 核实：监督审核到期日 {audit.due_on} 已过，"
                    "审核仍未实施",
                ),
                label="监督审核逾期暂停证书",
                subject=certificate,
            )
            if done:
                mark.note = f"已暂停至 {ends_on}"
                mark.save(update_fields=["note"])
                notify_staff(
                    roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER, roles.AUDIT_DEPARTMENT),
                    template="surveillance_overdue_suspended",
                    context=context,
                    kind=job,
                    link=_link(certificate),
                )
                notify_addresses(
                    _client_addresses(certificate.organization),
                    template="surveillance_overdue_suspended_client",
                    context=context,
                )
            return True
        open_proposal = Proposal.objects.filter(
            certificate=certificate, action=Proposal.Action.SUSPEND, state=Proposal.State.OPEN
        ).first()
        proposal = open_proposal or _propose(
            certificate,
            action=Proposal.Action.SUSPEND,
            cause=cause.number,
            reason=reason,
            actor=system,
        )
        mark.note = f"建议 #{proposal.pk}"
        mark.save(update_fields=["note"])
        context["proposal"] = proposal
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER, roles.AUDIT_DEPARTMENT),
            template="surveillance_overdue_proposed",
            context=context,
            kind=job,
            link=_link(proposal),
        )
    return True


def surveillance_reminder_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Remind about one planned surveillance audit due in 90, 60 or 30 days (004 §5.7.3).

    Only the latest threshold reached is sent (an audit planned 40 days ahead gets the 60-day
    reminder, then the 30-day one); each once. The audit department gets a notification, the
    client an e-mail.
    """
    today = dates.today(today)
    job = "surveillance_reminders"
    near, middle, far = SURVEILLANCE_REMINDER_DAYS
    threshold = _bands(
        (
            (f"{near}d", Q(due_on__lte=today + timedelta(days=near))),
            (f"{middle}d", Q(due_on__lte=today + timedelta(days=middle))),
        ),
        f"{far}d",
    )
    with transaction.atomic():
        audit = _claim(
            Audit.objects.filter(
                _state_in("state", Audit.State, [Audit.State.PLANNED]),
                kind=Audit.Kind.SURVEILLANCE,
                due_on__gte=today,
                due_on__lte=today + timedelta(days=far),
            )
            .filter(_in_force_head())
            .select_related("programme__organization"),
            job=job,
            field="due_on",
            threshold=threshold,
            progress=progress,
        )
        if audit is None:
            return False
        if _mark(job, audit.pk, audit.threshold, today) is not None:
            organization = audit.programme.organization
            context = {
                "audit": audit,
                "organization": organization,
                "days_left": (audit.due_on - today).days,
                "threshold": int(audit.threshold.removesuffix("d")),
            }
            notify_staff(
                roles=(roles.AUDIT_DEPARTMENT,),
                template="surveillance_reminder",
                context=context,
                kind=job,
                link=_link(audit),
            )
            notify_addresses(
                _client_addresses(organization),
                template="surveillance_reminder_client",
                context=context,
            )
    return True


def recertification_reminder_step(
    *, today: date | None = None, progress: dict | None = None
) -> bool:
    """Remind one certified client, and the market department, of recertification.

    From 6 months before expiry, again at 4 months (one month before the deadline) and when the
    application deadline 3 months before expiry is reached (004 §5.8.1: a later application is
    handled as a new initial application). Only the latest threshold reached is sent; none once
    a recertification application was submitted after the certificate was issued.
    """
    today = dates.today(today)
    job = "recertification_reminders"
    # expires_on <= upper[m]  ⟺  add_months(expires_on, -m) <= today
    upper = {
        m: periods.latest_start_for_deadline(today, -m) for m in RECERTIFICATION_REMINDER_MONTHS
    }
    deadline, last_call, first_call = RECERTIFICATION_REMINDER_MONTHS
    threshold = _bands(
        (
            (f"{deadline}m", Q(expires_on__lte=upper[deadline])),
            (f"{last_call}m", Q(expires_on__lte=upper[last_call])),
        ),
        f"{first_call}m",
    )
    applied = Application.objects.filter(
        organization_id=OuterRef("organization_id"),
        kind=Application.Kind.RECERTIFICATION,
        state__in=[
            Application.State.SUBMITTED,
            Application.State.UNDER_REVIEW,
            Application.State.ACCEPTED,
        ],
        submitted_at__date__gte=OuterRef("issued_on"),
    )
    with transaction.atomic():
        certificate = _claim(
            Certificate.objects.filter(
                _is_head(),
                _state_in("status", Status, IN_FORCE),
                expires_on__gt=today,
                expires_on__lte=upper[first_call],
            )
            .exclude(Exists(applied))
            .select_related("organization"),
            job=job,
            field="expires_on",
            threshold=threshold,
            progress=progress,
        )
        if certificate is None:
            return False
        if _mark(job, certificate.pk, certificate.threshold, today) is not None:
            context = {
                "certificate": certificate,
                "organization": certificate.organization,
                "deadline": add_months(certificate.expires_on, -deadline),
                "deadline_reached": certificate.threshold == f"{deadline}m",
            }
            notify_staff(
                roles=(roles.MARKET,),
                template="recertification_reminder",
                context=context,
                kind=job,
                link=_link(certificate),
            )
            notify_addresses(
                _client_addresses(certificate.organization),
                template="recertification_reminder_client",
                context=context,
            )
    return True


# --- audits ------------------------------------------------------------------------------------


def initial_decision_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Warn about one completed stage 2 audit still without a decision (004 §5.12.3).

    The initial decision is due within 6 months of the end of stage 2, else stage 2 is
    repeated. Warned 30 days before the limit ("soon") and once it has passed ("passed"), to
    the decision makers and the technical manager.
    """
    today = dates.today(today)
    job = "initial_decision"
    passed = periods.latest_start_for_deadline(today - timedelta(days=1), INITIAL_DECISION_MONTHS)
    soon = periods.latest_start_for_deadline(
        today + timedelta(days=INITIAL_DECISION_WARNING_DAYS), INITIAL_DECISION_MONTHS
    )
    with transaction.atomic():
        audit = _claim(
            Audit.objects.filter(
                kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED, actual_end__lte=soon
            ).select_related("programme__organization"),
            job=job,
            field="actual_end",
            threshold=_bands((("passed", Q(actual_end__lte=passed)),), "soon"),
            progress=progress,
        )
        if audit is None:
            return False
        if _mark(job, audit.pk, audit.threshold, today) is not None:
            notify_staff(
                roles=(roles.DECISION_MAKER, roles.TECHNICAL_MANAGER),
                template="initial_decision_due",
                context={
                    "audit": audit,
                    "limit": add_months(audit.actual_end, INITIAL_DECISION_MONTHS),
                    "passed": audit.threshold == "passed",
                },
                kind=job,
                link=_link(audit),
            )
    return True


def _overdue_or_soon(field: str, today: date):
    return _bands((("overdue", Q(**{f"{field}__lt": today})),), "soon")


def plan_report_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Warn about one audit plan not yet reported to CNCA (004 §9.2: 3 days before the audit).

    Audits still planned whose ``plan_report_due`` is within 2 days ("soon") or has passed
    ("overdue") and whose plan has no CNCA report date; to the audit department and the
    reporting officer.
    """
    today = dates.today(today)
    job = "plan_reports"
    reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
    with transaction.atomic():
        audit = _claim(
            Audit.objects.filter(
                _state_in("state", Audit.State, [Audit.State.PLANNED]),
                plan_report_due__lte=today + timedelta(days=PLAN_REPORT_WARNING_DAYS),
            )
            .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
            .exclude(Exists(reported))
            .select_related("programme__organization"),
            job=job,
            field="plan_report_due",
            threshold=_overdue_or_soon("plan_report_due", today),
            progress=progress,
        )
        if audit is None:
            return False
        if _mark(job, audit.pk, audit.threshold, today) is not None:
            notify_staff(
                roles=(roles.AUDIT_DEPARTMENT, roles.REPORTING_OFFICER),
                template="plan_report_due",
                context={"audit": audit, "overdue": audit.threshold == "overdue"},
                kind=job,
                link=_link(audit),
            )
    return True


# --- reports -------------------------------------------------------------------------------


def status_change_report_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Generate the report of one recent suspension, restoration, withdrawal or cancellation.

    Head certificates' events of the last 31 days without a report run; the run is due 2
    working days after the change (002 §4.3.8.3; 004 §9.4) and the reporting officer is told.
    """
    today = dates.today(today)
    job = "status_change_reports"
    with transaction.atomic():
        event = _claim(
            CertificateEvent.objects.filter(
                # of a head certificate (a correlated test, see _is_head)
                Exists(Certificate.objects.filter(pk=OuterRef("certificate_id"), head=None)),
                kind__in=report_services.STATUS_CHANGE_EVENTS,
                occurred_on__gte=today - timedelta(days=STATUS_CHANGE_LOOKBACK_DAYS),
                occurred_on__lte=today,
            )
            .exclude(Exists(ReportRun.objects.filter(event_id=OuterRef("pk"))))
            .select_related("certificate"),
            job=job,
            field="occurred_on",
            threshold="generated",
            progress=progress,
        )
        if event is None:
            return False
        mark = _mark(job, event.pk, "generated", today)
        if mark is None:
            return True
        runs = []
        done = _act(
            mark,
            lambda: runs.append(
                report_services.report_generate(
                    kind=ReportRun.Kind.STATUS_CHANGE, actor=system_user(), event=event
                )
            ),
            label="生成证书状态变更报告",
            subject=event.certificate,
        )
        if done:
            _report_generated(runs[0], job)
    return True


def _report_generated(run: ReportRun, job: str) -> None:
    notify_staff(
        roles=(roles.REPORTING_OFFICER,),
        template="report_generated",
        context={"run": run, "problems": getattr(run, "problems", [])},
        kind=job,
        link=_link(run),
    )


def periodic_report_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Generate one monthly or annual report whose period has ended and that has no run yet.

    The latest closed period of each kind (last month, last year) at the start of its due
    window (002 §4.3.2–4.3.6); earlier periods are generated on request only. The reporting
    officer is told.
    """
    today = dates.today(today)
    job = "periodic_reports"
    for kind in report_services.PERIODIC_KINDS:
        start, _end = periods.last_closed_period(kind, today)
        with transaction.atomic():
            if ReportRun.objects.filter(kind=kind, period_start=start, event=None).exists():
                continue
            mark = _mark(job, start.toordinal(), kind, today)
            if mark is None:
                continue
            runs = []
            done = _act(
                mark,
                lambda kind=kind, start=start, runs=runs: runs.append(
                    report_services.report_generate(
                        kind=kind, actor=system_user(), period_start=start
                    )
                ),
                label=f"生成{ReportRun(kind=kind).title}",
                subject=None,
            )
            if done:
                _report_generated(runs[0], job)
            return True
    return False


def report_deadline_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Remind the reporting officer of one report not submitted, 2 days before its due date
    ("soon"; status-change reports are told at generation) and once overdue ("overdue", the
    technical manager too)."""
    today = dates.today(today)
    job = "report_deadlines"
    with transaction.atomic():
        run = _claim(
            ReportRun.objects.filter(state=ReportRun.State.GENERATED).filter(
                Q(due_on__lt=today)
                | Q(due_on__lte=today + timedelta(days=REPORT_WARNING_DAYS))
                & ~Q(kind=ReportRun.Kind.STATUS_CHANGE)
            ),
            job=job,
            field="due_on",
            threshold=_overdue_or_soon("due_on", today),
            progress=progress,
        )
        if run is None:
            return False
        if _mark(job, run.pk, run.threshold, today) is not None:
            overdue = run.threshold == "overdue"
            notify_staff(
                roles=(roles.REPORTING_OFFICER,) + ((roles.TECHNICAL_MANAGER,) if overdue else ()),
                template="report_due",
                context={"run": run, "overdue": overdue},
                kind=job,
                link=_link(run),
            )
    return True


# --- nonconformities ----------------------------------------------------------------------------


def _nonconformity_notify(nc: Nonconformity, *, job: str, today: date, overdue: bool) -> None:
    organization = nc.audit.programme.organization
    awaiting_client = nc.state in (Nonconformity.State.OPEN, Nonconformity.State.REJECTED)
    context = {
        "nc": nc,
        "audit": nc.audit,
        "organization": organization,
        "days_left": (nc.due_on - today).days,
        "overdue": overdue,
        "awaiting_client": awaiting_client,
        "next_step": next_step(nc),
        "portal_path": _portal_path(nc),
    }
    leaders = [
        member.user
        for member in AuditTeamMember.objects.filter(
            audit_id=nc.audit_id, role=AuditTeamMember.Role.LEADER
        ).select_related("user")
    ]
    staff_roles = (roles.AUDIT_DEPARTMENT,)
    if overdue:
        staff_roles += (roles.DECISION_MAKER, roles.TECHNICAL_MANAGER)
    notify_staff(
        roles=staff_roles,
        users=leaders,
        template="nonconformity_due",
        context=context,
        kind=job,
        link=_link(nc),
    )
    if awaiting_client:
        notify_addresses(
            _client_addresses(organization),
            template="nonconformity_due_client",
            context=context,
        )


def _portal_path(nc: Nonconformity) -> str:
    try:
        return reverse("audits_portal:detail", args=[nc.pk])
    except NoReverseMatch:
        return ""


def nonconformity_reminder_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Remind about one unsettled nonconformity due in 14 or 3 days (004 §5.10.1, §5.10.3).

    Unsettled: a major not closed, a minor neither closed nor with its plan accepted. Only the
    latest threshold reached is sent ("14d", then "3d"; a run that first sees the NC 2 days
    before its deadline sends only the 3-day one), each once. The audit team leader and
    the audit department get a notification; the client an e-mail while the NC waits for their
    answer (open or rejected), not while the team is verifying it.
    """
    today = dates.today(today)
    job = "nonconformity_reminders"
    near, far = NONCONFORMITY_REMINDER_DAYS
    threshold = _bands(((f"{near}d", Q(due_on__lte=today + timedelta(days=near))),), f"{far}d")
    with transaction.atomic():
        nc = _claim(
            Nonconformity.objects.filter(
                unsettled_q(), due_on__gte=today, due_on__lte=today + timedelta(days=far)
            ).select_related("audit__programme__organization"),
            job=job,
            field="due_on",
            threshold=threshold,
            progress=progress,
        )
        if nc is None:
            return False
        if _mark(job, nc.pk, nc.threshold, today) is not None:
            _nonconformity_notify(nc, job=job, today=today, overdue=False)
    return True


def nonconformity_overdue_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Alert once about one nonconformity still unsettled after its ``due_on``.

    The deadline day itself is still in time. While it stays unsettled no grant, maintenance
    or renewal decision may be made (004 §5.10.4; for a surveillance under CAS the certificate
    and mark may no longer be used, 001 §7.5): the team leader, the audit department, the
    decision makers and the technical manager are told, and the client by e-mail while the
    answer is theirs to give.
    """
    today = dates.today(today)
    job = "nonconformity_overdue"
    with transaction.atomic():
        nc = _claim(
            Nonconformity.objects.filter(unsettled_q(), due_on__lt=today).select_related(
                "audit__programme__organization"
            ),
            job=job,
            field="due_on",
            threshold="overdue",
            progress=progress,
        )
        if nc is None:
            return False
        if _mark(job, nc.pk, "overdue", today) is not None:
            _nonconformity_notify(nc, job=job, today=today, overdue=True)
    return True


# --- appeals, obligations, calendar --------------------------------------------------------


def appeal_due_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Warn about one appeal or complaint without a written result, 10 days before the 60 days
    run out ("soon") and once they have ("overdue") (004 §8.3; 001 §10); to its handler and
    the technical manager."""
    today = dates.today(today)
    job = "appeals"
    with transaction.atomic():
        appeal = _claim(
            Appeal.objects.filter(due_on__lte=today + timedelta(days=APPEAL_WARNING_DAYS))
            .exclude(state=Appeal.State.DECIDED)
            .select_related("handler"),
            job=job,
            field="due_on",
            threshold=_overdue_or_soon("due_on", today),
            progress=progress,
        )
        if appeal is None:
            return False
        if _mark(job, appeal.pk, appeal.threshold, today) is not None:
            notify_staff(
                roles=(roles.TECHNICAL_MANAGER,),
                users=[appeal.handler] if appeal.handler_id else [],
                template="appeal_due",
                context={"appeal": appeal, "overdue": appeal.threshold == "overdue"},
                kind=job,
                link=_link(appeal),
            )
    return True


def reporting_obligation_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Warn about one report owed after a major accident (CNAS within 10 days, 002 §4.3.8.2;
    local regulator within 2 working days, 004 §9.5), the day before and once overdue."""
    today = dates.today(today)
    job = "reporting_obligations"
    with transaction.atomic():
        obligation = _claim(
            ReportingObligation.objects.filter(
                done_on__isnull=True,
                due_on__lte=today + timedelta(days=OBLIGATION_WARNING_DAYS),
            ),
            job=job,
            field="due_on",
            threshold=_overdue_or_soon("due_on", today),
            progress=progress,
        )
        if obligation is None:
            return False
        if _mark(job, obligation.pk, obligation.threshold, today) is not None:
            notify_staff(
                roles=(roles.TECHNICAL_MANAGER, roles.REPORTING_OFFICER),
                template="obligation_due",
                context={"obligation": obligation, "overdue": obligation.threshold == "overdue"},
                kind=job,
                link=_link(obligation),
            )
    return True


def outbox_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Try once more to send one queued e-mail whose next attempt is due.

    E-mails are queued in the transaction that caused them and sent right after it commits
    (``certbody.notifications``); one that failed then (a mail outage) waits here for its next
    attempt, with growing waits, until it is sent or, after ``MAX_ATTEMPTS``, stays failed on
    the outbox desk. Due is measured by the clock (``next_attempt_at``), not by ``today``.
    Returns True when it tried one (sent or not), False when none is due.
    """
    after = progress.get("after") if progress is not None else None
    due = notifications.next_due(after=after)
    if due is None:
        return False
    if progress is not None:
        progress["after"] = due
    notifications.send_one(due[1])
    return True


def calendar_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """In December, make sure next year's working-day calendar is there (domain §19).

    Loaded from the chinesecalendar package when it covers the year (the State Council
    publishes the holidays in November or December); otherwise the technical manager and the
    administrators are told that working-day deadlines in that year will count Monday–Friday
    until it is entered. Once per year.
    """
    from certbody.workdays import load_package_calendar, package_years

    today = dates.today(today)
    job = "calendar"
    year = today.year + 1
    if today.month != 12 or CalendarYear.objects.filter(year=year).exists():
        return False
    with transaction.atomic():
        mark = _mark(job, year, "missing", today)
        if mark is None:
            return False
        loaded = year in package_years()
        if loaded:
            load_package_calendar(CalendarDay, CalendarYear, years=[year])
            mark.note = "已从 chinesecalendar 载入"
            mark.save(update_fields=["note"])
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER,),
            superusers=True,
            template="calendar_missing",
            context={"year": year, "loaded": loaded},
            kind=job,
            link="/admin/certbody/calendaryear/",
        )
    return True


# --- registry and driver ---------------------------------------------------------------------


# Each job carries its time (``Schedule``): beat's schedule (``certbody/celery.py``) and
# ``run_due_jobs --list`` are both read from this registry. Times are Asia/Shanghai; jobs that
# only ask "what is due today?" run at night, those that tell people run before office hours.
JOBS: dict[str, Job] = registered()  # the registry itself, name → Job, in run order

for _job in (
    Job(
        "expiry",
        "证书到期失效",
        expiry_step,
        Daily(0, 5),
        "just after midnight: certificates past their expiry become expired",
    ),
    Job(
        "suspension_ended",
        "暂停期满建议撤销",
        suspension_ended_step,
        Daily(1, 10),
        "at night, after expiry: suspension periods ended",
    ),
    Job(
        "surveillance_overdue",
        "监督审核逾期",
        surveillance_overdue_step,
        Daily(1, 10),
        "at night, after expiry: overdue surveillance",
    ),
    Job(
        "surveillance_reminders",
        "监督审核提醒",
        surveillance_reminder_step,
        Daily(1, 15),
        "at night: surveillance reminders 90, 60 and 30 days before the due date",
    ),
    Job(
        "recertification_reminders",
        "再认证提醒",
        recertification_reminder_step,
        Daily(1, 20),
        "at night: recertification reminders 6 and 4 months before expiry and at the deadline",
    ),
    Job(
        "initial_decision",
        "初次认证决定期限",
        initial_decision_step,
        Daily(1, 25),
        "at night: the initial decision limit",
    ),
    Job(
        "plan_reports",
        "审核计划上报",
        plan_report_step,
        Daily(1, 30),
        "at night: audit plans not reported to CNCA",
    ),
    Job(
        "status_change_reports",
        "证书状态变更报告",
        status_change_report_step,
        Every(30),
        "around the clock: each status change is due within 2 working days",
    ),
    Job(
        "periodic_reports",
        "月报和年报生成",
        periodic_report_step,
        Daily(0, 30),
        "every night, acting on the 1st of a month and on 1 January, at the start of the "
        "due window: last month's and last year's reports when missing",
    ),
    Job(
        "report_deadlines",
        "报表报送期限",
        report_deadline_step,
        Daily(8, 30),
        "before office hours: reports close to or past their due date",
    ),
    Job(
        "appeals",
        "申诉投诉处理期限",
        appeal_due_step,
        Daily(8, 30),
        "before office hours: appeals and complaints close to or past the 60 days",
    ),
    Job(
        "reporting_obligations",
        "重大事故报告期限",
        reporting_obligation_step,
        Daily(8, 35),
        "before office hours: accident reports close to or past their deadline",
    ),
    Job(
        "nonconformity_reminders",
        "不符合项到期提醒",
        nonconformity_reminder_step,
        Daily(8, 40),
        "before office hours: nonconformities 14 and 3 days before their verification deadline",
    ),
    Job(
        "nonconformity_overdue",
        "不符合项逾期未验证",
        nonconformity_overdue_step,
        Daily(8, 40),
        "before office hours: nonconformities past their verification deadline",
    ),
    Job(
        "outbox",
        "邮件重发",
        outbox_step,
        Every(5),
        "around the clock: e-mails that could not be sent, tried again when due",
    ),
    Job(
        "calendar",
        "次年工作日日历",
        calendar_step,
        Daily(9, 0, month=12),
        "in December, in office hours (the State Council publishes the holidays in November or "
        "December): next year's working-day calendar",
    ),
):
    register(_job)


def run(name: str, *, today: date | None = None, limit: int | None = None) -> int:
    """Loop the step of job ``name`` until nothing is due (or ``limit`` steps); the count of
    steps that acted. The steps share a cursor for the pass (``progress``), so rows already
    handled are not scanned again. Raises KeyError for an unknown job."""
    job = JOBS[name]
    today = dates.today(today)
    cap = MAX_STEPS if limit is None else limit
    done = 0
    progress: dict = {}  # the step's cursor for this pass (see _claim)
    while done < cap and job.step(today=today, progress=progress):
        done += 1
    if done >= MAX_STEPS:
        logger.error("job %s stopped after %d steps", name, done)
    return done


def run_all(*, today: date | None = None, names=None) -> dict[str, int | None]:
    """One full pass: every job (or those in ``names``) in ``JOBS`` order; steps per job, or
    None for a job that raised. A failing job is logged with its traceback and the pass goes
    on: one broken job (or a cache or mail server down) must not hold back the deadlines the
    others keep. Its due rows stay due, so the next pass tries them again."""
    today = dates.today(today)
    selected = list(JOBS) if not names else [n for n in JOBS if n in set(names)]
    results: dict[str, int | None] = {}
    for name in selected:
        try:
            results[name] = run(name, today=today)
        except Exception:
            logger.exception("job %s failed; going on with the other jobs", name)
            results[name] = None
    return results


# --- documents (issue #11) -------------------------------------------------------------------


def pending_document_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Render one certificate or notice still pending whose next attempt is due.

    The change that wrote it has committed; its render after commit failed (fonts, WeasyPrint,
    unreadable text) or never ran (worker down). ``certificates.pdf.pending_document_step``
    claims it with a conditional update and renders it; a failure backs the next attempt off
    (5 min doubling up to 6 h) and tells the technical manager. Does nothing where
    ``PDF_ENABLED`` is off.
    """
    from certificates.pdf import pending_document_step as render_one

    return render_one()


def orphan_files_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Tell the technical manager, once per file, about files under MEDIA_ROOT that no row
    refers to (written by a transaction that rolled back; older than an hour). Nothing is
    deleted: a person decides. True when something new was reported."""
    from certbody.uploads import orphan_files

    today = dates.today(today)
    job = "orphan_files"
    new = []
    with transaction.atomic():
        for name in orphan_files():
            key = int(hashlib.sha256(name.encode()).hexdigest()[:15], 16)
            mark = _mark(job, key, "orphan", today)
            if mark is not None:
                mark.note = name[:300]
                mark.save(update_fields=["note"])
                new.append(name)
        if new:
            logger.warning("%d orphan file(s) under MEDIA_ROOT: %s", len(new), ", ".join(new))
            notify_staff(
                roles=(roles.TECHNICAL_MANAGER,),
                template="orphan_files",
                context={"count": len(new), "names": new},
                kind=job,
            )
    return bool(new)


def document_integrity_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Re-check the SHA-256 of every stored certificate, notice and audit report (004 §10
    evidence) and tell the technical manager, once per document, about each file missing or
    altered (what ``manage.py verify_documents`` prints). True when something new was found."""
    from audits.models import AuditReport
    from certbody.uploads import file_problem
    from certificates.models import CertificateDocument
    from certificates.pdf import describe, document_problem

    today = dates.today(today)
    job = "document_integrity"
    found = []
    with transaction.atomic():
        documents = CertificateDocument.objects.filter(
            state=CertificateDocument.State.STORED, replacements__isnull=True
        ).select_related("certificate", "decision", "appeal")
        for document in documents.order_by("pk"):
            problem = document_problem(document)
            if problem and _mark(job, document.pk, "document", today) is not None:
                found.append(f"{describe(document)}: {problem}")
        for report in AuditReport.objects.select_related("audit").order_by("pk"):
            problem = file_problem(report.file, report.sha256)
            if problem and _mark(job, report.pk, "audit_report", today) is not None:
                label = f"{report.get_kind_display()} v{report.version} {report.audit}"
                found.append(f"{label}: {problem}")
        if found:
            logger.error("documents failing their SHA-256 check: %s", "; ".join(found))
            notify_staff(
                roles=(roles.TECHNICAL_MANAGER,),
                template="documents_broken",
                context={"count": len(found), "problems": found},
                kind=job,
            )
    return bool(found)


for _job in (
    Job(
        "pending_documents",
        "待生成的证书和通知书",
        pending_document_step,
        Every(10),
        "around the clock: certificates and notices whose PDF is still pending are rendered "
        "when their retry is due",
    ),
    Job(
        "orphan_files",
        "存储中无记录的文件",
        orphan_files_step,
        Daily(3, 0),
        "at night: files under MEDIA_ROOT that no record refers to, reported (never deleted)",
    ),
    Job(
        "document_integrity",
        "已签发文件完整性校验",
        document_integrity_step,
        Daily(3, 30, weekday=calendar.SUNDAY),
        "on Sunday night, reading every stored file once a week: issued documents and audit "
        "reports whose SHA-256 no longer matches",
    ),
):
    register(_job)
