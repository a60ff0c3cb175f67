"""Certification decisions (004 §5.12; 001 §6.6) and the team leader's surveillance conclusion
(004 §5.12.6; 001 §7.5): a grant issues the certificate, a refusal and a maintain produce their
notices, a failed or lower surveillance evaluation opens its proposal.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES
from audits import rules, scoring
from audits import selectors as audit_selectors
from audits import services as audit_services
from audits.models import (
    Audit,
)
from certbody import policy
from certbody.lifecycle import RuleViolation, lock, record
from certbody.models import CertificationBody
from certificates import guards, selectors
from certificates.models import (
    Certificate,
    CertificateDocument,
    Decision,
    Proposal,
)
from certificates.services.issue import certificate_issue
from certificates.services.notices import notice_issue
from certificates.services.proposals import proposal_open

ALLOWED_OUTCOMES = guards.ALLOWED_OUTCOMES
NC_RULE = guards.NC_RULE


# A failed surveillance evaluation: the system fails the requirements (004 §7.2.1(1)).
SURVEILLANCE_FAILED_CAUSE = 1


EVALUATION_RULE = guards.EVALUATION_RULE


def decision_make(
    *,
    audit: Audit,
    actor,
    outcome: str,
    decided_on: date,
    star_grade: str = "",
    reasons: str = "",
) -> Decision:
    """Record a certification decision on a completed audit and carry it out.

    ``outcome``: ``Decision.Outcome`` (grant or refuse for stage 2 and recertification,
    maintain for surveillance and special audits). ``decided_on``: local date. ``star_grade``:
    optional for a grant; the grade comes from the audit's submitted score sheet and, when
    given, must equal it (004 §5.6.5.3). A grant issues the certificate at the sheet's grade
    (``certificate_issue``); every decision closes the audit.

    Refused (RuleViolation) when: the actor is not a decision maker; the actor was on the
    audit team (004 §5.12.1) or declared an interest in the client (004 §4.3); the audit is
    not completed; the outcome does not fit the audit kind; an initial decision falls more
    than 6 months after stage 2 ended (004 §5.12.3); a recertification decision falls after
    the current certificate's expiry (004 §5.8.4); the date is before the audit's end or in
    the future; a refusal gives no reasons (004 §5.12.5); a grant or maintain while a
    nonconformity of the audit, or of an earlier audit of the programme (for a
    recertification also of the cycle it renews), is not settled — majors not verified and
    closed, minors without an accepted corrective action plan (004 §5.12.2(2), §5.10.4); a
    grant without a score sheet signed off by the team leader, with a failed evaluation
    (score below 70 or 5 or more special deductions), or with a ``star_grade`` other than the
    sheet's (004 §5.6.5.3; 001 §6.5); an actor without a full-time auditor record
    (``Auditor.is_full_time``; 004 §5.12.1, §12.1.3); no audit report signed by the team leader
    on or before ``decided_on`` (004 §5.12.1); a grant or maintain when a nonconformity of the
    audit was verified after its due date (``audits.selectors.verified_late``; 004 §5.10.4).

    Notices: a grant's approval notice comes with the certificate; a refusal produces the
    refusal notice with the reasons (004 §5.12.5); a maintain decision produces the surveillance
    maintenance notice (002 §4.1.2) for the client's valid certificate.
    """
    # The role (004 §5.12.1); not having been on the team nor declared an interest is the rule
    # check below (audits.services.decision_maker_check), with its clause.
    policy.require(actor, "certificates.decide")
    if outcome not in Decision.Outcome.values:
        raise RuleViolation(gettext("Unknown decision: %(outcome)s") % {"outcome": outcome})
    if star_grade and star_grade not in dict(GRADE_CHOICES):
        raise RuleViolation(gettext("Unknown star grade: %(grade)s") % {"grade": star_grade})
    with transaction.atomic():
        # The programme is read by the checks (the team, the client), its organisation and
        # application by a grant's issue: with the locked row.
        audit = (
            Audit.objects.select_for_update(of=("self",))
            .select_related("programme__organization", "programme__application")
            .get(pk=audit.pk)
        )
        if decided_on > timezone.localdate():
            raise RuleViolation(gettext("The decision date cannot be later than today."))
        if outcome == Decision.Outcome.REFUSE and not reasons.strip():
            raise RuleViolation(
                gettext("A refusal states in writing why certification was not granted."),
                "004 §5.12.5",
            )
        sheet = guards.decision_allowed(audit, actor=actor, outcome=outcome, decided_on=decided_on)
        if outcome == Decision.Outcome.GRANT:
            if star_grade and star_grade != sheet.grade:
                raise RuleViolation(
                    gettext(
                        "The star grade follows the service evaluation: it gave %(grade)s, so "
                        "%(asked)s cannot be granted"
                    )
                    % {
                        "grade": audit_selectors.grade_label(sheet.grade),
                        "asked": audit_selectors.grade_label(star_grade),
                    },
                    "004 §5.6.5.3",
                )
            star_grade = sheet.grade
        decision = Decision(
            audit=audit,
            outcome=outcome,
            decided_by=actor,
            decided_on=decided_on,
            basis=Decision.Basis.DECISION_MAKER,
            star_grade=star_grade if outcome == Decision.Outcome.GRANT else "",
            reasons=reasons,
        )
        record(decision, actor=actor, reason="认证决定")
        decision.save()
        audit_services.audit_close(audit=audit, actor=actor, reason="认证决定后关闭", locked=True)
        if outcome == Decision.Outcome.GRANT:
            certificate_issue(decision=decision, actor=actor, new_decision=True)
        elif outcome == Decision.Outcome.REFUSE:
            _refusal_notice(decision, actor)
        else:
            _maintenance_notice(decision, actor)
            _maintained_surveillance_proposal(audit, actor)
    return decision


def _maintained_surveillance_proposal(audit: Audit, actor) -> Proposal | None:
    """A decision maker maintained after a surveillance whose evaluation failed or fell below
    the certificate's grade: the suspension or reissue proposal still follows (001 §7.5), as
    it does on the team leader's conclusion."""
    if audit.kind != Audit.Kind.SURVEILLANCE:
        return None
    sheet = selectors.submitted_sheet(audit)
    current = selectors.current_certificate(audit.programme.organization_id)
    if sheet is None or current is None:
        return None
    return _surveillance_proposal(audit, lock(Certificate, current.pk), sheet, actor)


def surveillance_conclude(
    *,
    audit: Audit,
    actor,
    concluded_on: date,
    positive: bool,
    note: str = "",
) -> Decision | Proposal | None:
    """The team leader's conclusion on a completed surveillance audit (004 §5.12.6; 001 §7.5).

    ``actor``: the audit's team leader. ``concluded_on``: local date, not in the future nor
    before the audit's end. ``positive``: the leader's conclusion; ``note``: its text, kept as
    the decision's reasons. The audit needs a score sheet signed off by the leader.

    A positive conclusion maintains the certificate without a separate decision — a
    ``Decision`` with outcome maintain, basis ``team_leader_conclusion``, decided by the
    leader; the audit is closed and the maintenance notice issued — only when
    (``surveillance_conclusion_failures`` is empty): no major nonconformity was raised at this
    audit and every nonconformity is settled (004 §5.12.6(1), §5.10.4); the evaluation passed
    at or above the certificate's star grade; the certificate is valid and has no open
    suspension, withdrawal or reissue proposal (004 §5.12.6(1)); no change of the certificate's
    information or scope is pending (004 §5.12.6(2)).

    Under the CAS scheme (the certificate's) the leader's conclusion never maintains: a
    decision maker evaluates the surveillance result (001 §7.5); a positive conclusion is
    refused with rule 001 §7.5 unless a proposal follows, as below.

    Otherwise the audit stays completed for a decision maker (``decision_make`` maintain), and:

    - a failed evaluation opens a suspension proposal (cause 004 §7.2.1(1); 001 §7.5) and
      returns it;
    - a passed evaluation below the certificate's grade opens a reissue proposal at the grade
      achieved (001 §7.5) and returns it;
    - otherwise a negative conclusion returns None, and a positive one is refused
      (RuleViolation listing the reasons, rule 004 §5.12.6).

    An open proposal of the same action is reused, not duplicated. Also refused: not the
    team leader, not a completed surveillance audit, no submitted score sheet, no valid or
    suspended certificate.
    """
    policy.require(actor, "certificates.conclude_surveillance", audit)
    guards.not_future(concluded_on, _("The conclusion date"))
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.kind != Audit.Kind.SURVEILLANCE:
            raise RuleViolation(
                gettext("Only a surveillance audit is maintained on the team leader's conclusion."),
                "004 §5.12.6",
            )
        if audit.state != Audit.State.COMPLETED:
            raise RuleViolation(
                gettext("The audit is %(state)s: the conclusion follows a completed surveillance.")
                % {"state": audit.get_state_display()},
                "004 §5.12.6",
            )
        if audit.actual_end and concluded_on < audit.actual_end:
            raise RuleViolation(
                gettext("The conclusion date cannot be earlier than the end of the audit.")
            )
        sheet = selectors.submitted_sheet(audit)
        if sheet is None:
            raise RuleViolation(
                gettext(
                    "A surveillance conclusion needs the service evaluation checklist signed off "
                    "by the team leader."
                ),
                "004 §5.6.5.3",
            )
        current = selectors.current_certificate(audit.programme.organization_id)
        if current is None:
            raise RuleViolation(
                gettext("The organisation has no valid or suspended certificate to maintain.")
            )
        certificate = lock(Certificate, current.pk)
        failures = selectors.surveillance_conclusion_failures(
            audit, certificate=certificate, sheet=sheet
        )
        if positive and audit.recommendation_positive is False:
            failures.insert(
                0,
                gettext(
                    "At completion the audit team recommended not to maintain certification "
                    "(004 §5.11.3(19))"
                ),
            )
        if not positive:
            failures.insert(0, gettext("The team leader concluded not to maintain certification"))
        # 001 §7.5: under CAS a decision maker evaluates (a failure listed by the selector).
        cas = certificate.scheme == rules.SCHEME_CAS
        if not failures:
            decision = Decision(
                audit=audit,
                outcome=Decision.Outcome.MAINTAIN,
                decided_by=actor,
                decided_on=concluded_on,
                basis=Decision.Basis.TEAM_LEADER_CONCLUSION,
                reasons=note.strip() or "监督审核组长肯定性结论，保持认证（004 §5.12.6）",
            )
            record(decision, actor=actor, reason="组长结论保持认证")
            decision.save()
            audit_services.audit_close(audit=audit, actor=actor, reason="组长结论保持认证")
            _maintenance_notice(decision, actor)
            return decision
        proposal = _surveillance_proposal(audit, certificate, sheet, actor)
        if proposal is not None:
            return proposal
        if not positive:
            return None
    raise RuleViolation(
        gettext(
            "Certification cannot be maintained on the team leader's conclusion; a decision maker "
            "decides: %(failures)s"
        )
        % {"failures": gettext("; ").join(failures)},
        "001 §7.5" if cas else "004 §5.12.6",
    )


def _surveillance_proposal(audit, certificate, sheet, actor) -> Proposal | None:
    """Open (or reuse) the proposal a surveillance evaluation calls for (001 §7.5)."""
    failed = selectors.evaluation_failure(sheet)
    if failed:
        action, grade = Proposal.Action.SUSPEND, ""
        reason = (
            f"{audit.get_kind_display()}服务测评评价不合格（{failed}），"
            "建议暂停证书（001 §7.5；004 §7.2.1(1)）"
        )
    elif scoring.grade_rank(sheet.grade) < scoring.grade_rank(certificate.star_grade):
        action, grade = Proposal.Action.REISSUE, sheet.grade
        reason = (
            f"{audit.get_kind_display()}服务测评得分 {sheet.score} 分，评价为"
            f"{scoring.GRADES[sheet.grade]}，低于证书星级{scoring.GRADES[certificate.star_grade]}，"
            f"建议按测评结果换发{scoring.GRADES[sheet.grade]}证书（001 §7.5）"
        )
    else:
        return None
    if certificate.status != Certificate.Status.VALID:
        # Already suspended: nothing further to propose here; only a valid certificate is
        # suspended or reissued (004 §7.2, 附录C.3).
        return None
    existing = Proposal.objects.filter(
        certificate=certificate, action=action, state=Proposal.State.OPEN
    ).first()
    if existing is not None:
        return existing
    return proposal_open(
        certificate=certificate,
        actor=actor,
        action=action,
        cause=SURVEILLANCE_FAILED_CAUSE if action == Proposal.Action.SUSPEND else None,
        reason=reason,
        star_grade=grade,
        audit=audit,
        history_reason="监督审核服务测评结果",
    )


def _audit_facts(audit: Audit) -> dict:
    return {
        "audit_label": str(audit),
        "audit_start": audit.actual_start or audit.actual_end,
        "audit_end": audit.actual_end,
    }


def _refusal_notice(decision: Decision, actor) -> CertificateDocument:
    audit = decision.audit
    return notice_issue(
        kind=CertificateDocument.Kind.REFUSAL_NOTICE,
        actor=actor,
        on=decision.decided_on,
        decision=decision,
        facts={
            **_audit_facts(audit),
            "audit_label": audit.get_kind_display(),
            "standard": CertificationBody.get().standard,
            "scope_text": audit.programme.application.scope_text,
        },
    )


def _maintenance_notice(decision: Decision, actor) -> CertificateDocument | None:
    audit = decision.audit
    certificate = selectors.current_certificate(audit.programme.organization_id)
    if certificate is None or certificate.status != Certificate.Status.VALID:
        # A suspended client is told by the restoration notice, not by a maintenance notice.
        return None
    next_audit = (
        Audit.objects.filter(programme=audit.programme, state=Audit.State.PLANNED)
        .exclude(due_on=None)
        .order_by("due_on")
        .first()
    )
    return notice_issue(
        kind=CertificateDocument.Kind.MAINTENANCE_NOTICE,
        actor=actor,
        on=decision.decided_on,
        certificate=certificate,
        decision=decision,
        facts={**_audit_facts(audit), "next_due": next_audit.due_on if next_audit else None},
    )
