"""Shared guards of the certificate services: small checks that raise ``RuleViolation`` with
the clause (dates not in the future, head certificates only, the 5-working-day window, known
CNCA reason codes). They change nothing; the services call them before writing.
"""

from datetime import date

from django.db.models import Min
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications import selectors as fee_selectors
from applications.models import Contract
from audits import selectors as audit_selectors
from audits import services as audit_services
from audits.models import Audit, Auditor, AuditReport, ScoreSheet
from certbody import dates
from certbody.lifecycle import RuleViolation, require_transition
from certbody.reference import cnca_label
from certificates import causes, selectors
from certificates.models import Certificate, Decision


def not_future(day: date, what: str) -> None:
    if day > dates.today():
        raise RuleViolation(gettext("%(what)s cannot be later than today.") % {"what": what})


def head_only(certificate: Certificate) -> None:
    if certificate.head_id is not None:
        raise RuleViolation(
            gettext("A sub-certificate follows its head certificate: act on the head certificate."),
            "004 附录C.2",
        )


def reason_label(table: str, reason_code: str, rule: str) -> str:
    label = cnca_label(table, reason_code)
    if not label:
        raise RuleViolation(gettext("Unknown reason code: %(code)s") % {"code": reason_code}, rule)
    return label


def within_working_days(verified_on: date, acted_on: date, *, what: str, rule: str) -> str:
    """Refuse ``acted_on`` outside [verified_on, verified_on + 5 working days] (004 §7.2.1,
    §7.3.1); returns the provisional-calendar note (may be empty)."""
    not_future(verified_on, _("The verification date"))
    if acted_on < verified_on:
        raise RuleViolation(
            gettext(
                "The %(what)s date cannot be earlier than the verification date (%(verified)s)."
            )
            % {"what": what, "verified": verified_on},
            rule,
        )
    deadline, note = selectors.working_day_deadline(verified_on)
    if acted_on > deadline:
        extra = gettext("; ") + note if note else ""
        raise RuleViolation(
            gettext(
                "The %(what)s must be within 5 working days of the verification: verified on "
                "%(verified)s, at the latest %(deadline)s, not %(day)s%(extra)s"
            )
            % {
                "what": what,
                "verified": verified_on,
                "deadline": deadline,
                "day": acted_on,
                "extra": extra,
            },
            rule,
        )
    return note


def suspension_cause(table: causes.SchemeCauses, number) -> causes.Cause:
    """The suspension cause ``number`` of the certificate's scheme (``table``); a number not in
    the table is refused with the scheme's clause (004 §7.2.1; 001 §9.3.2.1)."""
    try:
        return table.suspension_cause(number)
    except ValueError:
        raise RuleViolation(
            gettext("Unknown suspension cause: %(cause)s") % {"cause": number},
            table.suspension_rule,
        ) from None


def withdrawal_cause(table: causes.SchemeCauses, number) -> causes.Cause:
    """The withdrawal cause ``number`` of the certificate's scheme (``table``); a number not in
    the table is refused with the scheme's clause (004 §7.3.1; 001 §9.3.3.1)."""
    try:
        return table.withdrawal_cause(number)
    except ValueError:
        raise RuleViolation(
            gettext("Unknown withdrawal cause: %(cause)s") % {"cause": number},
            table.withdrawal_rule,
        ) from None


# The outcomes each kind of audit can lead to (004 §5.12; §5.12.6 for surveillance).
ALLOWED_OUTCOMES = {
    Audit.Kind.STAGE2: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.RECERTIFICATION: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.SURVEILLANCE: {Decision.Outcome.MAINTAIN},
    Audit.Kind.SPECIAL: {Decision.Outcome.MAINTAIN},
}
NC_RULE = "004 §5.12.2(2)、§5.10.4"
EVALUATION_RULE = "004 §5.6.5.3；001 §6.5"


def decision_allowed(
    audit: Audit, *, actor, outcome: str, decided_on: date | None = None
) -> ScoreSheet | None:
    """Refuse the decision ``outcome`` on ``audit`` by ``actor`` (``RuleViolation`` with the
    clause) for what ``decision_make`` forbids whatever its form holds, and, with
    ``decided_on`` (a local date), what that date adds: the actor on the team or with a
    declared interest (004 §5.12.1, §4.3); the audit not completed (004 §5.12); the actor not
    full-time (004 §5.12.1, §12.1.3); an outcome the audit kind cannot lead to; a date before
    the audit's end; no audit report signed by the team leader (on or before ``decided_on``;
    004 §5.12.1); an initial decision after its 6 months or a recertification after the
    expiry (004 §5.12.3, §5.8.4); for a grant or maintain, nonconformities unsettled or
    verified late (004 §5.12.2(2), §5.10.4); for a grant, no signed-off score sheet or a
    failed evaluation (004 §5.6.5.3). ``None`` checks what holds for any date.

    Returns the submitted score sheet it checked for a grant (None for other outcomes), so
    the caller need not read it again.
    """
    failures = audit_services.decision_maker_check(audit=audit, user=actor)
    if failures:
        raise RuleViolation(gettext("; ").join(failures))
    if audit.state != Audit.State.COMPLETED:
        raise RuleViolation(
            gettext("A certification decision is made once the audit is completed."),
            "004 §5.12",
        )
    # Full-time certification staff under the CB's control decide (004 §5.12.1; the
    # definition of full-time is 004 §12.1.3), read from the person's auditor record.
    if not Auditor.objects.filter(user=actor, is_full_time=True).exists():
        raise RuleViolation(
            _(
                "%(actor)s is not registered as full-time certification staff: only "
                "full-time staff make certification decisions."
            )
            % {"actor": actor},
            "004 §5.12.1; 004 §12.1.3",
        )
    if outcome not in ALLOWED_OUTCOMES.get(audit.kind, set()):
        raise RuleViolation(
            gettext("A %(kind)s cannot lead to the decision %(outcome)s.")
            % {"kind": audit.get_kind_display(), "outcome": Decision.Outcome(outcome).label}
        )
    if decided_on is not None and audit.actual_end and decided_on < audit.actual_end:
        raise RuleViolation(gettext("The decision cannot be earlier than the end of the audit."))
    # The decision rests on the team leader's signed audit report (004 §5.12.1, §5.11.2).
    # One query: a report signed on or before the date exists when the first signed is.
    first_signed = AuditReport.objects.filter(
        audit=audit, kind=AuditReport.Kind.REPORT, signed_on__isnull=False
    ).aggregate(first=Min("signed_on"))["first"]
    if first_signed is None:
        raise RuleViolation(
            _("No audit report signed by the team leader: the decision rests on it."),
            "004 §5.12.1",
        )
    if decided_on is not None and first_signed > decided_on:
        raise RuleViolation(
            _(
                "No audit report signed by the team leader on or before %(day)s: the "
                "decision rests on it."
            )
            % {"day": decided_on},
            "004 §5.12.1",
        )
    if outcome == Decision.Outcome.GRANT and decided_on is not None:
        if audit.kind == Audit.Kind.STAGE2 and decided_on > audit.decision_due_on:
            raise RuleViolation(
                gettext(
                    "An initial decision is made within 6 months of the stage 2 audit; "
                    "otherwise stage 2 is audited again."
                ),
                "004 §5.12.3",
            )
        if audit.kind == Audit.Kind.RECERTIFICATION:
            current = selectors.current_certificate(audit.programme.organization_id)
            if current is not None and decided_on > current.expires_on:
                raise RuleViolation(
                    gettext(
                        "A recertification decision is made before the current certificate "
                        "expires; otherwise stage 2 is audited again."
                    ),
                    "004 §5.8.4",
                )
    if outcome in (Decision.Outcome.GRANT, Decision.Outcome.MAINTAIN):
        unsettled = selectors.nonconformities_blocking_decision(audit)
        if unsettled:
            raise RuleViolation(
                gettext(
                    "Nonconformities are not settled as required, so the decision %(outcome)s "
                    "cannot be made: %(ncs)s"
                )
                % {
                    "outcome": Decision.Outcome(outcome).label,
                    "ncs": gettext("; ").join(selectors.unsettled_text(unsettled)),
                },
                NC_RULE,
            )
        # Settled, but after the deadline: the client did not complete its actions in
        # time, which bars this decision all the same (004 §5.10.4).
        late = audit_selectors.late_nonconformities(audit)
        if late:
            raise RuleViolation(
                _("Nonconformities verified after their due date bar this decision: %(ncs)s.")
                % {"ncs": ", ".join(f"NC-{nc.number:02d} ({nc.due_on})" for nc in late)},
                "004 §5.10.4",
            )
    if outcome == Decision.Outcome.GRANT:
        sheet = selectors.submitted_sheet(audit)
        if sheet is None:
            raise RuleViolation(
                gettext(
                    "A grant needs the service evaluation checklist (score and star grade) "
                    "signed off by the team leader."
                ),
                "004 §5.6.5.3",
            )
        failed = selectors.evaluation_failure(sheet)
        if failed:
            raise RuleViolation(
                gettext(
                    "The service evaluation failed, so certification cannot be granted: %(failed)s"
                )
                % {"failed": failed},
                EVALUATION_RULE,
            )
        return sheet
    return None


def fees_paid(application) -> None:
    """004 §5.3.2(1): a certificate goes to an organisation that has paid its certification
    fees. Refused while an invoice of the application's contract for certification fees is
    unpaid and not waived by the technical manager; no invoice recorded, no block."""
    contract = Contract.objects.filter(application=application).first()
    unpaid = fee_selectors.unpaid_certification_invoices(contract)
    if not unpaid:
        return
    raise RuleViolation(
        gettext(
            "The certification fees are not paid: %(invoices)s. The certificate is issued "
            "once they are paid or the technical manager records a waiver."
        )
        % {
            "invoices": gettext("; ").join(
                gettext("invoice %(number)s of %(amount)s CNY, %(unpaid)s CNY unpaid")
                % {"number": row.invoice.number, "amount": row.invoice.amount, "unpaid": row.unpaid}
                for row in unpaid
            )
        },
        "004 §5.3.2(1)",
    )


def grant_possible(audit: Audit, actor) -> None:
    """What keeps ``actor`` from granting on ``audit`` whatever the date and grade entered:
    ``decision_allowed`` for a grant, then the certificate issue the grant makes in the same
    transaction (``fees_paid``, 004 §5.3.2(1))."""
    decision_allowed(audit, actor=actor, outcome=Decision.Outcome.GRANT)
    fees_paid(audit.programme.application)


def status_change_open(certificate: Certificate, transition: str) -> None:
    """A status change acts on a head certificate (004 Appendix C.2) whose status allows
    ``transition`` (``suspend``, ``restore``, ``withdraw``, ``cancel``)."""
    head_only(certificate)
    require_transition(certificate, transition, label="证书")


def reissuable(certificate: Certificate) -> None:
    """Only a valid head certificate is reissued (004 Appendix C.3, C.2)."""
    head_only(certificate)
    if certificate.status != Certificate.Status.VALID:
        raise RuleViolation(
            gettext("The certificate is %(status)s: only a valid certificate is reissued.")
            % {"status": certificate.get_status_display()},
            "004 附录C.3",
        )
