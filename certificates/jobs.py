"""The certificates app's periodic jobs (``certbody.jobs``), registered from
``CertificatesConfig.ready``.

- ``expiry``: certificates past their expiry become expired (004 §7.5; domain §13).
- ``suspension_ended``: a suspension whose period ended unresolved → withdrawal proposed with
  cause 004 §7.3.1(7) (``certificates.services.suspension_ended_propose``).
- ``surveillance_overdue``: a planned surveillance past its due date → suspension with cause
  004 §7.2.1(6) proposed, or made when ``CertificationBody.auto_suspend_overdue_surveillance``
  (004 §5.7.4).
- ``cas_nonconformity_suspension``: a CAS surveillance nonconformity not corrected and
  verified within 2 months of the audit's end → the certificate is suspended with the CAS
  cause 001 §9.3.2.1(7) (001 §7.5).
- ``pending_documents``: a certificate or notice whose PDF is still pending after its change
  committed is rendered when its retry is due (``certificates.pdf``).
- ``document_integrity``: every issued document's and audit report's SHA-256 is checked again;
  each file missing or altered is reported to the technical manager once.

And the jobs that only tell people, rows of one step (``certbody.jobs.Reminder``):

- ``surveillance_reminders``: 90, 60 and 30 days before a surveillance is due, to the audit
  department and the client (004 §5.7.3); here rather than in ``audits.jobs`` because only
  programmes with a certificate in force are reminded.
- ``recertification_reminders``: 6 and 4 months before expiry, and when the application
  deadline 3 months before expiry is reached (004 §5.8.1), to the market department and the
  client.
- ``appeals``: appeals and complaints without a written result, 10 days before and after the
  60 days (004 §8.3).
- ``reporting_obligations``: reports owed after a major accident, before and after their
  deadline (002 §4.3.8.2; 004 §9.5).
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, timedelta

from django.db import transaction
from django.db.models import CharField, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat

from applications.models import Application
from audits.models import Audit, Nonconformity
from audits.selectors import unsettled_q
from certbody import dates, roles
from certbody.dates import add_months
from certbody.jobs import (
    Daily,
    Every,
    Job,
    KeyedExists,
    Reminder,
    act,
    bands,
    claim,
    client_addresses,
    latest_start_for_deadline,
    link,
    mark,
    overdue_or_soon,
    paged,
    register,
    state_in,
)
from certbody.lifecycle import system_user
from certbody.models import CertificationBody
from certbody.notifications import notify_addresses, notify_staff
from certificates import causes
from certificates import services as cert_services
from certificates.models import Appeal, Certificate, Proposal, ReportingObligation

logger = logging.getLogger("certificates.jobs")

Status = Certificate.Status
IN_FORCE = (Status.VALID, Status.SUSPENDED)

SURVEILLANCE_REMINDER_DAYS = (30, 60, 90)  # nearest first: only the latest threshold reached
RECERTIFICATION_REMINDER_MONTHS = (3, 4, 6)  # 3 = the application deadline (004 §5.8.1)
APPEAL_WARNING_DAYS = 10
OBLIGATION_WARNING_DAYS = 1
SUSPENSION_MONTHS = 6  # 004 §7.2.2: at most 6 months


def _is_head():
    """Head certificates, i.e. those without a head certificate. Written as NOT EXISTS rather
    than ``head IS NULL`` for the reason given in ``certbody.jobs.state_in``: almost every
    certificate is a head, so that index would make SQLite sort them all on each step."""
    return ~KeyedExists(Certificate.objects.filter(pk=OuterRef("head_id")))


def _in_force_head(programme_ref: str = "programme_id", statuses=IN_FORCE):
    return KeyedExists(
        Certificate.objects.filter(
            programme_id=OuterRef(programme_ref), head__isnull=True, status__in=statuses
        )
    )


def _auto_suspend() -> bool:
    try:
        return CertificationBody.get().auto_suspend_overdue_surveillance
    except CertificationBody.DoesNotExist:
        return False


# --- status changes -------------------------------------------------------------------------------


def expiry_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Expire one head certificate (with its sub-certificates) whose validity has ended.

    Valid or suspended certificates with ``expires_on`` before ``today`` (004 §7.5: expire at
    the end of validity when not renewed), through ``certificate_expire``; the market department
    and the client are told (a renewal now needs a new initial application, 004 §5.8.1).
    """
    today = dates.today(today)
    job = "expiry"
    with transaction.atomic():
        certificate = claim(
            Certificate.objects.filter(
                _is_head(), state_in("status", Status, IN_FORCE), expires_on__lt=today
            ).select_related("organization"),
            job=job,
            field="expires_on",
            threshold="expired",
            progress=progress,
        )
        if certificate is None:
            return False
        job_mark = mark(job, certificate.pk, "expired", today)
        if job_mark is None:
            return True
        system = system_user()
        done = act(
            job_mark,
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
                link=link(certificate),
            )
            notify_addresses(
                client_addresses(certificate.organization),
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
        certificate = claim(
            # cert_services.suspension_ended_due, written so that SQLite walks the deadline
            # index (see state_in and _is_head)
            Certificate.objects.filter(
                _is_head(),
                state_in("status", Status, [Status.SUSPENDED]),
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
        job_mark = mark(job, certificate.pk, certificate.threshold, today)
        if job_mark is None:
            return True
        proposals = []
        done = act(
            job_mark,
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
                job_mark.note = "已有撤销建议"
                job_mark.save(update_fields=["note"])
            return True
        job_mark.note = f"建议 #{proposal.pk}"
        job_mark.save(update_fields=["note"])
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER),
            template="suspension_ended",
            context={
                "certificate": proposal.certificate,
                "proposal": proposal,
                "cause": causes.withdrawal_cause(proposal.cause, proposal.certificate.scheme),
            },
            kind=job,
            link=link(proposal),
        )
    return True


def surveillance_overdue_step(*, today: date | None = None, progress: dict | None = None) -> bool:
    """Act on one planned surveillance audit whose due date has passed (004 §5.7.4).

    The programme's valid head certificate is suspended with cause 004 §7.2.1(6) "surveillance
    not accepted at the required interval" (CAS: 001 §9.3.2.1(4)) — from ``today`` (the day
    the system verified it) for 6 months (004 §7.2.2) — when the CB's
    ``auto_suspend_overdue_surveillance`` is on; otherwise a suspension with that cause is
    proposed to the decision makers. Once per audit.
    """
    today = dates.today(today)
    job = "surveillance_overdue"
    with transaction.atomic():
        audit = claim(
            Audit.objects.filter(
                state_in("state", Audit.State, [Audit.State.PLANNED]),
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
        job_mark = mark(job, audit.pk, "overdue", today)
        if job_mark is None:
            return True
        certificate = (
            Certificate.objects.filter(
                programme_id=audit.programme_id, head__isnull=True, status=Status.VALID
            )
            .select_related("organization")
            .first()
        )
        # 004 §7.2.1(6); CAS 001 §9.3.2.1(4): the certificate's scheme names the cause.
        table = causes.scheme_causes(certificate.scheme)
        cause = table.suspension_cause(table.surveillance_overdue)
        clause = "001 §7.1" if table.scheme == causes.CAS else "004 §5.7.4"
        reason = f"{audit}应于 {audit.due_on} 前实施，逾期未实施（{clause}）"
        system = system_user()
        context = {"audit": audit, "certificate": certificate, "cause": cause, "today": today}
        if _auto_suspend():
            ends_on = add_months(today, SUSPENSION_MONTHS)
            context["ends_on"] = ends_on
            done = act(
                job_mark,
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
                job_mark.note = f"已暂停至 {ends_on}"
                job_mark.save(update_fields=["note"])
                _tell_suspended(certificate, "surveillance_overdue_suspended", context, job)
            return True
        open_proposal = Proposal.objects.filter(
            certificate=certificate, action=Proposal.Action.SUSPEND, state=Proposal.State.OPEN
        ).first()
        # Opened for a person to decide (the system never decides alone).
        proposal = open_proposal or cert_services.proposal_open(
            certificate=certificate,
            actor=system,
            action=Proposal.Action.SUSPEND,
            cause=cause.number,
            reason=reason,
        )
        job_mark.note = f"建议 #{proposal.pk}"
        job_mark.save(update_fields=["note"])
        context["proposal"] = proposal
        notify_staff(
            roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER, roles.AUDIT_DEPARTMENT),
            template="surveillance_overdue_proposed",
            context=context,
            kind=job,
            link=link(proposal),
        )
    return True


# --- CAS: surveillance nonconformities not corrected within 2 months (001 §7.5) -------------------

CAS_NC_JOB = "cas_nonconformity_suspension"


def _cas_nonconformities_uncorrected(today: date):
    """Unsettled NCs of CAS surveillance (and special) audits past their ``due_on`` (the
    audit's end + 2 months, ``audits.rules.major_nc_due``) whose programme's head certificate is
    valid. The deadline day itself is still in time."""
    return (
        Nonconformity.objects.filter(
            unsettled_q(),
            due_on__lt=today,
            audit__kind__in=[Audit.Kind.SURVEILLANCE, Audit.Kind.SPECIAL],
            audit__programme__scheme=causes.CAS,
        )
        .filter(_in_force_head("audit__programme_id", statuses=[Status.VALID]))
        .select_related("audit__programme__organization")
    )


def cas_nonconformity_suspension_step(
    *, today: date | None = None, progress: dict | None = None
) -> bool:
    """Suspend the certificate of one CAS client whose surveillance finding was not corrected
    and verified within 2 months of the audit's end (001 §7.5: "逾期将停止使用认证证书和认证标志").

    Only certificates whose scheme is CAS: under ZXRZ an overdue NC bars the decision
    (004 §5.10.4) and is reminded (``audits.jobs`` ``nonconformity_overdue``), nothing more.
    The usual warnings come first: the NC reminders 14 and 3 days before ``due_on``
    (``audits.jobs``); this step acts from the day after ``due_on``. The programme's valid
    head certificate is suspended through ``certificate_suspend`` by the system user with the
    CAS cause ``SchemeCauses.nc_not_corrected`` (001 §9.3.2.1(7), CNCA 0199), verified and
    starting ``today``, for the scheme's 6 months (001 §9.3.2.2); the particulars name the NC
    and 001 §7.5. Decision makers, the technical manager, the audit department and the
    client are told. Once per NC (``JobMark``); once the certificate is suspended the
    client's other overdue NCs are no longer due. A refusal is recorded on the mark and told
    to the technical manager (``certbody.jobs.act``).
    """
    today = dates.today(today)
    with transaction.atomic():
        nc = claim(
            _cas_nonconformities_uncorrected(today),
            job=CAS_NC_JOB,
            field="due_on",
            threshold="suspend",
            progress=progress,
        )
        if nc is None:
            return False
        job_mark = mark(CAS_NC_JOB, nc.pk, "suspend", today)
        if job_mark is None:
            return True
        certificate = (
            Certificate.objects.filter(
                programme_id=nc.audit.programme_id, head__isnull=True, status=Status.VALID
            )
            .select_related("organization")
            .first()
        )
        table = causes.scheme_causes(certificate.scheme)
        cause = table.suspension_cause(table.nc_not_corrected)
        ends_on = add_months(today, table.max_suspension_months)
        label = f"NC-{nc.number:02d}"
        reason = (
            f"{nc.audit}开具的不符合项 {label}（{nc.clause}）应于 {nc.due_on} 前完成整改并经验证，"
            "逾期未完成，停止使用认证证书和认证标志（001 §7.5）"
        )
        done = act(
            job_mark,
            lambda: cert_services.certificate_suspend(
                certificate=certificate,
                actor=system_user(),
                cause=cause.number,
                verified_on=today,
                starts_on=today,
                ends_on=ends_on,
                reason=reason,
                evidence=f"系统于 {today} 核实：不符合项 {label} 的期限 {nc.due_on} 已过，"
                f"状态仍为“{nc.get_state_display()}”",
            ),
            label="CAS 监督不符合项逾期暂停证书",
            subject=certificate,
        )
        if done:
            job_mark.note = f"已暂停至 {ends_on}"
            job_mark.save(update_fields=["note"])
            context = {
                "nc": nc,
                "audit": nc.audit,
                "certificate": certificate,
                "cause": cause,
                "today": today,
                "ends_on": ends_on,
            }
            _tell_suspended(certificate, "cas_nonconformity_suspended", context, CAS_NC_JOB)
    return True


# --- documents ------------------------------------------------------------------------------------


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
            if problem and mark(job, document.pk, "document", today) is not None:
                found.append(f"{describe(document)}: {problem}")
        for report in AuditReport.objects.select_related("audit").order_by("pk"):
            problem = file_problem(report.file, report.sha256)
            if problem and mark(job, report.pk, "audit_report", today) is not None:
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


# --- reminders ------------------------------------------------------------------------------------


def _surveillance_due(today: date):
    far = SURVEILLANCE_REMINDER_DAYS[-1]
    return (
        Audit.objects.filter(
            state_in("state", Audit.State, [Audit.State.PLANNED]),
            kind=Audit.Kind.SURVEILLANCE,
            due_on__gte=today,
            due_on__lte=today + timedelta(days=far),
        )
        .filter(_in_force_head())
        .select_related("programme__organization")
    )


def _surveillance_bands(today: date):
    near, middle, far = SURVEILLANCE_REMINDER_DAYS
    return bands(
        (
            (f"{near}d", Q(due_on__lte=today + timedelta(days=near))),
            (f"{middle}d", Q(due_on__lte=today + timedelta(days=middle))),
        ),
        f"{far}d",
    )


def _recertification_upper(today: date) -> dict[int, date]:
    # expires_on <= upper[m]  ⟺  add_months(expires_on, -m) <= today
    return {m: latest_start_for_deadline(today, -m) for m in RECERTIFICATION_REMINDER_MONTHS}


def _recertification_due(today: date):
    """Head certificates in force within 6 months of expiry whose organisation has not applied
    for recertification since the certificate was issued."""
    first_call = RECERTIFICATION_REMINDER_MONTHS[-1]
    applied = Application.objects.filter(
        # NOT IN the other states (state_in): without statistics PostgreSQL otherwise ANDs
        # the unselective state index with the organisation's, 3 ms a due certificate.
        state_in(
            "state",
            Application.State,
            [
                Application.State.SUBMITTED,
                Application.State.UNDER_REVIEW,
                Application.State.ACCEPTED,
            ],
        ),
        organization_id=OuterRef("organization_id"),
        kind=Application.Kind.RECERTIFICATION,
        submitted_at__date__gte=OuterRef("issued_on"),
    )
    return (
        Certificate.objects.filter(
            _is_head(),
            state_in("status", Status, IN_FORCE),
            expires_on__gt=today,
            expires_on__lte=_recertification_upper(today)[first_call],
        )
        .exclude(KeyedExists(applied))
        .select_related("organization")
    )


def _recertification_bands(today: date):
    upper = _recertification_upper(today)
    deadline, last_call, first_call = RECERTIFICATION_REMINDER_MONTHS
    return bands(
        (
            (f"{deadline}m", Q(expires_on__lte=upper[deadline])),
            (f"{last_call}m", Q(expires_on__lte=upper[last_call])),
        ),
        f"{first_call}m",
    )


def _recertification_context(certificate: Certificate, today: date) -> dict:
    deadline = RECERTIFICATION_REMINDER_MONTHS[0]
    return {
        "certificate": certificate,
        "organization": certificate.organization,
        "deadline": add_months(certificate.expires_on, -deadline),
        "deadline_reached": certificate.threshold == f"{deadline}m",
    }


# The reminder table. Times are Asia/Shanghai: the night for what only asks "what is due
# today?", before office hours for what people act on; ``order`` places each job in a full pass.
REMINDERS = (
    # 90, 60 and 30 days before the due date; only the latest threshold reached is sent (an
    # audit planned 40 days ahead gets the 60-day reminder, then the 30-day one) (004 §5.7.3).
    Reminder(
        name="surveillance_reminders",
        label="监督审核提醒",
        schedule=Daily(1, 15),
        note="at night: surveillance reminders 90, 60 and 30 days before the due date",
        order=40,
        due=_surveillance_due,
        field="due_on",
        threshold=_surveillance_bands,
        roles=lambda audit: (roles.AUDIT_DEPARTMENT,),
        template="surveillance_reminder",
        context=lambda audit, today: {
            "audit": audit,
            "organization": audit.programme.organization,
            "days_left": (audit.due_on - today).days,
            "threshold": int(audit.threshold.removesuffix("d")),
        },
        client=lambda audit: audit.programme.organization,
        client_template="surveillance_reminder_client",
    ),
    # From 6 months before expiry, again at 4 (a month before the deadline) and when the
    # application deadline 3 months before expiry is reached (004 §5.8.1: a later application
    # is a new initial application); none once a recertification application was submitted.
    Reminder(
        name="recertification_reminders",
        label="再认证提醒",
        schedule=Daily(1, 20),
        note="at night: recertification reminders 6 and 4 months before expiry and at the deadline",
        order=50,
        due=_recertification_due,
        field="expires_on",
        threshold=_recertification_bands,
        roles=lambda certificate: (roles.MARKET,),
        template="recertification_reminder",
        context=_recertification_context,
        client=lambda certificate: certificate.organization,
        client_template="recertification_reminder_client",
    ),
    # No written result 10 days before the 60 days run out ("soon") and once they have
    # ("overdue") (004 §8.3; 001 §10); to its handler and the technical manager.
    Reminder(
        name="appeals",
        label="申诉投诉处理期限",
        schedule=Daily(8, 30),
        note="before office hours: appeals and complaints close to or past the 60 days",
        order=110,
        due=lambda today: (
            Appeal.objects.filter(due_on__lte=today + timedelta(days=APPEAL_WARNING_DAYS))
            .exclude(state=Appeal.State.DECIDED)
            .select_related("handler")
        ),
        field="due_on",
        threshold=lambda today: overdue_or_soon("due_on", today),
        roles=lambda appeal: (roles.TECHNICAL_MANAGER,),
        users=lambda appeal: [appeal.handler] if appeal.handler_id else [],
        template="appeal_due",
        context=lambda appeal, today: {
            "appeal": appeal,
            "overdue": appeal.threshold == "overdue",
        },
    ),
    # Reports owed after a major accident (CNAS within 10 days, 002 §4.3.8.2; the local
    # regulator within 2 working days, 004 §9.5), the day before and once overdue.
    Reminder(
        name="reporting_obligations",
        label="重大事故报告期限",
        schedule=Daily(8, 35),
        note="before office hours: accident reports close to or past their deadline",
        order=120,
        due=lambda today: ReportingObligation.objects.filter(
            done_on__isnull=True,
            due_on__lte=today + timedelta(days=OBLIGATION_WARNING_DAYS),
        ),
        field="due_on",
        threshold=lambda today: overdue_or_soon("due_on", today),
        roles=lambda obligation: (roles.TECHNICAL_MANAGER, roles.REPORTING_OFFICER),
        template="obligation_due",
        context=lambda obligation, today: {
            "obligation": obligation,
            "overdue": obligation.threshold == "overdue",
        },
    ),
)


# Times are Asia/Shanghai; ``order`` places each job in a full pass (``certbody.jobs.run_all``):
# certificates' status changes first, so the reminders and reports of the pass read them.
for _job in (
    Job(
        "expiry",
        "证书到期失效",
        expiry_step,
        Daily(0, 5),
        "just after midnight: certificates past their expiry become expired",
        order=10,
        batch=paged(expiry_step),
    ),
    Job(
        "suspension_ended",
        "暂停期满建议撤销",
        suspension_ended_step,
        Daily(1, 10),
        "at night, after expiry: suspension periods ended",
        order=20,
        batch=paged(suspension_ended_step),
    ),
    Job(
        CAS_NC_JOB,
        "CAS 监督不符合项逾期暂停",
        cas_nonconformity_suspension_step,
        Daily(1, 12),
        "at night, after expiry: CAS surveillance nonconformities not corrected within 2 months "
        "suspend the certificate (001 §7.5)",
        order=35,
        batch=paged(cas_nonconformity_suspension_step),
    ),
    Job(
        "surveillance_overdue",
        "监督审核逾期",
        surveillance_overdue_step,
        Daily(1, 10),
        "at night, after expiry: overdue surveillance",
        order=30,
        batch=paged(surveillance_overdue_step),
    ),
    *(reminder.job() for reminder in REMINDERS),
    Job(
        "pending_documents",
        "待生成的证书和通知书",
        pending_document_step,
        Every(10),
        "around the clock: certificates and notices whose PDF is still pending are rendered "
        "when their retry is due",
        order=170,
    ),
    Job(
        "document_integrity",
        "已签发文件完整性校验",
        document_integrity_step,
        Daily(3, 30, weekday=calendar.SUNDAY),
        "on Sunday night, reading every stored file once a week: issued documents and audit "
        "reports whose SHA-256 no longer matches",
        order=190,
    ),
):
    register(_job)


def _tell_suspended(certificate, template: str, context: dict, kind: str) -> None:
    """Tell the technical manager, the decision makers, the audit department (``template``)
    and the client (``<template>_client``) that a job suspended ``certificate``."""
    notify_staff(
        roles=(roles.TECHNICAL_MANAGER, roles.DECISION_MAKER, roles.AUDIT_DEPARTMENT),
        template=template,
        context=context,
        kind=kind,
        link=link(certificate),
    )
    notify_addresses(
        client_addresses(certificate.organization),
        template=f"{template}_client",
        context=context,
    )
