"""Each demo organisation's story (``story``), played through the services in date order by
``run_stories``: a step yields the date of the next one, and a small scheduler runs every
story's steps in date order, so certificate sequences follow issue dates.
"""

from __future__ import annotations

import heapq
from datetime import date, timedelta

from applications import services as app_services
from applications.models import Application
from audits import services as audit_services
from audits.models import (
    Audit,
    ScoreSheet,
)
from certbody.dates import add_months
from certificates import causes
from certificates import services as cert_services
from certificates.models import Decision
from demo.director import Director, Story
from demo.plan import DEMO_LAST_DATE, NC_FINDINGS


def play_story(director: Director) -> Story:
    """Play the plan's story through the services, yielding the date of each next step."""
    plan, staff = director.plan, director.staff
    story = plan.story

    # Applicants
    if story in (
        "application_draft",
        "application_submitted",
        "application_under_review",
        "application_rejected",
    ):
        yield DEMO_LAST_DATE - timedelta(days=director.rng.randint(1, 20))
        director.application(until=story.removeprefix("application_"))
        return
    if story == "application_withdrawn":
        yield DEMO_LAST_DATE - timedelta(days=director.rng.randint(20, 40))
        application = director.application(until="submitted")
        app_services.application_withdraw(application=application, actor=staff.market)
        return
    if story == "contract_draft":
        yield DEMO_LAST_DATE - timedelta(days=6)
        director.contract(director.application(), signed_on=None)
        return

    # Certification under way
    if story == "programme_planned":
        yield date(2026, 10, 26)
        application = director.application()
        yield date(2026, 10, 30)
        director.contract(application, signed_on=date(2026, 10, 30))
        programme = audit_services.programme_create(application=application, actor=staff.planner)
        review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
        director.staff_audit(
            review, start=date(2026, 11, 24), end=date(2026, 11, 24), with_member=False
        )
        return
    if story in ("stage2_in_progress", "awaiting_decision", "stage2_terminated", "refused"):
        target = {
            "stage2_in_progress": date(2026, 11, 12),
            "awaiting_decision": date(2026, 11, 4),
            "stage2_terminated": date(2026, 9, 14),
            "refused": date(2026, 7, 6),
        }[story]
        programme = yield from director.opening(decided_on=target + timedelta(days=10))
        stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
        if story == "stage2_terminated":
            yield target - timedelta(days=10)
            director.staff_audit(
                stage2, start=target, end=target + timedelta(days=1), with_member=True
            )
            yield target - timedelta(days=3)
            audit_services.audit_terminate(
                audit=stage2,
                actor=staff.planner,
                reason="受审核方经营场所整体搬迁，申请终止本次现场审核，待搬迁完成后重新申请。",
            )
            return
        if story == "stage2_in_progress":
            # Led by auditor1, no score sheet yet: the scored-audit browser test scores it.
            yield target - timedelta(days=10)
            director.staff_audit(
                stage2,
                start=target,
                end=target + timedelta(days=3),
                with_member=True,
                leader=staff.auditors[0],
            )
            yield target
            audit_services.audit_start(audit=stage2, actor=staff.planner, started_on=target)
            director.meeting(stage2, "opening", on=target)
            yield target + timedelta(days=1)
            director.raise_nc(
                stage2,
                severity="minor",
                on=target + timedelta(days=1),
                finding=NC_FINDINGS["minor"],
            )
            return
        grade = "fail" if story == "refused" else plan.grade
        stage2 = yield from director.stage2(programme, start=target, grade=grade)
        if story == "refused":
            yield target + timedelta(days=30)
            sheet = ScoreSheet.objects.get(audit=stage2)
            director.decide(
                stage2,
                outcome=Decision.Outcome.REFUSE,
                on=target + timedelta(days=30),
                reasons=f"二阶段审核服务测评得分 {sheet.score} 分，低于 70 分，评价不合格"
                "（004 §5.6.5.3；001 §6.5）；未建立顾客投诉处理程序，服务网点未实施服务承诺，"
                "售后服务体系未有效运行。不予认证。",
            )
        return

    # Certified organisations
    certificate = yield from director.initial_certificate()
    programme = certificate.programme
    if story == "valid":
        yield from director.surveillances(programme, stop_on=DEMO_LAST_DATE)
        if plan.key % 7 == 0:
            yield DEMO_LAST_DATE - timedelta(days=3)
            director.application(kind=Application.Kind.CHANGE, until="draft")
        return
    if story == "recertified":
        recert_on = plan.dates["recert_decision"]
        start = recert_on - timedelta(days=director.rng.randint(75, 90))
        yield from director.surveillances(programme, stop_on=start)
        yield start
        # Received on the story's date: 004 §5.8.1 counts the 3 months before expiry from it.
        application = director.application(kind=Application.Kind.RECERTIFICATION, received_on=start)
        yield start + timedelta(days=5)
        director.contract(application, signed_on=start + timedelta(days=5))
        new_programme = audit_services.programme_create(
            application=application, actor=staff.planner
        )
        audit = new_programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
        audit_start = recert_on - timedelta(days=director.rng.randint(20, 30))
        yield audit_start - timedelta(days=10)
        director.staff_audit(
            audit, start=audit_start, end=audit_start + timedelta(days=1), with_member=True
        )
        yield audit_start
        audit_end = audit_start + timedelta(days=1)
        director.run_audit(audit, start=audit_start, end=audit_end)
        # The demo's one special bonus goes to the five-star recertification.
        director.score(
            audit,
            grade=plan.grade,
            on=audit_end,
            variant=plan.key + 3,
            bonus=plan.grade == "five_star",
        )
        yield recert_on
        director.decide(audit, outcome=Decision.Outcome.GRANT, on=recert_on, grade=plan.grade)
        return
    if story == "expired":
        yield from director.surveillances(programme, stop_on=plan.dates["recert_terminated_on"])
        yield plan.dates["recert_terminated_on"]
        director.terminate_planned(
            programme, "获证组织书面告知不再申请再认证，证书到期后自然失效。"
        )
        yield certificate.expires_on + timedelta(days=1)
        cert_services.certificate_expire(certificate=certificate, actor=staff.system)
        return

    # suspended, restored, withdrawn, cancelled
    yield from director.surveillances(programme, stop_on=plan.event_on)
    yield plan.event_on
    certificate.refresh_from_db()
    if story == "cancelled":
        cert_services.certificate_cancel(
            certificate=certificate,
            actor=staff.technical_manager,
            cancelled_on=plan.event_on,
            reason_code="0202",
            reason="获证组织因业务结构调整，书面申请注销认证证书。",
        )
        director.terminate_planned(programme, "证书已应获证组织申请注销。")
        return
    # 004 §7.2.1 causes: (11) the client's request, (2) legal requirements not met,
    # (8) contract obligations not met.
    cause = {"suspended": 11, "restored": 2, "withdrawn": 8}[story]
    reason = {
        "suspended": "获证组织因门店装修停业，主动申请暂停认证证书。",
        "restored": "获证组织因售后服务投诉处理不当受到市场监管部门行政处罚，未及时整改。",
        "withdrawn": "获证组织拒不缴纳年度监督费用，也不配合安排监督审核。",
    }[story]
    until = plan.dates.get("suspended_until") or add_months(plan.event_on, 6)
    cert_services.certificate_suspend(
        certificate=certificate,
        actor=staff.technical_manager,
        cause=cause,
        verified_on=plan.event_on - timedelta(days=1),
        starts_on=plan.event_on,
        ends_on=until,
        reason=reason,
        evidence="暂停通知书已送达获证组织并在机构网站公布。",
    )
    if story == "restored":
        yield plan.dates["restored_on"]
        cert_services.certificate_restore(
            certificate=certificate,
            actor=staff.technical_manager,
            restored_on=plan.dates["restored_on"],
            evidence="已完成整改：修订投诉处理程序并培训全体服务人员，特殊审核验证有效。",
        )
        yield from director.surveillances(programme, stop_on=DEMO_LAST_DATE)
    elif story == "withdrawn":
        withdrawn_on = plan.dates["withdrawn_on"]
        yield withdrawn_on
        cert_services.certificate_withdraw(
            certificate=certificate,
            actor=staff.technical_manager,
            cause=causes.SUSPENSION_ENDED_UNRESOLVED,
            # The last day still allows restoration (004 §7.2.4): the period has ended
            # unresolved from the next day (004 §7.3.1(7)).
            verified_on=until + timedelta(days=1),
            withdrawn_on=withdrawn_on,
            evidence="暂停期满，获证组织仍未接受监督审核，也未提交整改证据。",
        )
        director.terminate_planned(programme, "证书已撤销，审核方案终止。")


def run_stories(plans, organizations, staff, log) -> None:
    """Run every story's steps in date order (ties: organisation key)."""
    queue: list[tuple[date, int, Story]] = []
    for plan in plans:
        story = play_story(Director(staff, plan, organizations[plan.key]))
        _advance(queue, plan.key, story)
    steps = 0
    while queue:
        _, key, story = heapq.heappop(queue)
        _advance(queue, key, story)
        steps += 1
    log(f"{steps} dated steps played through the services")


def _advance(queue, key: int, story: Story) -> None:
    try:
        on = next(story)
    except StopIteration:
        return
    if on > DEMO_LAST_DATE:
        raise AssertionError(f"demo step dated {on} is after {DEMO_LAST_DATE}")
    heapq.heappush(queue, (on, key, story))
