"""Read-only queries and checks of the certificates app (HackSoft's selectors): nothing here
writes. The services (``certificates.services``) sit above this module and use it; the desks
use it too. Checks return the reasons in words (empty when nothing stands in the way).
"""

import logging
from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext

from applications.models import Application
from audits import rules, scoring
from audits import selectors as audit_selectors
from audits import services as audit_services
from audits.models import (
    Audit,
    AuditProgramme,
    Nonconformity,
    ScoreSheet,
)
from certbody import workdays
from certificates.models import (
    Appeal,
    Certificate,
    Proposal,
)

logger = logging.getLogger("certificates.services")


def submitted_sheet(audit: Audit) -> ScoreSheet | None:
    """The audit's submitted score sheet or None, with its number of special deductions
    (``deduction_count``) counted in the same query for ``evaluation_failure``."""
    return (
        ScoreSheet.objects.filter(audit=audit, state=ScoreSheet.State.SUBMITTED)
        .annotate(deduction_count=Count("deductions"))
        .first()
    )


def evaluation_failure(sheet: ScoreSheet) -> str:
    """Why the evaluation of a submitted score sheet failed, or "" when it passed.

    Fails when the stored result says so, the score is below 70 points, or there are 5 or
    more special deductions (004 §5.6.5.3 (2); 001 §6.5) — checked on the stored score and
    the deduction rows, so an inconsistent stored ``passed`` never lets a failure through.
    """
    deductions = getattr(sheet, "deduction_count", None)
    if deductions is None:  # a sheet not read by ``submitted_sheet``
        deductions = sheet.deductions.count()
    if (
        sheet.passed
        and sheet.score >= scoring.PASS_THRESHOLD
        and deductions <= scoring.MAX_SPECIAL_DEDUCTIONS
    ):
        return ""
    return gettext(
        "score %(score)s, %(deductions)s special deductions (below %(threshold)s points or "
        "%(limit)s special deductions fail)"
    ) % {
        "score": sheet.score,
        "deductions": deductions,
        "threshold": scoring.PASS_THRESHOLD,
        "limit": scoring.MAX_SPECIAL_DEDUCTIONS + 1,
    }


def nonconformities_blocking_decision(audit: Audit) -> list[Nonconformity]:
    """Nonconformities that stop a grant or maintain decision on ``audit`` (004 §5.10.4).

    Those of ``audit`` and of every audit of its programme that ended no later than it (for a
    recertification also those of the cycle being renewed) that are not settled: a major
    not verified and closed, a minor whose corrective action (plan) is not accepted
    (``Nonconformity.is_settled``, 004 §5.12.2(2)). Ordered by audit and number.
    """
    programmes = [audit.programme_id]
    if audit.kind == Audit.Kind.RECERTIFICATION:
        programmes += list(
            AuditProgramme.objects.filter(
                organization_id=audit.programme.organization_id,
                cycle=audit.programme.cycle - 1,
            ).values_list("pk", flat=True)
        )
    # A terminated audit may have raised NCs without an end date; an audit still running is
    # later than this one and not counted.
    scope = Q(audit=audit) | Q(
        audit__programme_id__in=programmes,
        audit__actual_end__isnull=True,
        audit__state=Audit.State.TERMINATED,
    )
    if audit.actual_end:
        scope |= Q(audit__programme_id__in=programmes, audit__actual_end__lte=audit.actual_end)
    return list(
        Nonconformity.objects.filter(scope)
        .filter(audit_selectors.unsettled_q())
        .select_related("audit")
        .order_by("audit__actual_end", "audit_id", "number")
    )


def unsettled_text(ncs: list[Nonconformity]) -> list[str]:
    majors = [nc for nc in ncs if nc.severity == Nonconformity.Severity.MAJOR]
    minors = [nc for nc in ncs if nc.severity != Nonconformity.Severity.MAJOR]
    parts = []
    if majors:
        parts.append(
            gettext("Major nonconformities not verified and closed: %(ncs)s")
            % {"ncs": gettext(", ").join(_nc_label(nc) for nc in majors)}
        )
    if minors:
        parts.append(
            gettext("Minor nonconformities whose corrective action (plan) is not accepted: %(ncs)s")
            % {"ncs": gettext(", ").join(_nc_label(nc) for nc in minors)}
        )
    return parts


def _nc_label(nc: Nonconformity) -> str:
    return gettext("%(audit)s NC-%(number)s (%(state)s)") % {
        "audit": nc.audit.get_kind_display(),
        "number": f"{nc.number:02d}",
        "state": nc.get_state_display(),
    }


def surveillance_conclusion_failures(
    audit: Audit, *, certificate: Certificate, sheet: ScoreSheet
) -> list[str]:
    """Why a team leader's positive conclusion cannot maintain ``certificate`` after the
    surveillance ``audit`` scored on ``sheet`` (004 §5.12.6 (1), (2); §5.10.4; 001 §7.5).

    Empty when it can. Each reason is a sentence in Chinese naming its clause. Under the CAS
    scheme (the certificate's) the first reason is always that a decision maker evaluates the
    surveillance result (001 §7.5): 004 §5.12.6 is the ZXRZ rule.
    """
    failures = []
    if certificate.scheme == rules.SCHEME_CAS:
        failures.append(
            gettext(
                "Under the CAS rules a decision maker evaluates the surveillance result (001 §7.5)"
            )
        )
    majors = audit.nonconformities.filter(severity=Nonconformity.Severity.MAJOR)
    if majors.exists():
        failures.append(
            gettext("The surveillance audit found major nonconformities: %(ncs)s (004 §5.12.6(1))")
            % {"ncs": gettext(", ").join(f"NC-{nc.number:02d}" for nc in majors)}
        )
    unsettled = nonconformities_blocking_decision(audit)
    if unsettled:
        failures.append(
            gettext("%(ncs)s (004 §5.10.4)")
            % {"ncs": gettext("; ").join(unsettled_text(unsettled))}
        )
    failed = evaluation_failure(sheet)
    if failed:
        failures.append(
            gettext("The service evaluation failed: %(failed)s (004 §5.6.5.3; 001 §7.5)")
            % {"failed": failed}
        )
    elif scoring.grade_rank(sheet.grade) < scoring.grade_rank(certificate.star_grade):
        failures.append(
            gettext(
                "The service evaluation gave %(grade)s, below the certificate's %(held)s (001 §7.5)"
            )
            % {
                "grade": audit_selectors.grade_label(sheet.grade),
                "held": audit_selectors.grade_label(certificate.star_grade),
            }
        )
    if certificate.status != Certificate.Status.VALID:
        failures.append(
            gettext("The certificate is %(status)s (004 §5.12.6(1))")
            % {"status": certificate.get_status_display()}
        )
    open_actions = sorted(
        {
            Proposal.Action(a).label
            for a in Proposal.objects.filter(
                certificate=certificate, state=Proposal.State.OPEN
            ).values_list("action", flat=True)
        }
    )
    if open_actions:
        failures.append(
            gettext("The certificate has open proposals: %(actions)s (004 §5.12.6(1))")
            % {"actions": gettext(", ").join(str(a) for a in open_actions)}
        )
    pending = pending_changes(audit, certificate)
    if pending:
        failures.append(
            gettext(
                "Changes of the client's certification information or scope are pending: "
                "%(changes)s"
            )
            % {"changes": gettext(", ").join(pending)}
        )
    return failures


def pending_changes(audit: Audit, certificate: Certificate) -> list[str]:
    """Changes of certificate information or scope not yet carried out (004 §5.12.6(2)): a
    change application not yet decided, or accepted after the certificate's last (re)issue; a
    scope extension audit of the programme not yet closed."""
    since = certificate.reissued_on or certificate.issued_on
    changes = Application.objects.filter(
        organization_id=certificate.organization_id, kind=Application.Kind.CHANGE
    ).filter(
        Q(state__in=[Application.State.SUBMITTED, Application.State.UNDER_REVIEW])
        | Q(state=Application.State.ACCEPTED, decided_at__date__gte=since)
    )
    pending = [
        gettext("change application %(reference)s (%(state)s)")
        % {"reference": a.reference, "state": a.get_state_display()}
        for a in changes
    ]
    extensions = Audit.objects.filter(
        programme_id=audit.programme_id,
        kind=Audit.Kind.SPECIAL,
        special_kind=Audit.SpecialKind.SCOPE_EXTENSION,
    ).exclude(state__in=[Audit.State.CLOSED, Audit.State.TERMINATED])
    pending += [
        gettext("scope extension audit (%(state)s)") % {"state": a.get_state_display()}
        for a in extensions
    ]
    return pending


def current_certificate(organization_id: int) -> Certificate | None:
    return (
        Certificate.objects.filter(
            organization_id=organization_id,
            head__isnull=True,
            status__in=[Certificate.Status.VALID, Certificate.Status.SUSPENDED],
        )
        .order_by("-expires_on")
        .first()
    )


def working_day_deadline(verified_on: date, days: int = 5) -> tuple[date, str]:
    """The last day of "within ``days`` working days after ``verified_on``" and a note.

    The note is empty, or says that a year of the span has no published holiday calendar and
    the deadline counted Monday–Friday (domain.md §19); it is also logged as a warning.
    """
    deadline = workdays.add_working_days(verified_on, days)
    years = sorted(workdays.provisional_years(verified_on, deadline))
    if not years:
        return deadline, ""
    logger.warning(
        "deadline %s (%s working days after %s) counted Monday–Friday: "
        "no published calendar for %s",
        deadline,
        days,
        verified_on,
        ", ".join(map(str, years)),
    )
    listed = gettext(", ").join(gettext("year %(year)s") % {"year": year} for year in years)
    return deadline, gettext(
        "The public holidays of %(years)s are not published yet: the deadline counts Monday to "
        "Friday and is only a guide"
    ) % {"years": listed}


def open_proposal(certificate: Certificate, action: str) -> Proposal | None:
    return Proposal.objects.filter(
        certificate=certificate, action=action, state=Proposal.State.OPEN
    ).first()


def suspension_ended_due(*, today: date):
    """Head certificates still suspended after their suspension period (``suspended_until``
    before ``today``, a local date): each is due a withdrawal proposal (004 §7.3.1(7)) unless
    ``suspension_ended_propose`` finds one open or already decided for this suspension. A plain
    filter on the indexed deadline, so the periodic job can walk it in deadline order."""
    return Certificate.objects.filter(
        head__isnull=True, status=Certificate.Status.SUSPENDED, suspended_until__lt=today
    )


def appeal_involved_user_ids(appeal: Appeal) -> set[int]:
    """Everyone involved in the matter of ``appeal`` (004 §8.3; 001 §10): the audit team and the
    decision maker of the decision or audit concerned, and whoever changed the status of the
    certificate concerned."""
    ids: set[int] = set()
    decisions = []
    audits = []
    if appeal.decision_id:
        decisions.append(appeal.decision)
    if appeal.audit_id:
        audits.append(appeal.audit)
        decisions.extend(appeal.audit.decisions.all())
    if appeal.certificate_id:
        certificate = appeal.certificate.head or appeal.certificate
        if certificate.decision_id:
            decisions.append(certificate.decision)
        ids |= set(certificate.events.values_list("actor_id", flat=True))
    for decision in decisions:
        ids.add(decision.decided_by_id)
        audits.append(decision.audit)
    for audit in audits:
        ids |= audit_services.audit_team_user_ids(audit)
    return ids
