"""Write path for decisions, certificates, status changes, notices, regulatory events,
proposals and appeals (004 §5.9.2, §5.12, §6, §7, §8, §9.5; 001 §9, §10; 003 §4.6).

Keyword-only functions taking the acting user; each runs atomically, writes a
``CertificateEvent`` with the CNCA codes for every status change, renders and stores the notice
the client receives (``certificates.notices``) in the same transaction, and raises
``RuleViolation`` with the rule named when the change is not allowed. Dates are local ``date``
values (``timezone.localdate()`` for today); none may lie in the future.
"""

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES, Application, Organization, Site
from audits import nonconformities, rules, scoring
from audits import services as audit_services
from audits.models import (
    Audit,
    Auditor,
    AuditProgramme,
    AuditReport,
    AuditTeamMember,
    Nonconformity,
    ScoreSheet,
)
from certbody import bounds, dates, roles, workdays
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation, fire, lock, record, require_transition
from certbody.models import BusinessScope, CertificationBody
from certbody.reference import cnca_label
from certificates import causes, notices, numbering, pdf
from certificates.models import (
    Appeal,
    Certificate,
    CertificateDocument,
    CertificateEvent,
    CertificateSequence,
    Decision,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)

logger = logging.getLogger("certificates.services")

VALIDITY_MONTHS = 36  # 004 §6.2.3: valid at most 3 years

# The outcomes each kind of audit can lead to (004 §5.12; §5.12.6 for surveillance).
ALLOWED_OUTCOMES = {
    Audit.Kind.STAGE2: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.RECERTIFICATION: {Decision.Outcome.GRANT, Decision.Outcome.REFUSE},
    Audit.Kind.SURVEILLANCE: {Decision.Outcome.MAINTAIN},
    Audit.Kind.SPECIAL: {Decision.Outcome.MAINTAIN},
}


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
    audit was verified after its due date (``nonconformities.verified_late``; 004 §5.10.4).

    Notices: a grant's approval notice comes with the certificate; a refusal produces the
    refusal notice with the reasons (004 §5.12.5); a maintain decision produces the surveillance
    maintenance notice (002 §4.1.2) for the client's valid certificate.
    """
    if not roles.has_role(actor, roles.DECISION_MAKER):
        raise RuleViolation(f"“{actor}”不是认证决定人员", "004 §5.12.1")
    if outcome not in Decision.Outcome.values:
        raise RuleViolation(f"未知的认证决定：{outcome}")
    if star_grade and star_grade not in dict(GRADE_CHOICES):
        raise RuleViolation(f"未知的星级：{star_grade}")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        failures = audit_services.decision_maker_check(audit=audit, user=actor)
        if failures:
            raise RuleViolation("；".join(failures))
        if audit.state != Audit.State.COMPLETED:
            raise RuleViolation("审核完成后才能作出认证决定", "004 §5.12")
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
                f"“{audit.get_kind_display()}”不能作出“{Decision.Outcome(outcome).label}”决定"
            )
        if decided_on > timezone.localdate():
            raise RuleViolation("认证决定日期不能晚于今天")
        if outcome == Decision.Outcome.REFUSE and not reasons.strip():
            raise RuleViolation("不予认证须书面说明未通过认证的原因", "004 §5.12.5")
        if audit.actual_end and decided_on < audit.actual_end:
            raise RuleViolation("认证决定不能早于审核结束")
        # The decision rests on the team leader's signed audit report (004 §5.12.1, §5.11.2).
        if not AuditReport.objects.filter(
            audit=audit, kind=AuditReport.Kind.REPORT, signed_on__lte=decided_on
        ).exists():
            raise RuleViolation(
                _(
                    "No audit report signed by the team leader on or before %(day)s: the "
                    "decision rests on it."
                )
                % {"day": decided_on},
                "004 §5.12.1",
            )
        if outcome == Decision.Outcome.GRANT:
            if audit.kind == Audit.Kind.STAGE2 and decided_on > add_months(audit.actual_end, 6):
                raise RuleViolation(
                    "初次认证决定须在二阶段审核后 6 个月内作出，否则须重新进行二阶段审核",
                    "004 §5.12.3",
                )
            if audit.kind == Audit.Kind.RECERTIFICATION:
                current = _current_certificate(audit.programme.organization_id)
                if current is not None and decided_on > current.expires_on:
                    raise RuleViolation(
                        "再认证决定须在现有证书到期前作出，否则须重新进行二阶段审核",
                        "004 §5.8.4",
                    )
        if outcome in (Decision.Outcome.GRANT, Decision.Outcome.MAINTAIN):
            unsettled = unsettled_nonconformities(audit)
            if unsettled:
                raise RuleViolation(
                    f"不符合项未按要求处理，不能作出“{Decision.Outcome(outcome).label}”决定："
                    + "；".join(_unsettled_text(unsettled)),
                    NC_RULE,
                )
            # Settled, but after the deadline: the client did not complete its actions in
            # time, which bars this decision all the same (004 §5.10.4).
            late = nonconformities.late_nonconformities(audit)
            if late:
                raise RuleViolation(
                    _("Nonconformities verified after their due date bar this decision: %(ncs)s.")
                    % {"ncs": ", ".join(f"NC-{nc.number:02d} ({nc.due_on})" for nc in late)},
                    "004 §5.10.4",
                )
        if outcome == Decision.Outcome.GRANT:
            sheet = _submitted_sheet(audit)
            if sheet is None:
                raise RuleViolation(
                    "批准认证须有审核组长签署提交的服务测评检查表（评分和星级）", "004 §5.6.5.3"
                )
            failed = evaluation_failure(sheet)
            if failed:
                raise RuleViolation(f"服务测评评价不合格，不能批准认证：{failed}", EVALUATION_RULE)
            if star_grade and star_grade != sheet.grade:
                raise RuleViolation(
                    f"认证星级须与服务测评结果一致：测评结果为{_grade_label(sheet.grade)}，"
                    f"不能批准为{_grade_label(star_grade)}",
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
        audit_services.audit_close(audit=audit, actor=actor, reason="认证决定后关闭")
        if outcome == Decision.Outcome.GRANT:
            certificate_issue(decision=decision, actor=actor)
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
    sheet = _submitted_sheet(audit)
    current = _current_certificate(audit.programme.organization_id)
    if sheet is None or current is None:
        return None
    return _surveillance_proposal(audit, lock(Certificate, current.pk), sheet, actor)


NC_RULE = "004 §5.12.2(2)、§5.10.4"
# A failed surveillance evaluation: the system fails the requirements (004 §7.2.1(1)).
SURVEILLANCE_FAILED_CAUSE = 1
EVALUATION_RULE = "004 §5.6.5.3；001 §6.5"


def _grade_label(grade: str) -> str:
    return scoring.GRADES.get(grade, grade)


def _submitted_sheet(audit: Audit) -> ScoreSheet | None:
    return ScoreSheet.objects.filter(audit=audit, state=ScoreSheet.State.SUBMITTED).first()


def evaluation_failure(sheet: ScoreSheet) -> str:
    """Why the evaluation of a submitted score sheet failed, or "" when it passed.

    Fails when the stored result says so, the score is below 70 points, or there are 5 or
    more special deductions (004 §5.6.5.3 (2); 001 §6.5) — checked on the stored score and
    the deduction rows, so an inconsistent stored ``passed`` never lets a failure through.
    """
    deductions = sheet.deductions.count()
    if (
        sheet.passed
        and sheet.score >= scoring.PASS_THRESHOLD
        and deductions <= scoring.MAX_SPECIAL_DEDUCTIONS
    ):
        return ""
    return (
        f"得分 {sheet.score} 分，特别扣分项 {deductions} 项"
        f"（低于 {scoring.PASS_THRESHOLD} 分或特别扣分项达到 "
        f"{scoring.MAX_SPECIAL_DEDUCTIONS + 1} 个为评价不合格）"
    )


def unsettled_nonconformities(audit: Audit) -> list[Nonconformity]:
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
        .filter(nonconformities.unsettled_q())
        .select_related("audit")
        .order_by("audit__actual_end", "audit_id", "number")
    )


def _unsettled_text(ncs: list[Nonconformity]) -> list[str]:
    majors = [nc for nc in ncs if nc.severity == Nonconformity.Severity.MAJOR]
    minors = [nc for nc in ncs if nc.severity != Nonconformity.Severity.MAJOR]
    parts = []
    if majors:
        parts.append("严重不符合项未验证关闭：" + "、".join(_nc_label(nc) for nc in majors))
    if minors:
        parts.append(
            "轻微不符合项的纠正措施（计划）尚未被接受：" + "、".join(_nc_label(nc) for nc in minors)
        )
    return parts


def _nc_label(nc: Nonconformity) -> str:
    return f"{nc.audit.get_kind_display()} NC-{nc.number:02d}（{nc.get_state_display()}）"


# --- surveillance conclusion (004 §5.12.6; 001 §7.5) --------------------------------------


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
    if not audit.team.filter(user=actor, role=AuditTeamMember.Role.LEADER).exists():
        raise RuleViolation("监督审核结论由该审核的审核组长作出", "004 §5.12.6")
    _not_future(concluded_on, "结论日期")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.kind != Audit.Kind.SURVEILLANCE:
            raise RuleViolation("只有监督审核可由审核组长结论保持认证", "004 §5.12.6")
        if audit.state != Audit.State.COMPLETED:
            raise RuleViolation(
                f"审核当前状态为“{audit.get_state_display()}”，监督审核完成后才能作出结论",
                "004 §5.12.6",
            )
        if audit.actual_end and concluded_on < audit.actual_end:
            raise RuleViolation("结论日期不能早于审核结束")
        sheet = _submitted_sheet(audit)
        if sheet is None:
            raise RuleViolation("监督审核结论须有审核组长签署提交的服务测评检查表", "004 §5.6.5.3")
        current = _current_certificate(audit.programme.organization_id)
        if current is None:
            raise RuleViolation("该组织没有有效或暂停的认证证书，无需保持认证")
        certificate = lock(Certificate, current.pk)
        failures = surveillance_conclusion_failures(audit, certificate=certificate, sheet=sheet)
        if positive and audit.recommendation_positive is False:
            failures.insert(0, "审核完成时审核组的推荐意见为不推荐保持认证（004 §5.11.3(19)）")
        if not positive:
            failures.insert(0, "审核组长结论为不推荐保持认证")
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
        "不能根据审核组长结论保持认证，须由认证决定人员作出决定：" + "；".join(failures),
        "004 §5.12.6",
    )


def surveillance_conclusion_failures(
    audit: Audit, *, certificate: Certificate, sheet: ScoreSheet
) -> list[str]:
    """Why a team leader's positive conclusion cannot maintain ``certificate`` after the
    surveillance ``audit`` scored on ``sheet`` (004 §5.12.6 (1), (2); §5.10.4; 001 §7.5).

    Empty when it can. Each reason is a sentence in Chinese naming its clause.
    """
    failures = []
    majors = audit.nonconformities.filter(severity=Nonconformity.Severity.MAJOR)
    if majors.exists():
        failures.append(
            "监督审核发现严重不符合项："
            + "、".join(f"NC-{nc.number:02d}" for nc in majors)
            + "（004 §5.12.6(1)）"
        )
    unsettled = unsettled_nonconformities(audit)
    if unsettled:
        failures.append("；".join(_unsettled_text(unsettled)) + "（004 §5.10.4）")
    failed = evaluation_failure(sheet)
    if failed:
        failures.append(f"服务测评评价不合格：{failed}（004 §5.6.5.3；001 §7.5）")
    elif scoring.grade_rank(sheet.grade) < scoring.grade_rank(certificate.star_grade):
        failures.append(
            f"服务测评结果为{_grade_label(sheet.grade)}，低于证书星级"
            f"{_grade_label(certificate.star_grade)}（001 §7.5）"
        )
    if certificate.status != Certificate.Status.VALID:
        failures.append(f"证书当前状态为“{certificate.get_status_display()}”（004 §5.12.6(1)）")
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
            f"证书有未处理的{'、'.join(str(a) for a in open_actions)}建议（004 §5.12.6(1)）"
        )
    pending = _pending_changes(audit, certificate)
    if pending:
        failures.append("获证组织认证信息或认证范围有待处理的变更：" + "、".join(pending))
    return failures


def _pending_changes(audit: Audit, certificate: Certificate) -> list[str]:
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
    pending = [f"变更申请 {a.reference}（{a.get_state_display()}）" for a in changes]
    extensions = Audit.objects.filter(
        programme_id=audit.programme_id,
        kind=Audit.Kind.SPECIAL,
        special_kind=Audit.SpecialKind.SCOPE_EXTENSION,
    ).exclude(state__in=[Audit.State.CLOSED, Audit.State.TERMINATED])
    pending += [f"扩大认证范围审核（{a.get_state_display()}）" for a in extensions]
    return pending


def _surveillance_proposal(audit, certificate, sheet, actor) -> Proposal | None:
    """Open (or reuse) the proposal a surveillance evaluation calls for (001 §7.5)."""
    failed = evaluation_failure(sheet)
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
            f"{_grade_label(sheet.grade)}，低于证书星级{_grade_label(certificate.star_grade)}，"
            f"建议按测评结果换发{_grade_label(sheet.grade)}证书（001 §7.5）"
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
    return notices.notice_issue(
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
    certificate = _current_certificate(audit.programme.organization_id)
    if certificate is None or certificate.status != Certificate.Status.VALID:
        # A suspended client is told by the restoration notice, not by a maintenance notice.
        return None
    next_audit = (
        Audit.objects.filter(programme=audit.programme, state=Audit.State.PLANNED)
        .exclude(due_on=None)
        .order_by("due_on")
        .first()
    )
    return notices.notice_issue(
        kind=CertificateDocument.Kind.MAINTENANCE_NOTICE,
        actor=actor,
        on=decision.decided_on,
        certificate=certificate,
        decision=decision,
        facts={**_audit_facts(audit), "next_due": next_audit.due_on if next_audit else None},
    )


def _current_certificate(organization_id: int) -> Certificate | None:
    return (
        Certificate.objects.filter(
            organization_id=organization_id,
            head__isnull=True,
            status__in=[Certificate.Status.VALID, Certificate.Status.SUSPENDED],
        )
        .order_by("-expires_on")
        .first()
    )


def allocate_sequence(year: int) -> int:
    """Next number of the CB's yearly FW sequence (004 Appendix C), gapless.

    Must run inside the issuing transaction: the year row stays locked until commit, so two
    issues never get the same number, and a rolled-back issue gives its number back.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("allocate_sequence must run inside transaction.atomic()")
    CertificateSequence.objects.bulk_create(
        [CertificateSequence(year=year, last=0)], ignore_conflicts=True
    )
    row = CertificateSequence.objects.select_for_update().get(year=year)
    row.last += 1
    row.save(update_fields=["last"])
    return row.last


def certificate_issue(*, decision: Decision, actor, issued_on: date | None = None) -> Certificate:
    """Issue the certificate a grant decision allows, with sub-certificates for other sites.

    ``issued_on`` defaults to the decision date and may not precede it (004 §6.2.2).
    Initial validity: 3 years from the decision date, ending the day before. Recertification:
    validity continues from the previous certificate's expiry, which becomes superseded (004 §6.2.3,
    Appendix C.4). Writes the certificate PDFs and the approval notice (002 §4.1.2) as pending
    documents, rendered after commit (issue #11: a PDF failure never undoes the issue, and the
    yearly sequence row stays locked only for the database work); plans the cycle's
    surveillance audits.
    """
    if decision.outcome != Decision.Outcome.GRANT:
        raise RuleViolation("只有批准认证的决定才能发证", "004 §6.2")
    issued_on = issued_on or decision.decided_on
    if issued_on < decision.decided_on:
        raise RuleViolation("发证日期不能早于认证决定日期", "004 §6.2.2")
    cb = CertificationBody.get()
    with transaction.atomic():
        decision = lock(Decision, decision.pk)
        if decision.certificates.exists():
            raise RuleViolation("该认证决定已发证")
        audit = decision.audit
        programme = audit.programme
        organization = programme.organization
        application = programme.application
        previous = _current_certificate(organization.pk)
        if previous is not None and audit.kind == Audit.Kind.RECERTIFICATION:
            expires_on = add_months(previous.expires_on, VALIDITY_MONTHS)
        else:
            # domain.md §10: initial validity starts on the decision date (not a later issue
            # date), so the certificate never runs more than 3 years from the decision.
            expires_on = add_months(decision.decided_on, VALIDITY_MONTHS) - timedelta(days=1)
        sequence = allocate_sequence(issued_on.year)
        number = numbering.format_number(
            cb.number_prefix, issued_on.year, sequence, programme.cycle, cb.accreditation
        )
        head = Certificate(
            number=number,
            organization=organization,
            organization_name=organization.name,
            registered_address=organization.registered_address,
            programme=programme,
            decision=decision,
            year=issued_on.year,
            sequence=sequence,
            cycle=programme.cycle,
            accreditation=cb.accreditation,
            scope_text=application.scope_text,
            star_grade=decision.star_grade,
            standard=cb.standard,
            issued_on=issued_on,
            expires_on=expires_on,
            status_changed_on=issued_on,
        )
        record(head, actor=actor, reason="发证")
        head.save()
        scopes = list(application.business_scopes.all())
        head.business_scopes.set(scopes)
        certificates = [head]
        other_sites = list(
            Site.objects.filter(organization=organization, is_head_office=False).order_by("pk")
        )
        if other_sites and Site.objects.filter(organization=organization).count() > 1:
            for k, site in enumerate(other_sites, start=1):
                sub = Certificate(
                    number=numbering.format_number(
                        cb.number_prefix,
                        issued_on.year,
                        sequence,
                        programme.cycle,
                        cb.accreditation,
                        sub=k,
                    ),
                    organization=organization,
                    organization_name=head.organization_name,
                    registered_address=head.registered_address,
                    programme=programme,
                    decision=decision,
                    head=head,
                    site=site,
                    year=head.year,
                    sequence=sequence,
                    cycle=head.cycle,
                    accreditation=head.accreditation,
                    scope_text=site.scope_text or head.scope_text,
                    star_grade=head.star_grade,
                    standard=head.standard,
                    issued_on=issued_on,
                    expires_on=expires_on,
                    status_changed_on=issued_on,
                )
                record(sub, actor=actor, reason="发子证书")
                sub.save()
                sub.business_scopes.set(scopes)
                certificates.append(sub)
        for certificate in certificates:
            _event(certificate, CertificateEvent.Kind.ISSUED, issued_on, actor, reason="发证")
        if previous is not None and audit.kind == Audit.Kind.RECERTIFICATION:
            previous = lock(Certificate, previous.pk)
            previous.superseded_by = head
            _change_status(
                previous,
                "supersede",
                CertificateEvent.Kind.SUPERSEDED,
                actor=actor,
                on=issued_on,
                change_code="97_03",
                reason_code="0120",
                reason=cnca_label("withdrawal_reason", "0120"),
                fields=["superseded_by"],
                follow_fields=(),
            )
        audit_services.programme_plan_cycle(
            programme=programme,
            actor=actor,
            decision_date=decision.decided_on,
            expires_on=expires_on,
        )
        for certificate in certificates:
            # Pending until rendered after commit (issue #11): no layout inside the number lock.
            pdf.document_queue(
                certificate=certificate,
                kind=CertificateDocument.Kind.CERTIFICATE,
                html=pdf.certificate_html(certificate),
                expected=pdf.certificate_expected(certificate),
                actor=actor,
                note="初次发证" if certificate.cycle == 0 else "再认证发证",
            )
        first_surveillance = (
            Audit.objects.filter(programme=programme, kind=Audit.Kind.SURVEILLANCE, sequence=1)
            .exclude(due_on=None)
            .first()
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.APPROVAL_NOTICE,
            actor=actor,
            on=issued_on,
            certificate=head,
            decision=decision,
            facts={"first_surveillance_due": first_surveillance and first_surveillance.due_on},
        )
    return head


def _not_future(day: date, what: str) -> None:
    if day > dates.today():
        raise RuleViolation(f"{what}不能晚于今天")


def _event(
    certificate,
    kind,
    on,
    actor,
    *,
    change_code="",
    reason_code="",
    reason="",
    evidence="",
    cause=None,
    ends_on=None,
):
    return CertificateEvent.objects.create(
        certificate=certificate,
        kind=kind,
        occurred_on=on,
        status_code=certificate.status_code,
        change_code=change_code,
        reason_code=reason_code,
        cause=cause,
        ends_on=ends_on,
        reason=reason[:300],
        evidence=evidence,
        actor=actor,
    )


def _change_status(
    certificate: Certificate,
    transition_name: str,
    kind: str,
    *,
    actor,
    on: date,
    change_code: str,
    reason_code: str = "",
    reason: str = "",
    public_reason: str = "",
    evidence: str = "",
    cause: int | None = None,
    ends_on: date | None = None,
    fields=(),
    follow_fields=None,
) -> Certificate:
    """Fire one status transition on a locked certificate and its sub-certificates.

    ``reason`` goes to the events (internal record), ``public_reason`` (default: ``reason``) to
    the certificates' ``status_reason`` shown on the public page. ``fields`` are saved with the
    status; ``follow_fields`` (default: ``fields``) are copied from the head to its
    sub-certificates first (004 Appendix C.2: sub-certificates follow their head).
    """
    follow_fields = fields if follow_fields is None else follow_fields
    public_reason = public_reason or reason
    targets = [certificate, *Certificate.objects.select_for_update().filter(head=certificate)]
    for target in targets:
        if target is not certificate:
            for name in follow_fields:
                setattr(target, name, getattr(certificate, name))
        target.status_changed_on = on
        target.status_reason = public_reason[:300]
        if target is not certificate and not _can(target, transition_name):
            continue  # a sub-certificate already in a final state stays there
        fire(
            target,
            transition_name,
            actor=actor,
            reason=reason or kind,
            fields=["status_changed_on", "status_reason", *fields],
            label="证书",
        )
        _event(
            target,
            kind,
            on,
            actor,
            change_code=change_code,
            reason_code=reason_code,
            reason=reason,
            evidence=evidence,
            cause=cause,
            ends_on=ends_on,
        )
    return certificate


def _can(certificate, transition_name):
    from django_fsm import can_proceed

    return can_proceed(getattr(certificate, transition_name))


def _head_only(certificate: Certificate) -> None:
    if certificate.head_id is not None:
        raise RuleViolation("子证书的状态随主证书变化，请对主证书操作", "004 附录C.2")


def _reason_label(table: str, reason_code: str, rule: str) -> str:
    label = cnca_label(table, reason_code)
    if not label:
        raise RuleViolation(f"未知的原因代码：{reason_code}", rule)
    return label


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
    listed = "、".join(f"{year} 年" for year in years)
    return deadline, f"{listed}的法定节假日安排尚未公布，期限按周一至周五计算，仅供参考"


def _within_working_days(verified_on: date, acted_on: date, *, what: str, rule: str) -> str:
    """Refuse ``acted_on`` outside [verified_on, verified_on + 5 working days] (004 §7.2.1,
    §7.3.1); returns the provisional-calendar note (may be empty)."""
    _not_future(verified_on, "调查核实日期")
    if acted_on < verified_on:
        raise RuleViolation(f"{what}日期不能早于调查核实日期（{verified_on}）", rule)
    deadline, note = working_day_deadline(verified_on)
    if acted_on > deadline:
        extra = f"；{note}" if note else ""
        raise RuleViolation(
            f"须在调查核实后 5 个工作日内{what}：{verified_on} 核实，最迟 {deadline}，"
            f"不能为 {acted_on}{extra}",
            rule,
        )
    return note


def _suspension_rule(scheme: str) -> str:
    return "001 §9.3.2.2" if scheme == rules.SCHEME_CAS else "004 §7.2.2"


def _close_open_proposals(certificate, action: str, *, actor, on: date, done: str) -> None:
    """Close the certificate's open proposals of ``action`` as accepted: the action was taken."""
    for proposal in Proposal.objects.select_for_update().filter(
        certificate=certificate, action=action, state=Proposal.State.OPEN
    ):
        proposal.closed_on = on
        proposal.closing_note = f"证书已于 {on} {done}"
        fire(
            proposal,
            "accept",
            actor=actor,
            reason=f"证书已{done}",
            fields=["closed_on", "closing_note"],
        )


def certificate_suspend(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    starts_on: date,
    ends_on: date,
    reason: str = "",
    evidence: str = "",
    licensing_decision_on: date | None = None,
) -> Certificate:
    """Suspend a valid certificate and its sub-certificates from ``starts_on`` to ``ends_on``.

    ``cause``: the 004 §7.2.1 cause number 1–12 (``certificates.causes``), which gives the CNCA
    suspension reason code and the public reason. ``verified_on``: the date the cause was
    verified; the suspension starts on or after it and no later than 5 working days after it
    (004 §7.2.1; a year without a published holiday calendar counts Monday–Friday and says so).
    The period ends after it starts and at most 6 months after the start (004 §7.2.2;
    001 §9.3.2.2). Under the CAS rules (001 §9.3.2.2) an expired licence whose renewal was
    accepted (cause 5) may stay suspended until ``licensing_decision_on``; the ZXRZ rules allow
    no such extension (004 §7.2.2, §7.3.1(7)). ``reason``: the particulars (internal record and
    notice), ``evidence``: what the verification rests on. Produces the suspension notice with
    start, period and the prohibition on using certificate and mark (004 §7.2.3).
    """
    _require_status_officer(actor)
    _head_only(certificate)
    try:
        found = causes.suspension_cause(cause)
    except ValueError:
        raise RuleViolation(f"未知的暂停原因：{cause}", "004 §7.2.1") from None
    _not_future(starts_on, "暂停开始日期")
    if ends_on <= starts_on:
        raise RuleViolation("暂停结束日期必须晚于开始日期", "004 §7.2.2")
    if licensing_decision_on is not None and found.number != causes.LICENCE_EXPIRED:
        raise RuleViolation(
            "只有行政许可等过期失效、重新申请已受理的情形才涉及许可决定日期", "001 §9.3.2.2"
        )
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "suspend", label="证书")
        rule = _suspension_rule(certificate.scheme)
        limit = add_months(starts_on, 6)
        if ends_on > limit:
            if licensing_decision_on is None:
                raise RuleViolation(f"暂停期限不得超过 6 个月（最迟 {limit}）", rule)
            if certificate.scheme != rules.SCHEME_CAS:
                raise RuleViolation(
                    f"暂停期限不得超过 6 个月（最迟 {limit}）；本规则不允许延至许可决定之日，"
                    "暂停期满仍未换证的应撤销证书（004 §7.3.1(7)）",
                    rule,
                )
            if ends_on > licensing_decision_on:
                raise RuleViolation(
                    f"暂停期限超过 6 个月的，最迟至许可决定之日（{licensing_decision_on}）",
                    "001 §9.3.2.2",
                )
        if starts_on < certificate.issued_on:
            raise RuleViolation("暂停开始日期不能早于发证日期")
        if starts_on > certificate.expires_on:
            raise RuleViolation("证书已过有效期，不能暂停")
        note = _within_working_days(verified_on, starts_on, what="暂停", rule=found.rule)
        certificate.suspended_from = starts_on
        certificate.suspended_until = ends_on
        details = [evidence.strip()]
        if licensing_decision_on:
            details.append(f"许可决定日期：{licensing_decision_on}")
        if note:
            details.append(note)
        _change_status(
            certificate,
            "suspend",
            CertificateEvent.Kind.SUSPENDED,
            actor=actor,
            on=starts_on,
            change_code="97_01",
            reason_code=found.cnca_code,
            reason=reason.strip() or found.label,
            public_reason=found.label,
            evidence="\n".join(d for d in details if d),
            cause=found.number,
            ends_on=ends_on,
            fields=["suspended_from", "suspended_until"],
        )
        _close_open_proposals(
            certificate, Proposal.Action.SUSPEND, actor=actor, on=starts_on, done="暂停"
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.SUSPENSION_NOTICE,
            actor=actor,
            on=starts_on,
            certificate=certificate,
            facts={
                "cause": found,
                "reason": reason.strip(),
                "verified_on": verified_on,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "period_days": (ends_on - starts_on).days + 1,
            },
        )
    return certificate


def certificate_restore(
    *, certificate: Certificate, actor, restored_on: date, evidence: str
) -> Certificate:
    """Restore a suspended certificate when the cause is removed, with the evidence (004 §7.2.4).

    ``restored_on`` lies within the suspension period: once the period has ended unresolved the
    certificate is withdrawn instead (004 §7.3.1(7)). Produces the restoration notice.
    """
    _require_status_officer(actor)
    _head_only(certificate)
    if not evidence.strip():
        raise RuleViolation("恢复证书须记录原因已消除的证据", "004 §7.2.4")
    _not_future(restored_on, "恢复日期")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "restore", label="证书")
        suspended_from = certificate.suspended_from
        if suspended_from and restored_on < suspended_from:
            raise RuleViolation("恢复日期不能早于暂停开始日期")
        if certificate.suspended_until and restored_on > certificate.suspended_until:
            raise RuleViolation(
                f"暂停期已于 {certificate.suspended_until} 届满，不能再恢复；"
                "导致暂停的问题未在暂停期内解决的，应撤销证书",
                "004 §7.2.4、§7.3.1(7)",
            )
        certificate.suspended_from = None
        certificate.suspended_until = None
        _change_status(
            certificate,
            "restore",
            CertificateEvent.Kind.RESTORED,
            actor=actor,
            on=restored_on,
            change_code="97_02",
            reason="暂停原因已消除，恢复证书",
            evidence=evidence,
            fields=["suspended_from", "suspended_until"],
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.RESTORATION_NOTICE,
            actor=actor,
            on=restored_on,
            certificate=certificate,
            facts={"restored_on": restored_on, "suspended_from": suspended_from},
        )
    return certificate


def certificate_withdraw(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    withdrawn_on: date,
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Withdraw a valid or suspended certificate and its sub-certificates (004 §7.3).

    ``cause``: the 004 §7.3.1 cause number 1–10 (``certificates.causes``). ``withdrawn_on`` is
    on or after ``verified_on`` and at most 5 working days after it (004 §7.3.1). Cause 7
    (suspension period ended unresolved) needs a suspended certificate whose period has ended by
    ``verified_on``. The number becomes void and is never reused (Appendix C.5: sequences only
    grow). Open withdrawal proposals for the certificate are closed as accepted. Produces the
    withdrawal notice (recovery of the certificate or public announcement, 004 §7.3.2).
    """
    _require_status_officer(actor)
    _head_only(certificate)
    try:
        found = causes.withdrawal_cause(cause)
    except ValueError:
        raise RuleViolation(f"未知的撤销原因：{cause}", "004 §7.3.1") from None
    _not_future(withdrawn_on, "撤销日期")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "withdraw", label="证书")
        if withdrawn_on < certificate.issued_on:
            raise RuleViolation("撤销日期不能早于发证日期")
        if found.number == causes.SUSPENSION_ENDED_UNRESOLVED:
            if certificate.status != Certificate.Status.SUSPENDED:
                raise RuleViolation("证书未被暂停，不能以“暂停期满未解决”为由撤销", found.rule)
            if verified_on < certificate.suspended_until:
                raise RuleViolation(
                    f"暂停期至 {certificate.suspended_until} 才届满，届满后方可核实并撤销",
                    found.rule,
                )
        note = _within_working_days(verified_on, withdrawn_on, what="撤销", rule=found.rule)
        _change_status(
            certificate,
            "withdraw",
            CertificateEvent.Kind.WITHDRAWN,
            actor=actor,
            on=withdrawn_on,
            change_code="97_03",
            reason_code=found.cnca_code,
            reason=reason.strip() or found.label,
            public_reason=found.label,
            evidence="\n".join(d for d in (evidence.strip(), note) if d),
            cause=found.number,
        )
        _close_open_proposals(
            certificate, Proposal.Action.WITHDRAW, actor=actor, on=withdrawn_on, done="撤销"
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.WITHDRAWAL_NOTICE,
            actor=actor,
            on=withdrawn_on,
            certificate=certificate,
            facts={
                "cause": found,
                "reason": reason.strip(),
                "verified_on": verified_on,
                "withdrawn_on": withdrawn_on,
            },
        )
    return certificate


def certificate_cancel(
    *,
    certificate: Certificate,
    actor,
    cancelled_on: date,
    reason_code: str = "0204",
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Cancel (注销) a valid or suspended certificate, normally at the client's request (004 §7.4).

    ``reason_code``: a CNCA cancellation reason (0204 the client's request by default; 0202
    the client gives up the certificate). ``evidence``: the client's written request (004 §7.4
    keeps the evidence). Produces the cancellation notice.
    """
    _require_status_officer(actor)
    _head_only(certificate)
    label = _reason_label("cancellation_reason", reason_code, "004 §7.4")
    _not_future(cancelled_on, "注销日期")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "cancel", label="证书")
        if cancelled_on < certificate.issued_on:
            raise RuleViolation("注销日期不能早于发证日期")
        _change_status(
            certificate,
            "cancel",
            CertificateEvent.Kind.CANCELLED,
            actor=actor,
            on=cancelled_on,
            change_code="99",
            reason_code=reason_code,
            reason=reason.strip() or label,
            public_reason=label,
            evidence=evidence,
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.CANCELLATION_NOTICE,
            actor=actor,
            on=cancelled_on,
            certificate=certificate,
            facts={"cancelled_on": cancelled_on, "reason": label, "reason_code": reason_code},
        )
    return certificate


def certificate_expire(
    *, certificate: Certificate, actor, today: date | None = None
) -> Certificate:
    """Mark a certificate expired once its validity has ended without renewal (004 §7.5)."""
    _head_only(certificate)
    today = today or timezone.localdate()
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if certificate.expires_on >= today:
            raise RuleViolation(f"证书有效期至 {certificate.expires_on}，尚未到期")
        return _change_status(
            certificate,
            "expire",
            CertificateEvent.Kind.EXPIRED,
            actor=actor,
            on=certificate.expires_on + timedelta(days=1),
            change_code="97_05",
            reason_code="0201",
            reason=cnca_label("cancellation_reason", "0201"),
        )


STATUS_ROLES = (roles.DECISION_MAKER, roles.TECHNICAL_MANAGER, roles.AUDIT_DEPARTMENT)


def _require_status_officer(actor) -> None:
    if actor.username == roles.SYSTEM_USERNAME:
        return
    if not any(roles.has_role(actor, role) for role in STATUS_ROLES):
        raise RuleViolation(f"“{actor}”无权变更证书状态")


# --- reissue within validity (004 Appendix C.3) --------------------------------------------

# CNCA change type → the certificate fields such a reissue changes (cnca_codes.json
# "change_type"). A star grade change has no own code: 99 other (001 §7.5).
REISSUE_FIELDS = {
    "01": {"organization_name"},
    "02": {"registered_address"},
    "05": {"scope_text", "business_scope_codes"},
    "06": {"scope_text", "business_scope_codes"},
    "99": {"organization_name", "registered_address", "scope_text", "star_grade"},
}
CHANGE_KEYS = {
    "organization_name",
    "registered_address",
    "scope_text",
    "business_scope_codes",
    "star_grade",
}
# What follows the head onto its sub-certificates (a site's own scope text stays its own).
SUB_FOLLOWS = {"organization_name", "registered_address", "star_grade", "business_scope_codes"}
REISSUE_REASON_CODE = "0104"  # 证书内容变更换证书


def certificate_reissue(
    *,
    certificate: Certificate,
    actor,
    reason: str,
    reissued_on: date,
    changes: dict,
    note: str = "",
    evidence: str = "",
) -> Certificate:
    """Reissue a valid certificate within its validity (004 Appendix C.3; 001 §6.1.8).

    ``reason``: the CNCA change type — "01" name, "02" address, "05" scope extension, "06" scope
    reduction, "99" other (e.g. a star grade change, 001 §7.5). ``changes``: the new values,
    keys among ``organization_name``, ``registered_address``, ``scope_text``,
    ``business_scope_codes`` (list of Appendix B codes) and ``star_grade``; at least one of
    them must fit ``reason`` and differ from the certificate. The number and validity stay; the
    reissue date and reason are recorded; name, address, grade and scope categories follow onto
    the sub-certificates. Every changed certificate gets an event (change code, reissue reason
    0104) and a new PDF; earlier PDFs are kept unchanged.
    """
    _require_status_officer(actor)
    _head_only(certificate)
    return _reissue(
        certificate=certificate,
        actor=actor,
        change_code=reason,
        reissued_on=reissued_on,
        changes=changes,
        note=note,
        evidence=evidence,
    )


def certificate_reduce_scope(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    reduced_on: date,
    scope_text: str,
    business_scope_codes: Iterable[int] | None = None,
    evidence: str = "",
) -> Certificate:
    """Reduce the scope instead of suspending when a 004 §7.2.1 ``cause`` touches only part of
    it (001 §9.3.2.1): within 5 working days of ``verified_on`` like the suspension it replaces;
    reissued with change code 06 (same number and validity, new PDF)."""
    _require_status_officer(actor)
    _head_only(certificate)
    try:
        found = causes.suspension_cause(cause)
    except ValueError:
        raise RuleViolation(f"未知的暂停原因：{cause}", "004 §7.2.1") from None
    _within_working_days(verified_on, reduced_on, what="缩小认证范围", rule=found.rule)
    changes = {"scope_text": scope_text}
    if business_scope_codes is not None:
        changes["business_scope_codes"] = list(business_scope_codes)
    return _reissue(
        certificate=certificate,
        actor=actor,
        change_code="06",
        reissued_on=reduced_on,
        changes=changes,
        note=f"因（{found.number}）{found.label}，缩小认证范围（001 §9.3.2.1）",
        evidence=evidence,
        cause=found.number,
    )


def _reissue(*, certificate, actor, change_code, reissued_on, changes, note, evidence, cause=None):
    label = cnca_label("change_type", change_code)
    if change_code not in REISSUE_FIELDS or not label:
        raise RuleViolation(f"不能按变更类型“{change_code}”换证", "004 附录C.3")
    unknown = set(changes) - CHANGE_KEYS
    if unknown:
        raise RuleViolation(f"不能变更：{'、'.join(sorted(unknown))}")
    _not_future(reissued_on, "换证日期")
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if certificate.status != Certificate.Status.VALID:
            raise RuleViolation(
                f"证书当前状态为“{certificate.get_status_display()}”，只有有效的证书才能换证",
                "004 附录C.3",
            )
        if not certificate.issued_on <= reissued_on <= certificate.expires_on:
            raise RuleViolation("换证日期须在证书有效期内", "004 附录C.3")
        new = _clean_changes(certificate, changes)
        if not new or not (set(new) & REISSUE_FIELDS[change_code]):
            raise RuleViolation(f"“{label}”换证须给出与证书不同的新内容", "004 附录C.3")
        old_codes = set(certificate.business_scopes.values_list("code", flat=True))
        if "business_scope_codes" in new:
            codes = set(new["business_scope_codes"])
            if change_code == "05" and not codes > old_codes:
                raise RuleViolation("扩大认证范围须保留原有业务范围并增加新的业务范围")
            if change_code == "06" and not codes < old_codes:
                raise RuleViolation("缩小认证范围只能删去原有的部分业务范围")
        reason_text = f"{label}{'：' + note.strip() if note.strip() else ''}"
        targets = [certificate, *Certificate.objects.select_for_update().filter(head=certificate)]
        for target in targets:
            if target.status != Certificate.Status.VALID:
                continue
            applied = (
                new
                if target is certificate
                else {key: value for key, value in new.items() if key in SUB_FOLLOWS}
            )
            for key, value in applied.items():
                if key != "business_scope_codes":
                    setattr(target, key, value)
            target.reissued_on = reissued_on
            target.reissue_reason = reason_text[:200]
            record(target, actor=actor, reason=f"换证：{label}")
            target.save(
                update_fields=[
                    "reissued_on",
                    "reissue_reason",
                    *(k for k in applied if k != "business_scope_codes"),
                ]
            )
            if "business_scope_codes" in applied:
                target.business_scopes.set(
                    BusinessScope.objects.filter(code__in=applied["business_scope_codes"])
                )
            _event(
                target,
                CertificateEvent.Kind.REISSUED,
                reissued_on,
                actor,
                change_code=change_code,
                reason_code=REISSUE_REASON_CODE,
                reason=reason_text,
                evidence=evidence,
                cause=cause,
            )
            pdf.document_queue(
                certificate=target,
                kind=CertificateDocument.Kind.CERTIFICATE,
                html=pdf.certificate_html(target),
                expected=pdf.certificate_expected(target),
                actor=actor,
                note=f"换证（{label}）",
            )
        if "star_grade" in new:
            # A reissue at a new grade carries out the reissue proposed after a surveillance
            # evaluation (001 §7.5).
            _close_open_proposals(
                certificate, Proposal.Action.REISSUE, actor=actor, on=reissued_on, done="换证"
            )
    return certificate


def _clean_changes(certificate: Certificate, changes: dict) -> dict:
    """The entries of ``changes`` that differ from the certificate, validated."""
    new = {}
    for key in ("organization_name", "registered_address", "scope_text"):
        if key in changes:
            value = str(changes[key] or "").strip()
            if not value:
                raise RuleViolation("证书内容不能为空")
            bounds.check_value(Certificate._meta.get_field(key), value)
            if value != getattr(certificate, key):
                new[key] = value
    if "star_grade" in changes:
        if changes["star_grade"] not in dict(GRADE_CHOICES):
            raise RuleViolation(f"未知的星级：{changes['star_grade']}")
        if changes["star_grade"] != certificate.star_grade:
            new["star_grade"] = changes["star_grade"]
    if "business_scope_codes" in changes:
        codes = {int(code) for code in changes["business_scope_codes"]}
        known = set(BusinessScope.objects.filter(code__in=codes).values_list("code", flat=True))
        if not codes or known != codes:
            raise RuleViolation("业务范围代码无效", "004 附录B")
        if codes != set(certificate.business_scopes.values_list("code", flat=True)):
            new["business_scope_codes"] = sorted(codes)
    return new


# --- regulatory events (004 §5.3.3(4), §5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6) -------------

EVENT_ROLES = (roles.AUDIT_DEPARTMENT, roles.TECHNICAL_MANAGER)
SPOT_CHECK_FAILURES_TO_WITHDRAW = 3  # 003 §4.6
CNAS_ACCIDENT_REPORT_DAYS = 10  # 002 §4.3.8.2: within 10 days of learning of it
REGULATOR_ACCIDENT_REPORT_WORKING_DAYS = 2  # 004 §9.5: within 2 working days of the accident


def regulatory_event_record(
    *,
    actor,
    kind: str,
    occurred_on: date,
    source: str,
    description: str,
    organization: Organization | None = None,
    certificate: Certificate | None = None,
    notified_on: date | None = None,
    level: str = "",
    result: str = "",
    written_finding: bool = False,
    major: bool = False,
) -> RegulatoryEvent:
    """Record what a regulator, the press or the public found at a client, and act on it.

    ``kind``: a ``RegulatoryEvent.Kind``. ``certificate`` defaults to the organisation's current
    head certificate. ``notified_on``: the regulator's notice date or the day the CB learned of
    it (default ``occurred_on``). Spot checks need ``level`` (national/provincial/other) and
    ``result`` (pass/fail). Side effects, in the same transaction:

    - a written regulator finding (``written_finding``) at a certified client adds a
      short-notice special audit due within 30 days of the notice (004 §5.9.2(3)), through
      ``audits.services.audit_add_special``;
    - a major accident (``major``) at a certified client creates the reporting obligations:
      CNAS within 10 days of learning of it (002 §4.3.8.2), the local regulator within
      2 working days of the accident (004 §9.5);
    - the third failed national or provincial spot check on one certificate opens a withdrawal
      proposal (003 §4.6) for a person to decide: nothing is withdrawn automatically.
    """
    if not any(roles.has_role(actor, role) for role in EVENT_ROLES):
        raise RuleViolation(f"“{actor}”无权登记获证组织的监管信息（需技术或审核部门）")
    if kind not in RegulatoryEvent.Kind.values:
        raise RuleViolation(f"未知的信息类型：{kind}")
    if certificate is not None:
        if certificate.head_id is not None:
            certificate = certificate.head
        if organization is not None and organization.pk != certificate.organization_id:
            raise RuleViolation("证书不属于该组织")
        organization = certificate.organization
    if organization is None:
        raise RuleViolation("须指明获证组织或证书")
    if not source.strip() or not description.strip():
        raise RuleViolation("须记录信息来源和具体情况", "004 §5.3.3(4)")
    notified_on = notified_on or occurred_on
    _not_future(occurred_on, "发生日期")
    _not_future(notified_on, "通报日期")
    if notified_on < occurred_on:
        raise RuleViolation("通报（获知）日期不能早于发生日期")
    spot_check = kind == RegulatoryEvent.Kind.SPOT_CHECK
    if spot_check and (
        level not in RegulatoryEvent.Level.values or result not in RegulatoryEvent.Result.values
    ):
        raise RuleViolation("监督抽查须记录抽查级别（国家、省级或其他）和结果（合格或不合格）")
    if not spot_check and (level and level not in RegulatoryEvent.Level.values or result):
        raise RuleViolation("只有监督抽查才记录抽查结果")
    if written_finding and kind != RegulatoryEvent.Kind.REGULATOR_FINDING:
        raise RuleViolation("书面不合格只适用于行政监管部门的检查发现", "004 §5.9.2(3)")
    if major and kind != RegulatoryEvent.Kind.ACCIDENT:
        raise RuleViolation("重大事故只适用于事故信息", "002 §4.3.8.2")
    with transaction.atomic():
        if certificate is None:
            certificate = _current_certificate(organization.pk)
        if certificate is not None:
            # Serialises the spot-check count per certificate (one proposal, 003 §4.6).
            certificate = lock(Certificate, certificate.pk)
        event = RegulatoryEvent(
            organization=organization,
            certificate=certificate,
            kind=kind,
            occurred_on=occurred_on,
            notified_on=notified_on,
            source=source.strip()[:200],
            description=description.strip(),
            level=level,
            result=result,
            written_finding=written_finding,
            major=major,
            recorded_by=actor,
        )
        record(event, actor=actor, reason="登记监管信息")
        event.save()
        if certificate is None:
            return event  # not (or no longer) certified: nothing the CB owes
        if written_finding:
            event.special_audit = _short_notice_audit(event, actor)
            record(event, actor=actor, reason="安排提前较短时间通知的审核")
            event.save(update_fields=["special_audit"])
        if major:
            _accident_obligations(event)
        if event.is_failed_official_spot_check:
            _propose_withdrawal_after_spot_checks(event, actor)
    return event


def _short_notice_audit(event: RegulatoryEvent, actor) -> Audit:
    programme = (
        AuditProgramme.objects.filter(
            organization=event.organization, state=AuditProgramme.State.ACTIVE
        )
        .order_by("-cycle")
        .first()
    )
    if programme is None:
        raise RuleViolation(
            "该获证组织没有进行中的审核方案，无法安排通报后 30 日内的审核", "004 §5.9.2(3)"
        )
    return audit_services.audit_add_special(
        programme=programme,
        actor=actor,
        special_kind=Audit.SpecialKind.REGULATOR_FINDING,
        reason=f"{event.source}于 {event.notified_on} 通报书面不合格：{event.description}"[:300],
        notified_on=event.notified_on,
        short_notice=True,
    )


def _accident_obligations(event: RegulatoryEvent) -> list[ReportingObligation]:
    regulator_due = workdays.add_working_days(
        event.occurred_on, REGULATOR_ACCIDENT_REPORT_WORKING_DAYS
    )
    provisional = bool(workdays.provisional_years(event.occurred_on, regulator_due))
    subject = f"{event.organization}重大事故（{event.occurred_on}）"
    rows = [
        ReportingObligation(
            organization=event.organization,
            certificate=event.certificate,
            regulatory_event=event,
            recipient=ReportingObligation.Recipient.CNAS,
            subject=f"{subject}：事故原因背景、调查结论、采取的措施和处理意见",
            rule="002 §4.3.8.2",
            due_on=event.notified_on + timedelta(days=CNAS_ACCIDENT_REPORT_DAYS),
        ),
        ReportingObligation(
            organization=event.organization,
            certificate=event.certificate,
            regulatory_event=event,
            recipient=ReportingObligation.Recipient.LOCAL_REGULATOR,
            subject=f"{subject}：认证情况及最近一个认证周期的认证材料",
            rule="004 §9.5",
            due_on=regulator_due,
            provisional=provisional,
        ),
    ]
    for row in rows:
        row.save()
    return rows


def _propose_withdrawal_after_spot_checks(event: RegulatoryEvent, actor) -> Proposal | None:
    certificate = event.certificate
    failed = [
        e
        for e in RegulatoryEvent.objects.filter(
            certificate=certificate, kind=RegulatoryEvent.Kind.SPOT_CHECK
        )
        if e.is_failed_official_spot_check
    ]
    if len(failed) < SPOT_CHECK_FAILURES_TO_WITHDRAW:
        return None
    if certificate.status not in (Certificate.Status.VALID, Certificate.Status.SUSPENDED):
        return None
    if Proposal.objects.filter(
        certificate=certificate, action=Proposal.Action.WITHDRAW, state=Proposal.State.OPEN
    ).exists():
        return None
    proposal = proposal_open(
        certificate=certificate,
        actor=actor,
        action=Proposal.Action.WITHDRAW,
        cause=causes.SPOT_CHECKS_FAILED_WITHDRAWAL,
        reason=(
            f"同一证书在国家级或省级监督抽查中已 {len(failed)} 次不合格"
            f"（{'、'.join(str(e.occurred_on) for e in failed)}），建议撤销证书（003 §4.6）"
        ),
        regulatory_event=event,
        history_reason="三次国家或省级监督抽查不合格",
    )
    logger.info("withdrawal proposed for %s after %s failed spot checks", certificate, len(failed))
    return proposal


def proposal_open(
    *,
    certificate: Certificate,
    actor,
    action: str,
    cause: int | None,
    reason: str,
    regulatory_event: RegulatoryEvent | None = None,
    star_grade: str = "",
    audit: Audit | None = None,
    history_reason: str = "系统建议",
) -> Proposal:
    """Open a proposal to suspend, withdraw or reissue ``certificate`` for a person to decide.

    ``cause`` is the 004 §7.2.1 (suspend) or §7.3.1 (withdraw) cause number, required for
    those; a reissue has none and names the ``star_grade`` proposed (001 §7.5). ``audit``: the
    audit whose result led to it. Used by jobs, the spot-check rule (003 §4.6) and the
    surveillance conclusion; nothing is suspended, withdrawn or reissued automatically here.

    At most one proposal per certificate and action is open (the partial unique constraint
    ``one_open_proposal_per_action``): when one is open already — made by a caller that checked
    first, or by a concurrent job runner that won the race — that open proposal is returned and
    nothing is written. Raises RuleViolation for an unknown action, a missing cause or grade,
    or a blank reason.
    """
    if action not in Proposal.Action.values:
        raise RuleViolation(f"未知的建议类型：{action}")
    if not reason.strip():
        raise RuleViolation("建议须说明理由")
    if action == Proposal.Action.REISSUE:
        if star_grade not in dict(GRADE_CHOICES):
            raise RuleViolation("换证建议须给出建议的星级", "001 §7.5")
        cause = None
    elif cause is None:
        raise RuleViolation("暂停或撤销建议须给出原因编号", "004 §7.2.1、§7.3.1")
    proposal = Proposal(
        certificate=certificate,
        action=action,
        cause=cause,
        star_grade=star_grade if action == Proposal.Action.REISSUE else "",
        reason=reason[:300],
        regulatory_event=regulatory_event,
        audit=audit,
        created_by=actor,
    )
    record(proposal, actor=actor, reason=history_reason)
    try:
        # A savepoint, so that losing the race leaves the caller's transaction usable.
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        existing = _open_proposal(certificate, action)
        if existing is None:  # not our constraint: a real error
            raise
        return existing
    return proposal


def _open_proposal(certificate: Certificate, action: str) -> Proposal | None:
    return Proposal.objects.filter(
        certificate=certificate, action=action, state=Proposal.State.OPEN
    ).first()


def proposal_accept(
    *,
    proposal: Proposal,
    actor,
    verified_on: date,
    withdrawn_on: date,
    reason: str = "",
    evidence: str = "",
) -> Proposal:
    """Carry out an open withdrawal proposal through ``certificate_withdraw`` (same rules)."""
    if proposal.action == Proposal.Action.REISSUE:
        raise RuleViolation("换证建议须通过换证（变更类型 99，变更星级）处理", "004 附录C.3")
    if proposal.action != Proposal.Action.WITHDRAW:
        raise RuleViolation("该建议须按暂停程序处理")
    with transaction.atomic():
        proposal = lock(Proposal, proposal.pk)
        require_transition(proposal, "accept", label="建议")
        certificate_withdraw(
            certificate=proposal.certificate,
            actor=actor,
            cause=proposal.cause,
            verified_on=verified_on,
            withdrawn_on=withdrawn_on,
            reason=reason or proposal.reason,
            evidence=evidence,
        )
        proposal.refresh_from_db()
    return proposal


def proposal_dismiss(*, proposal: Proposal, actor, note: str, dismissed_on: date | None = None):
    """Close an open proposal without acting on it; the reason is kept (``note``)."""
    _require_status_officer(actor)
    if not note.strip():
        raise RuleViolation("不采纳建议须说明理由")
    dismissed_on = dismissed_on or dates.today()
    _not_future(dismissed_on, "日期")
    with transaction.atomic():
        proposal = lock(Proposal, proposal.pk)
        proposal.closed_on = dismissed_on
        proposal.closing_note = note.strip()
        fire(
            proposal,
            "dismiss",
            actor=actor,
            reason="不采纳",
            fields=["closed_on", "closing_note"],
            label="建议",
        )
    return proposal


def suspension_ended_due(*, today: date):
    """Head certificates still suspended after their suspension period (``suspended_until``
    before ``today``, a local date): each is due a withdrawal proposal (004 §7.3.1(7)) unless
    ``suspension_ended_propose`` finds one open or already decided for this suspension. A plain
    filter on the indexed deadline, so the periodic job can walk it in deadline order."""
    return Certificate.objects.filter(
        head__isnull=True, status=Certificate.Status.SUSPENDED, suspended_until__lt=today
    )


def suspension_ended_propose(
    *, certificate: Certificate, actor, today: date | None = None
) -> Proposal | None:
    """Propose withdrawing ``certificate`` because its suspension period ended unresolved
    (004 §7.3.1(7), cause ``SUSPENSION_ENDED_UNRESOLVED``; CNCA 0115).

    Locks the certificate and checks again that it is suspended past ``suspended_until``;
    returns None, writing nothing, when it no longer is, or when a withdrawal proposal is open
    or was made (and perhaps dismissed: that is a decision by staff, not something to propose
    again every day) since the suspension began. Otherwise returns the new open proposal. The
    caller (the ``suspension_ended`` job) claims the certificate first; the one-open-proposal
    constraint stops any other writer from adding a second one.
    """
    today = today or dates.today()
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if (
            certificate.head_id is not None
            or certificate.status != Certificate.Status.SUSPENDED
            or certificate.suspended_until is None
            or certificate.suspended_until >= today
        ):
            return None
        made = Proposal.objects.filter(
            certificate=certificate, action=Proposal.Action.WITHDRAW
        ).filter(
            Q(state=Proposal.State.OPEN)
            | Q(created_at__date__gte=certificate.suspended_from or certificate.suspended_until)
        )
        if made.exists():
            return None
        return proposal_open(
            certificate=certificate,
            actor=actor,
            action=Proposal.Action.WITHDRAW,
            cause=causes.SUSPENSION_ENDED_UNRESOLVED,
            reason=f"暂停期已于 {certificate.suspended_until} 届满，证书仍处于暂停状态",
            history_reason="暂停期满",
        )


def suspension_ended_step(*, actor=None, today: date | None = None) -> Proposal | None:
    """Propose withdrawing the first due certificate (``suspension_ended_due``) through
    ``suspension_ended_propose``; the new proposal, or None when none is due. Idempotent: a
    certificate with an open withdrawal proposal, or one already made during this suspension,
    is passed over. For one-off use (shell, tests): the periodic job ``suspension_ended`` claims
    each certificate through its ``JobMark`` instead (``certificates.jobs``)."""
    from certbody.lifecycle import system_user

    today = today or dates.today()
    made = Proposal.objects.filter(
        certificate=OuterRef("pk"), action=Proposal.Action.WITHDRAW
    ).filter(Q(state=Proposal.State.OPEN) | Q(created_at__date__gte=OuterRef("suspended_from")))
    due = suspension_ended_due(today=today).exclude(Exists(made)).order_by("suspended_until", "pk")
    for certificate in due[:20]:
        proposal = suspension_ended_propose(
            certificate=certificate, actor=actor or system_user(), today=today
        )
        if proposal is not None:
            return proposal
    return None


def reporting_obligation_done(
    *, obligation: ReportingObligation, actor, done_on: date
) -> ReportingObligation:
    """Record that a report was sent (``done_on``, not in the future)."""
    if not any(roles.has_role(actor, role) for role in (*STATUS_ROLES, roles.REPORTING_OFFICER)):
        raise RuleViolation(f"“{actor}”无权登记报送")
    _not_future(done_on, "报送日期")
    with transaction.atomic():
        obligation = lock(ReportingObligation, obligation.pk)
        if obligation.done_on:
            raise RuleViolation(f"已于 {obligation.done_on} 报送")
        obligation.done_on = done_on
        record(obligation, actor=actor, reason="已报送")
        obligation.save(update_fields=["done_on"])
    return obligation


# --- appeals and complaints (004 §8; 001 §10) ---------------------------------------------

APPEAL_RULE = "004 §8.3 / 001 §10"


def appeal_receive(
    *,
    actor,
    kind: str,
    received_on: date,
    subject: str,
    description: str,
    organization: Organization | None = None,
    name: str = "",
    contact: str = "",
    about_organization: str = "",
    certificate: Certificate | None = None,
    decision: Decision | None = None,
    audit: Audit | None = None,
    channel: str = "",
) -> Appeal:
    """Receive an appeal (against a certification decision) or a complaint (004 §8.1).

    ``actor``: a client user (portal; the appeal is their organisation's and may only concern
    its own decisions and certificates), staff recording a letter or call, or the system user
    for the public web form. An appeal names the ``decision`` (or the ``certificate`` whose
    suspension, withdrawal … it contests) and comes from the organisation it concerns; a
    complaint from the public needs a ``name`` and a ``contact``. The written result is due
    60 days after ``received_on`` (``due_on``; 004 §8.3, 001 §10).
    """
    if kind not in Appeal.Kind.values:
        raise RuleViolation(f"未知的类型：{kind}")
    if not subject.strip() or not description.strip():
        raise RuleViolation("请填写事由和具体情况")
    _not_future(received_on, "收到日期")
    client = getattr(actor, "is_client", False)
    if client:
        if organization is not None and organization.pk != actor.organization_id:
            raise RuleViolation("客户用户只能以本组织名义提出申诉或投诉")
        organization = actor.organization
    if decision is not None and certificate is None and audit is None:
        audit = decision.audit
    owners = {
        obj.organization.pk if isinstance(obj, Certificate) else obj.programme.organization_id
        for obj in (certificate, decision and decision.audit, audit)
        if obj is not None
    }
    if client and owners - {actor.organization_id}:
        raise RuleViolation("只能就本组织的认证决定、审核或证书提出申诉或投诉")
    if kind == Appeal.Kind.APPEAL:
        if decision is None and certificate is None:
            raise RuleViolation("申诉须针对一项认证决定或证书状态的变更", "004 §8.1")
        owner = (
            decision.audit.programme.organization
            if decision is not None
            else certificate.organization
        )
        if organization is None:
            organization = owner
        if organization.pk != owner.pk:
            raise RuleViolation(
                "只有认证委托人（获证组织）本身可以对其认证决定提出申诉", "004 §8.1"
            )
    if organization is None and not (name.strip() and contact.strip()):
        raise RuleViolation("请留下姓名和联系方式，以便书面告知处理结果", "004 §8.3")
    if not channel:
        if client:
            channel = Appeal.Channel.PORTAL
        elif getattr(actor, "is_staff", False) and actor.is_active:
            channel = Appeal.Channel.STAFF
        else:
            channel = Appeal.Channel.PUBLIC
    with transaction.atomic():
        appeal = Appeal(
            reference=f"tmp-{timezone.now():%H%M%S%f}",
            kind=kind,
            channel=channel,
            received_on=received_on,
            due_on=Appeal.due_date(received_on),
            organization=organization,
            # The public form acts as the system user: no one to link.
            submitted_by=actor if channel != Appeal.Channel.PUBLIC else None,
            name=name.strip()[:100],
            contact=contact.strip()[:200],
            subject=subject.strip()[:200],
            description=description.strip(),
            about_organization=about_organization.strip()[:200],
            certificate=certificate,
            decision=decision,
            audit=audit,
        )
        record(appeal, actor=actor, reason="收到申诉或投诉")
        appeal.save()
        prefix = "SS" if kind == Appeal.Kind.APPEAL else "TS"
        appeal.reference = f"{prefix}{received_on.year}-{appeal.pk:05d}"
        Appeal.objects.filter(pk=appeal.pk).update(reference=appeal.reference)
    return appeal


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


def _require_independent(appeal: Appeal, user, who: str) -> None:
    if not user.is_active or not user.is_staff:
        raise RuleViolation(f"{who}须为本机构在职人员", APPEAL_RULE)
    if user.pk in appeal_involved_user_ids(appeal):
        raise RuleViolation(
            f"{who}“{user}”参与过被申诉（投诉）的事项（审核组成员、认证决定人员或证书状态变更人），"
            "须由与该事项无关的人员处理",
            APPEAL_RULE,
        )


def appeal_acknowledge(*, appeal: Appeal, actor, acknowledged_on: date) -> Appeal:
    """Acknowledge receipt to the appellant (staff)."""
    if not actor.is_staff:
        raise RuleViolation("只有本机构人员可以确认受理")
    _not_future(acknowledged_on, "确认日期")
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        if acknowledged_on < appeal.received_on:
            raise RuleViolation("确认日期不能早于收到日期")
        appeal.acknowledged_on = acknowledged_on
        fire(appeal, "acknowledge", actor=actor, reason="确认受理", fields=["acknowledged_on"])
    return appeal


def appeal_assign(*, appeal: Appeal, actor, handler) -> Appeal:
    """Assign the handler, who must not have been involved in the matter (004 §8.3; 001 §10),
    and start the investigation; while under investigation the handler may be replaced."""
    if not roles.has_role(actor, roles.TECHNICAL_MANAGER):
        raise RuleViolation("由技术负责人指派申诉（投诉）处理人员")
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        _require_independent(appeal, handler, "处理人员")
        appeal.handler = handler
        if appeal.state == Appeal.State.UNDER_INVESTIGATION:
            record(appeal, actor=actor, reason="更换处理人员")
            appeal.save(update_fields=["handler"])
        else:
            fire(appeal, "investigate", actor=actor, reason="指派处理人员", fields=["handler"])
    return appeal


def appeal_decide(
    *, appeal: Appeal, actor, decided_on: date, outcome: str, decision_text: str
) -> Appeal:
    """Decide in writing (004 §8.3). The actor is the handler, or a technical manager approving
    it; either way independent of the matter. Produces the written result as a PDF with the
    sentence that the appellant may complain to the local regulator or CNCA (004 §8.4; 001 §10).
    A decision after ``due_on`` is recorded (and shows as overdue), not refused."""
    if outcome not in Appeal.Outcome.values:
        raise RuleViolation(f"未知的处理结论：{outcome}")
    if not decision_text.strip():
        raise RuleViolation("须写明处理意见", "004 §8.3")
    _not_future(decided_on, "处理日期")
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        require_transition(appeal, "decide", label="申诉（投诉）")
        if actor.pk != appeal.handler_id and not roles.has_role(actor, roles.TECHNICAL_MANAGER):
            raise RuleViolation("处理决定由指派的处理人员作出或由技术负责人审核批准", APPEAL_RULE)
        _require_independent(appeal, actor, "作出处理决定的人员")
        if decided_on < appeal.received_on:
            raise RuleViolation("处理日期不能早于收到日期")
        appeal.outcome = outcome
        appeal.decision_text = decision_text.strip()
        appeal.decided_on = decided_on
        appeal.decided_by = actor
        fire(
            appeal,
            "decide",
            actor=actor,
            reason="书面处理决定",
            fields=["outcome", "decision_text", "decided_on", "decided_by"],
        )
        notices.notice_issue(
            kind=CertificateDocument.Kind.APPEAL_DECISION,
            actor=actor,
            on=decided_on,
            appeal=appeal,
            certificate=appeal.certificate,
            decision=appeal.decision,
            organization=appeal.organization,
        )
    return appeal
