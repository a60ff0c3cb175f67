"""Write path for applications, their review and contracts (004 §5.1–5.3; 001 §6.1).

Every function is keyword-only, takes the acting user, runs atomically and raises
``RuleViolation`` (a ValueError) with the rule named when the change is not allowed.
"""

import uuid
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone

from applications.models import Application, ApplicationReview, Contract, Organization
from certbody import roles
from certbody.lifecycle import RuleViolation, fire, lock, record, require_transition


def _require_staff_role(actor, *allowed: str) -> None:
    if not any(roles.has_role(actor, role) for role in allowed):
        raise RuleViolation(f"用户“{actor}”没有执行此操作的岗位权限")


def application_create(
    *,
    organization: Organization,
    actor,
    scope_text: str,
    headcount: int,
    business_scope_codes: Iterable[int] = (),
    kind: str = Application.Kind.INITIAL,
    scheme: str = "ZXRZ-2025",
    requested_grade: str = "standard",
    outsourced_processes: str = "",
) -> Application:
    """Create a draft application for ``organization``; ``actor`` is staff or one of its users.

    Raises RuleViolation when a client user applies for another organisation or the headcount
    is below 1 (004 §5.1.3 asks for the headcount in scope).
    """
    from certbody.models import BusinessScope

    if actor.is_client and actor.organization_id != organization.pk:
        raise RuleViolation("客户用户只能为本组织提交申请")
    if headcount < 1:
        raise RuleViolation("认证范围内的有效人数至少为 1", "004 §5.1.3")
    if not scope_text.strip():
        raise RuleViolation("请填写申请认证的范围", "004 §5.1.3")
    with transaction.atomic():
        application = Application(
            organization=organization,
            reference=f"t{uuid.uuid4().hex[:18]}",  # replaced below, once the pk exists
            kind=kind,
            scheme=scheme,
            scope_text=scope_text,
            headcount=headcount,
            requested_grade=requested_grade,
            outsourced_processes=outsourced_processes,
            created_by=actor,
        )
        record(application, actor=actor, reason="创建申请")
        application.save()
        application.reference = f"SQ{timezone.localdate().year}{application.pk:05d}"
        record(application, actor=actor, reason="编号")
        application.save(update_fields=["reference"])
        codes = list(business_scope_codes)
        if codes:
            application.business_scopes.set(BusinessScope.objects.filter(code__in=codes))
    return application


def application_submit(*, application: Application, actor) -> Application:
    """Submit a draft application (client or market staff)."""
    _check_client_or_market(actor, application)
    with transaction.atomic():
        application = lock(Application, application.pk)
        if not application.business_scopes.exists():
            raise RuleViolation("申请至少要选择一个认证业务范围类别", "004 附录B")
        application.submitted_at = timezone.now()
        fire(application, "submit", actor=actor, reason="提交申请", fields=["submitted_at"])
    return application


def application_start_review(*, application: Application, actor) -> Application:
    """Market staff take a submitted application into review (004 §5.2)."""
    _require_staff_role(actor, roles.MARKET)
    with transaction.atomic():
        application = lock(Application, application.pk)
        fire(application, "start_review", actor=actor, reason="开始申请评审")
    return application


def application_review_record(
    *, application: Application, actor, checks: dict[str, bool], notes: str = ""
) -> ApplicationReview:
    """Record (or update) the review of an application under review (004 §5.2; 001 §6.1.3).

    ``checks`` maps each name of ApplicationReview.CHECKS to whether it holds; unknown names
    raise RuleViolation.
    """
    _require_staff_role(actor, roles.MARKET)
    unknown = set(checks) - set(ApplicationReview.CHECKS)
    if unknown:
        raise RuleViolation(f"未知的评审项目：{', '.join(sorted(unknown))}")
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.UNDER_REVIEW:
            raise RuleViolation("只有评审中的申请才能记录评审结果", "004 §5.2")
        review = ApplicationReview.objects.filter(application=application).first()
        if review is None:
            review = ApplicationReview(application=application, reviewer=actor)
        review.reviewer = actor
        review.notes = notes
        review.reviewed_at = timezone.now()
        for name in ApplicationReview.CHECKS:
            setattr(review, name, bool(checks.get(name, False)))
        record(review, actor=actor, reason="申请评审")
        review.save()
    return review


def application_accept(*, application: Application, actor) -> Application:
    """Accept an application whose review passed every check (004 §5.2.1)."""
    _require_staff_role(actor, roles.MARKET)
    with transaction.atomic():
        application = lock(Application, application.pk)
        require_transition(application, "accept")
        review = ApplicationReview.objects.filter(application=application).first()
        if review is None:
            raise RuleViolation("受理前必须完成申请评审并形成记录", "004 §5.2; 001 §6.1.6")
        if not review.all_passed:
            raise RuleViolation("申请评审有未满足的项目，不能受理", "004 §5.2.1")
        application.decided_at = timezone.now()
        fire(application, "accept", actor=actor, reason="受理申请", fields=["decided_at"])
    return application


def application_reject(*, application: Application, actor, reason: str) -> Application:
    """Reject an application under review, with the reasons told to the applicant (001 §6.1.5)."""
    _require_staff_role(actor, roles.MARKET)
    if not reason.strip():
        raise RuleViolation("不予受理必须说明理由", "001 §6.1.5")
    with transaction.atomic():
        application = lock(Application, application.pk)
        application.rejection_reason = reason
        application.decided_at = timezone.now()
        fire(
            application,
            "reject",
            actor=actor,
            reason="不予受理",
            fields=["rejection_reason", "decided_at"],
        )
    return application


def application_withdraw(*, application: Application, actor) -> Application:
    """Withdraw an application not yet decided (the client's own choice, or staff on its behalf)."""
    _check_client_or_market(actor, application)
    with transaction.atomic():
        application = lock(Application, application.pk)
        fire(application, "withdraw", actor=actor, reason="撤回申请")
    return application


def contract_create(
    *, application: Application, actor, fee=0, terms: str = "", number: str = ""
) -> Contract:
    """Draft the certification contract for an accepted application (004 §5.3)."""
    _require_staff_role(actor, roles.MARKET)
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.ACCEPTED:
            raise RuleViolation("只有已受理的申请才能签订认证合同", "004 §5.3")
        if Contract.objects.filter(application=application).exists():
            raise RuleViolation("该申请已有认证合同")
        contract = Contract(
            application=application,
            number=number or f"HT{application.reference[2:]}",
            fee=fee,
            terms=terms,
        )
        record(contract, actor=actor, reason="起草认证合同")
        contract.save()
    return contract


def contract_sign(*, contract: Contract, actor, signed_on: date, signed_by_client: str) -> Contract:
    """Record the signature of the contract; no audit may start before it (004 §5.3)."""
    _require_staff_role(actor, roles.MARKET)
    if not signed_by_client.strip():
        raise RuleViolation("请填写委托方签字人")
    if signed_on > timezone.localdate():
        raise RuleViolation("签订日期不能晚于今天")
    with transaction.atomic():
        contract = lock(Contract, contract.pk)
        contract.signed_on = signed_on
        contract.signed_by_client = signed_by_client
        fire(
            contract,
            "sign",
            actor=actor,
            reason="合同签订",
            fields=["signed_on", "signed_by_client"],
        )
    return contract


def _check_client_or_market(actor, application: Application) -> None:
    if actor.is_client:
        if actor.organization_id != application.organization_id:
            raise RuleViolation("客户用户只能操作本组织的申请")
        return
    _require_staff_role(actor, roles.MARKET)
