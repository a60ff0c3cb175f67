"""Who does what in the demo's stories (``Staff``) and the service sequences the stories share
(``Director``): applications, audits, score sheets, nonconformities, decisions.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile

from applications import services as app_services
from applications.models import Application, ApplicationReview, Organization
from applications.quotations import application_quotation
from audits import rules
from audits import services as audit_services
from audits.models import (
    Audit,
    AuditProgramme,
    AuditReport,
    Indicator,
    Nonconformity,
    ScoreSheet,
)
from audits.selectors.calendar import booking_conflicts
from certbody.models import User
from certificates import services as cert_services
from certificates.models import Certificate, Decision
from demo.agenda import demo_agenda
from demo.plan import (
    BONUS_JUSTIFICATION,
    DEDUCTIONS,
    DEMO_LAST_DATE,
    DEMO_SEED,
    EVIDENCE_PDF,
    EXCLUDED_INDICATOR,
    EXCLUDING_SCOPE_CODES,
    EXCLUSION_JUSTIFICATION,
    NC_ANSWER,
    NC_FINDINGS,
    NOT_MET_EVIDENCE,
    SAMPLE_EVIDENCE,
    SCORE_PROFILES,
    OrgPlan,
    sample_evidence,
)


@dataclass
class Staff:
    market: User
    planner: User
    technical_manager: User
    auditors: list[User]
    deciders: list[User]
    system: User


Story = Generator[date, None, object]


class Director:
    """Shared helpers of the stories: who does what, and the common service sequences."""

    def __init__(self, staff: Staff, plan: OrgPlan, organization: Organization):
        self.staff = staff
        self.plan = plan
        self.organization = organization
        # Per-organisation randomness, derived from the fixed demo seed.
        self.rng = random.Random(DEMO_SEED * 1000 + plan.key)
        self.team_index = plan.key

    # people
    def team(self) -> tuple[User, User]:
        auditors = self.staff.auditors
        self.team_index += 1
        return (
            auditors[self.team_index % len(auditors)],
            auditors[(self.team_index + 1) % len(auditors)],
        )

    def decider(self) -> User:
        return self.staff.deciders[self.plan.key % len(self.staff.deciders)]

    # applications
    def application(
        self, *, kind=Application.Kind.INITIAL, until="accepted", received_on=None
    ) -> Application:
        market = self.staff.market
        application = app_services.application_create(
            organization=self.organization,
            actor=market,
            scope_text=self.plan.scope_text,
            headcount=self.plan.headcount,
            business_scope_codes=self.plan.scope_codes,
            kind=kind,
            requested_grade=self.plan.grade or "standard",
            outsourced_processes="大件商品的配送委托第三方物流公司实施"
            if self.plan.key % 3 == 0
            else "",
        )
        if until == "draft":
            return application
        app_services.application_submit(
            application=application, actor=market, received_on=received_on
        )
        if until == "submitted":
            return application
        app_services.application_start_review(application=application, actor=market)
        if until == "under_review":
            app_services.application_review_record(
                application=application,
                actor=market,
                checks={**dict.fromkeys(ApplicationReview.CHECKS, True), "sites_considered": False},
                notes="待申请组织补充各服务网点清单及人数后再评审多场所抽样。",
            )
            return application
        if until == "rejected":
            app_services.application_reject(
                application=application,
                actor=market,
                reason="申请组织售后服务体系运行不足 3 个月，不满足申请条件（004 §5.1.2）。",
            )
            return application
        app_services.application_review_record(
            application=application,
            actor=market,
            checks=dict.fromkeys(ApplicationReview.CHECKS, True),
            notes="资料齐全，法律地位已核实，认证范围明确。",
        )
        app_services.application_accept(application=application, actor=market)
        return application

    def contract(self, application: Application, *, signed_on: date | None):
        self.rng.choice([18000, 22000, 26000, 32000, 45000])  # keeps the seeded sequence
        # The fee schedule from the application's quotation (the proposed days at the tariff).
        quotation = application_quotation(application)
        contract = app_services.contract_create(
            application=application,
            actor=self.staff.market,
            **(quotation.fees if quotation else {}),
            terms="按 ZXRZ 售后服务认证规则及认证合同通用条款执行。",
        )
        if signed_on is not None:
            app_services.contract_sign(
                contract=contract,
                actor=self.staff.market,
                signed_on=signed_on,
                signed_by_client=self.plan.legal_representative,
            )
        return contract

    # audits
    def staff_audit(
        self,
        audit: Audit,
        *,
        start: date,
        end: date,
        with_member: bool,
        leader: User | None = None,
    ) -> None:
        team_leader, member = self.team()
        if leader is not None and leader != team_leader:
            team_leader, member = leader, team_leader
        team_leader, member = self._free_team(team_leader, member, start, end, keep=leader)
        planner = self.staff.planner
        audit_services.audit_schedule(
            audit=audit,
            actor=planner,
            planned_start=start,
            planned_end=end,
            planned_days=audit.planned_days or rules.table_days(self.plan.headcount),
        )
        audit_services.audit_team_add(audit=audit, actor=planner, user=team_leader, role="leader")
        if with_member:
            audit_services.audit_team_add(audit=audit, actor=planner, user=member, role="auditor")
        if audit.needs_site_visit:
            self.plan_audit(audit, start=start)

    def _free_team(self, leader: User, member: User, start: date, end: date, *, keep=None):
        """``leader`` and ``member``, each replaced by the next demo auditor free from
        ``start`` to ``end`` when blocked or booked on another audit then (the services refuse
        a double booking, issue #14); ``keep`` (an explicitly chosen leader) is never replaced.
        Unchanged when nobody is free (the service then says why)."""
        auditors = self.staff.auditors

        def free(user) -> bool:
            return not booking_conflicts([user.pk], start, end)

        def next_free(user, other):
            at = auditors.index(user) if user in auditors else 0
            rotated = [auditors[(at + n) % len(auditors)] for n in range(len(auditors))]
            return next((a for a in rotated if a != other and free(a)), user)

        if keep is None and not free(leader):
            leader = next_free(leader, member)
        if member == leader or not free(member):
            member = next_free(member, leader)
        return leader, member

    def plan_audit(self, audit: Audit, *, start: date) -> None:
        """The written plan of an on-site audit: sent a week before, confirmed by the client
        the next day and reported to CNCA 5 days before (004 §5.4.6.3, §9.2); an audit too
        far ahead for that within the demo's dates keeps a draft plan."""
        planner = self.staff.planner
        plan = audit_services.audit_plan_prepare(
            audit=audit,
            actor=planner,
            objectives="评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
            criteria="GB/T 27922-2011《商品售后服务评价体系》；ZXRZ 售后服务认证规则",
            scope_text=self.plan.scope_text,
            shifts_covered="白班（9:00–18:00）",
            sites=list(audit.organization.sites.all()),
            schedule="",
        )
        demo_agenda(plan, actor=planner)
        reported_on = start - timedelta(days=5)
        if reported_on > DEMO_LAST_DATE:
            return
        audit_services.audit_plan_send(plan=plan, actor=planner, sent_on=start - timedelta(days=7))
        audit_services.audit_plan_confirm(
            plan=plan,
            actor=planner,
            confirmed_on=start - timedelta(days=6),
            confirmed_by=self.plan.contact_name,
        )
        audit_services.audit_plan_report_cnca(plan=plan, actor=planner, reported_on=reported_on)

    def leader_of(self, audit: Audit) -> User:
        return audit.team.get(role="leader").user

    def meeting(self, audit: Audit, kind: str, *, on: date) -> None:
        """The team leader records an on-site audit's opening or closing meeting, attended by
        the client's top manager and service manager (004 §5.5.2)."""
        if not audit.needs_site_visit:
            return
        audit_services.audit_meeting_record(
            audit=audit,
            actor=self.leader_of(audit),
            kind=kind,
            held_on=on,
            attendees=[
                {
                    "name": self.plan.legal_representative,
                    "role": "最高管理者",
                    "position": "总经理",
                },
                {"name": self.plan.contact_name, "role": "售后服务负责人", "position": "联系人"},
            ],
            top_manager_present=True,
            check_in_confirmed=True,
        )

    def run_audit(self, audit, *, start, end, positive=True, findings="") -> Audit:
        """Start and complete ``audit`` (team already assigned), with its meetings."""
        audit_services.audit_start(audit=audit, actor=self.staff.planner, started_on=start)
        audit.refresh_from_db()
        self.meeting(audit, "opening", on=start)
        self.verify_plans(audit, on=start)
        self.meeting(audit, "closing", on=end)
        audit_services.audit_complete(
            audit=audit,
            actor=self.leader_of(audit),
            ended_on=end,
            findings=findings or "未发现严重不符合项；轻微不符合项已在规定期限内完成纠正。",
            recommendation_positive=positive,
        )
        audit.refresh_from_db()
        return audit

    def decide(
        self, audit: Audit, *, outcome: str, on: date, reasons: str = "", grade: str = ""
    ) -> Decision:
        """A decision maker's decision, on the team leader's report signed that day (004
        §5.12.1); a grant names the grade its score sheet reached."""
        self.sign_report(audit, on=on)
        return cert_services.decision_make(
            audit=audit,
            actor=self.decider(),
            outcome=outcome,
            decided_on=on,
            star_grade=grade if outcome == Decision.Outcome.GRANT else "",
            reasons=reasons,
        )

    def terminate_planned(self, programme: AuditProgramme, reason: str) -> None:
        for audit in programme.audits.filter(state=Audit.State.PLANNED).order_by("pk"):
            audit_services.audit_terminate(audit=audit, actor=self.staff.planner, reason=reason)

    # score sheets (004 §5.6.5)
    def score(
        self, audit: Audit, *, grade: str, on: date, variant: int, bonus: bool = False
    ) -> ScoreSheet:
        """The team fills the audit's score sheet to land in ``grade`` and the leader signs
        it off on ``on``; the item results come from ``SCORE_PROFILES[grade]``."""
        leader = self.leader_of(audit)
        profiles = SCORE_PROFILES[grade]
        profile = profiles[variant % len(profiles)]
        sheet = audit_services.score_sheet_open(audit=audit, actor=leader)
        items = {item.indicator.code: item for item in sheet.items.select_related("indicator")}
        for code, samples, nonconforming in profile.sampled:
            audit_services.score_item_update(
                item=items[code],
                actor=leader,
                samples=samples,
                nonconforming=nonconforming,
                evidence=sample_evidence(code, samples, nonconforming),
            )
        for code in profile.not_met:
            audit_services.score_item_update(
                item=items[code], actor=leader, met=False, evidence=NOT_MET_EVIDENCE[code]
            )
        if EXCLUDING_SCOPE_CODES.intersection(self.plan.scope_codes):
            audit_services.score_item_update(
                item=items[EXCLUDED_INDICATOR],
                actor=leader,
                excluded=True,
                exclusion_justification=EXCLUSION_JUSTIFICATION,
            )
        # Every other indicator is assessed too: met, or sampled with all samples conforming
        # (a sheet is signed off only when complete, 004 §5.6.5.2).
        for item in sheet.items.select_related("indicator").filter(assessed=False):
            sampled = item.indicator.method == Indicator.Method.SAMPLED
            samples = 10 if sampled else 0
            audit_services.score_item_update(
                item=item,
                actor=leader,
                met=True,
                samples=samples,
                evidence=sample_evidence(item.indicator.code, samples, 0)
                if item.indicator.code in SAMPLE_EVIDENCE
                else "",
            )
        for category, description, correction in DEDUCTIONS[: profile.deductions]:
            audit_services.special_deduction_add(
                sheet=sheet,
                actor=leader,
                category=category,
                description=description,
                correction_required=correction,
            )
        if bonus:
            audit_services.special_bonus_set(
                sheet=sheet, actor=leader, granted=True, justification=BONUS_JUSTIFICATION
            )
        sheet = audit_services.score_sheet_submit(sheet=sheet, actor=leader, submitted_on=on)
        if sheet.grade != grade:
            raise AssertionError(f"{audit}: score {sheet.score} is {sheet.grade}, not {grade}")
        return sheet

    def current_certificate(self) -> Certificate:
        """The organisation's head certificate of the current cycle."""
        return (
            Certificate.objects.filter(organization=self.organization, head__isnull=True)
            .exclude(status=Certificate.Status.SUPERSEDED)
            .order_by("-issued_on", "-pk")
            .first()
        )

    # nonconformities (004 §5.10)
    def raise_nc(self, audit: Audit, *, severity: str, on: date, finding: tuple) -> Nonconformity:
        clause, description, evidence = finding
        return audit_services.nonconformity_raise(
            audit=audit,
            actor=self.leader_of(audit),
            severity=severity,
            clause=clause,
            description=description,
            evidence=evidence,
            raised_on=on,
        )

    def answer_nc(self, nc: Nonconformity, *, on: date, is_plan: bool, attach=False):
        """The client answers (its log-in when it has one, else the audit department enters
        the answer on its behalf, which the history records)."""
        actor = (
            User.objects.get(username=self.plan.client_username)
            if self.plan.client_username
            else self.staff.planner
        )
        cause, correction, action = NC_ANSWER
        files = [SimpleUploadedFile("整改记录.pdf", EVIDENCE_PDF)] if attach else []
        return audit_services.nonconformity_answer(
            nonconformity=nc,
            actor=actor,
            cause_analysis=cause,
            correction=correction,
            corrective_action=action + ("（计划于下次审核前完成）" if is_plan else ""),
            is_plan=is_plan,
            attachments=files,
            submitted_on=on,
        )

    def review_nc(self, nc: Nonconformity, *, on: date, accepted: bool, note: str):
        return audit_services.nonconformity_review_pending(
            nonconformity=nc,
            actor=self.leader_of(nc.audit),
            accepted=accepted,
            note=note,
            reviewed_on=on,
        )

    def minor_with_plan(self, audit: Audit, *, on: date) -> Story:
        """A minor NC from ``on``; the client sends a plan, the team accepts it (2 days)."""
        nc = self.raise_nc(audit, severity="minor", on=on, finding=NC_FINDINGS["minor"])
        yield on + timedelta(days=1)
        self.answer_nc(nc, on=on + timedelta(days=1), is_plan=True)
        yield on + timedelta(days=2)
        self.review_nc(
            nc,
            on=on + timedelta(days=2),
            accepted=True,
            note="纠正措施计划可行，下次审核时验证实施效果。",
        )

    def verify_plans(self, audit: Audit, *, on: date) -> None:
        """At each audit the team verifies the plans accepted at earlier ones (004 §5.10.2)."""
        if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
            return
        accepted = Nonconformity.objects.filter(
            audit__programme__organization=self.organization,
            state=Nonconformity.State.PLAN_ACCEPTED,
        ).exclude(audit=audit)
        for nc in accepted.order_by("pk"):
            audit_services.nonconformity_verify_plan(
                nonconformity=nc,
                actor=self.leader_of(audit),
                audit=audit,
                effective=True,
                note="抽查整改后的回访记录，纠正措施已实施并有效。",
                verified_on=on,
            )

    def pending_findings(self, audit: Audit, *, on: date) -> Story:
        """A surveillance left awaiting its decision: the client answered a minor NC (not yet
        reviewed) and a major one whose answer the team rejected."""
        minor = self.raise_nc(audit, severity="minor", on=on, finding=NC_FINDINGS["minor"])
        major = self.raise_nc(audit, severity="major", on=on, finding=NC_FINDINGS["major"])
        yield on + timedelta(days=2)
        self.answer_nc(minor, on=on + timedelta(days=2), is_plan=False, attach=True)
        self.answer_nc(major, on=on + timedelta(days=2), is_plan=False)
        yield on + timedelta(days=4)
        self.review_nc(
            major,
            on=on + timedelta(days=4),
            accepted=False,
            note="原因分析停留在个人责任层面，未分析投诉处理程序本身的缺陷；"
            "请补充程序修订及培训记录后重新答复。",
        )

    def sign_report(self, audit: Audit, *, on: date) -> AuditReport:
        """The leader's signed audit report, signed on ``on`` unless there is one already."""
        report = audit.reports.filter(kind=AuditReport.Kind.REPORT).order_by("-version").first()
        return report or audit_services.audit_report_generate(
            audit=audit, actor=self.leader_of(audit), signed_on=on
        )

    def report(self, audit: Audit, *, on: date) -> Story:
        """The audit report signed by the leader for the decision (on the decision day at the
        latest) is delivered 3 days after it."""
        report = self.sign_report(audit, on=on)
        delivered_on = min(on + timedelta(days=3), DEMO_LAST_DATE)
        yield delivered_on
        audit_services.audit_report_deliver(
            report=report,
            actor=self.staff.planner,
            delivered_on=delivered_on,
            evidence=f"快递签收单（{self.plan.contact_name}签收）",
        )

    # sequences of steps
    def opening(self, *, decided_on: date) -> Story:
        """Application → contract → programme → document review; returns the programme."""
        start = decided_on - timedelta(days=self.rng.randint(70, 95))
        yield start
        application = self.application()
        yield start + timedelta(days=4)
        self.contract(application, signed_on=start + timedelta(days=4))
        programme = audit_services.programme_create(
            application=application, actor=self.staff.planner
        )
        review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
        review_on = start + timedelta(days=self.rng.randint(12, 20))
        yield review_on
        self.staff_audit(review, start=review_on, end=review_on, with_member=False)
        self.run_audit(review, start=review_on, end=review_on, findings="文件审核通过。")
        audit_services.audit_close(audit=review, actor=self.staff.planner)
        return programme

    def stage2(self, programme: AuditProgramme, *, start: date, grade: str) -> Story:
        """Stage 2 on site from ``start``, scored at ``grade``; returns the completed audit."""
        stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
        days = 1 if self.plan.headcount < 150 else 2
        yield start - timedelta(days=10)
        self.staff_audit(stage2, start=start, end=start + timedelta(days=days), with_member=True)
        yield start
        end = start + timedelta(days=days)
        findings = (
            "未建立顾客投诉处理程序，服务网点未实施服务承诺，售后服务体系未有效运行；"
            "服务测评评价不合格。"
            if grade == "fail"
            else ""
        )
        stage2 = self.run_audit(
            stage2, start=start, end=end, positive=grade != "fail", findings=findings
        )
        self.score(stage2, grade=grade, on=end, variant=self.plan.key)
        if self.plan.nc_story == "plan_at_stage2":
            yield from self.minor_with_plan(stage2, on=end)
        elif self.plan.nc_story == "major_closed_at_stage2":
            nc = self.raise_nc(stage2, severity="major", on=end, finding=NC_FINDINGS["major"])
            yield end + timedelta(days=5)
            self.answer_nc(nc, on=end + timedelta(days=5), is_plan=False, attach=True)
            yield end + timedelta(days=9)
            self.review_nc(
                nc,
                on=end + timedelta(days=9),
                accepted=True,
                note="现场验证：投诉处理程序已修订并培训，抽查新受理的投诉均按时限处理。",
            )
        return stage2

    def initial_certificate(self) -> Story:
        """The whole initial certification; returns the head certificate."""
        decided_on = self.plan.decided_on
        programme = yield from self.opening(decided_on=decided_on)
        stage2_start = decided_on - timedelta(days=self.rng.randint(18, 30))
        stage2 = yield from self.stage2(programme, start=stage2_start, grade=self.plan.grade)
        yield decided_on
        decision = self.decide(
            stage2, outcome=Decision.Outcome.GRANT, on=decided_on, grade=self.plan.grade
        )
        if self.plan.client_username and stage2.nonconformities.exists():
            yield from self.report(stage2, on=decided_on)
        return decision.certificates.get(head__isnull=True)

    def surveillances(self, programme: AuditProgramme, *, stop_on: date) -> Story:
        """Run the cycle's surveillance audits that start and are decided before ``stop_on``.

        Each is scored at the certificate's grade and maintained by the team leader's
        conclusion (odd organisation keys, 004 §5.12.6) or a decision maker. When ``stop_on``
        is the demo's last date, an audit already started is left in progress or completed
        (awaiting its decision); the next one due soon is scheduled.
        """
        live = stop_on >= DEMO_LAST_DATE
        audits = programme.audits.filter(kind=Audit.Kind.SURVEILLANCE, state=Audit.State.PLANNED)
        for audit in audits.order_by("sequence"):
            start = audit.due_on - timedelta(days=self.rng.randint(20, 45))
            end = start + timedelta(days=1)
            decide_on = end + timedelta(days=self.rng.randint(4, 12))
            staffed = audit.team.exists()
            if decide_on >= stop_on and not (live and start <= DEMO_LAST_DATE):
                if live and not staffed and start <= DEMO_LAST_DATE + timedelta(days=75):
                    yield min(DEMO_LAST_DATE, start - timedelta(days=20))
                    self.staff_audit(audit, start=start, end=end, with_member=False)
                return
            if not staffed:
                yield start - timedelta(days=15)
                self.staff_audit(audit, start=start, end=end, with_member=False)
            yield start
            audit_services.audit_start(audit=audit, actor=self.staff.planner, started_on=start)
            audit.refresh_from_db()
            self.meeting(audit, "opening", on=start)
            self.verify_plans(audit, on=start)
            if end > DEMO_LAST_DATE:
                return
            yield end
            self.meeting(audit, "closing", on=end)
            audit_services.audit_complete(
                audit=audit,
                actor=self.leader_of(audit),
                ended_on=end,
                findings="体系持续有效运行，顾客满意度测评结果良好。",
                recommendation_positive=True,
            )
            audit.refresh_from_db()
            self.score(
                audit,
                grade=self.current_certificate().star_grade,
                on=end,
                variant=self.plan.key + audit.sequence,
            )
            if self.plan.nc_story == f"plan_at_surveillance{audit.sequence}":
                yield from self.minor_with_plan(audit, on=end)
            if decide_on > DEMO_LAST_DATE:
                if end + timedelta(days=4) <= DEMO_LAST_DATE:
                    yield from self.pending_findings(audit, on=end)
                return
            yield decide_on
            self.maintain(audit, on=decide_on)
            if self.plan.client_username and audit.nonconformities.exists():
                yield from self.report(audit, on=decide_on)

    def maintain(self, audit: Audit, *, on: date) -> None:
        """Maintain the certificate after a surveillance: the team leader's positive
        conclusion when 004 §5.12.6 allows it (odd keys), else a decision maker."""
        audit.refresh_from_db()
        if self.plan.key % 2:
            certificate = self.current_certificate()
            sheet = ScoreSheet.objects.get(audit=audit)
            if not cert_services.surveillance_conclusion_failures(
                audit, certificate=certificate, sheet=sheet
            ):
                cert_services.surveillance_conclude(
                    audit=audit,
                    actor=self.leader_of(audit),
                    concluded_on=on,
                    positive=True,
                    note="监督审核未发现严重不符合项，服务测评保持证书星级，"
                    "审核组长结论保持认证（004 §5.12.6）。",
                )
                return
        self.decide(audit, outcome=Decision.Outcome.MAINTAIN, on=on)
