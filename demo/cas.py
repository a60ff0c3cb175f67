"""A CAS client under surveillance (scheme "CAS", seed 001), played through the services.

The rest of the demo runs under the CB's ZXRZ rules; this client shows where CAS differs:

- certified on a CAS application (001 Appendix A time, 001 §9.3 cause tables);
- its first surveillance took place inside the CAS window, 9–12 months after stage 2
  (001 §7.1; scheduling it earlier is refused unless it is a special audit);
- the surveillance found a minor nonconformity, due 2 months after the audit's end
  (001 §7.5), not answered yet: the audit awaits a decision maker, because under CAS the team
  leader's conclusion does not maintain the certificate (001 §7.5 vs 004 §5.12.6); if the
  finding is not corrected by its deadline, the ``cas_nonconformity_suspension`` job suspends
  the certificate with cause 001 §9.3.2.1(7).

``seed_cas_client`` is called once from ``demo.build.build_demo``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from applications import services as app_services
from applications.models import ApplicationReview, Organization, Site
from applications.validators import build_uscc
from audits import services as audit_services
from audits.models import Audit
from certbody.models import BusinessScope
from certificates.models import Decision
from demo.agenda import demo_agenda
from demo.director import Director, Staff
from demo.plan import DEMO_USCC_SERIAL_BASE, NC_FINDINGS, OrgPlan, SitePlan

_ADDRESS = "北京市朝阳区朝阳北路 186 号"
_SCOPE = "家用电器及日用百货的批发、零售及售后服务（配送、安装、维修、退换货）"

# Outside the range plan_demo draws its serials from (DEMO_USCC_SERIAL_BASE + 1 … 999,999).
CAS_CLIENT = OrgPlan(
    key=900,
    story="cas_surveillance",
    name="北京京华百货批发零售有限公司",
    uscc=build_uscc("110105", DEMO_USCC_SERIAL_BASE + 1_000_001),
    division_code="110105",
    registered_address=_ADDRESS,
    postcode="100020",
    legal_representative="韩国强",
    contact_name="曹春梅",
    contact_phone="13910862517",
    contact_email="service@jinghua-retail.example.cn",
    headcount=86,
    scope_codes=(24,),
    scope_text=_SCOPE,
    sites=(SitePlan("京华百货总部", _ADDRESS, "110105", 86, ""),),
    grade="four_star",
    decided_on=date(2025, 11, 25),
)

APPLIED_ON = date(2025, 9, 1)
CONTRACT_ON = date(2025, 9, 5)
REVIEW_ON = date(2025, 9, 22)
STAGE2 = (date(2025, 11, 10), date(2025, 11, 11))
# 001 §7.1: 9–12 months after stage 2 ended on 2025-11-11, i.e. 2026-08-11 … 2026-11-11.
SURVEILLANCE = (date(2026, 10, 27), date(2026, 10, 28))


class _CasDirector(Director):
    """The shared service sequences, with CAS's rules named in the contract and the plans."""

    def contract(self, application, *, signed_on):
        contract = app_services.contract_create(
            application=application,
            actor=self.staff.market,
            fee=24000,
            terms="按 CAS 服务认证规则（批发业和零售业售后服务）及认证合同通用条款执行。",
        )
        app_services.contract_sign(
            contract=contract,
            actor=self.staff.market,
            signed_on=signed_on,
            signed_by_client=self.plan.legal_representative,
        )
        return contract

    def plan_audit(self, audit: Audit, *, start: date) -> None:
        planner = self.staff.planner
        plan = audit_services.audit_plan_prepare(
            audit=audit,
            actor=planner,
            objectives="评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
            criteria="GB/T 27922-2011《商品售后服务评价体系》；CAS 服务认证规则（批发业和零售业）",
            scope_text=self.plan.scope_text,
            shifts_covered="白班（9:00–18:00）",
            sites=list(audit.organization.sites.all()),
            schedule="",
        )
        demo_agenda(plan, actor=planner)
        audit_services.audit_plan_send(plan=plan, actor=planner, sent_on=start - timedelta(days=7))
        audit_services.audit_plan_confirm(
            plan=plan,
            actor=planner,
            confirmed_on=start - timedelta(days=6),
            confirmed_by=self.plan.contact_name,
        )
        audit_services.audit_plan_report_cnca(
            plan=plan, actor=planner, reported_on=start - timedelta(days=5)
        )


def _organization(plan: OrgPlan) -> Organization:
    organization = Organization(
        name=plan.name,
        uscc=plan.uscc,
        registered_address=plan.registered_address,
        postcode=plan.postcode,
        division_code=plan.division_code,
        industry="批发和零售业",
        legal_representative=plan.legal_representative,
        contact_name=plan.contact_name,
        contact_phone=plan.contact_phone,
        contact_email=plan.contact_email,
        headcount=plan.headcount,
    )
    organization.full_clean()
    organization.save()
    organization.business_scopes.set(BusinessScope.objects.filter(code__in=plan.scope_codes))
    for site in plan.sites:
        Site.objects.create(
            organization=organization,
            name=site.name,
            address=site.address,
            division_code=site.division_code,
            headcount=site.headcount,
            is_head_office=True,
            scope_text=site.scope_text,
        )
    return organization


def seed_cas_client(staff: Staff, log: Callable[[str], None] = lambda message: None) -> Audit:
    """Create ``CAS_CLIENT``: certified under CAS on 2025-11-25, its first surveillance done on
    2026-10-27/28 with an open minor nonconformity, awaiting a decision maker. Returns that
    surveillance audit."""
    plan = CAS_CLIENT
    organization = _organization(plan)
    director = _CasDirector(staff, plan, organization)
    market = staff.market
    application = app_services.application_create(
        organization=organization,
        actor=market,
        scope_text=plan.scope_text,
        headcount=plan.headcount,
        business_scope_codes=list(plan.scope_codes),
        requested_grade=plan.grade,
        scheme="CAS",
    )
    app_services.application_submit(application=application, actor=market)
    app_services.application_start_review(application=application, actor=market)
    app_services.application_review_record(
        application=application,
        actor=market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
        notes="按 CAS 服务认证规则（批发业和零售业）评审：资料齐全，法律地位已核实。",
    )
    app_services.application_accept(application=application, actor=market)
    director.contract(application, signed_on=CONTRACT_ON)
    programme = audit_services.programme_create(application=application, actor=staff.planner)

    review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    director.staff_audit(review, start=REVIEW_ON, end=REVIEW_ON, with_member=False)
    director.run_audit(review, start=REVIEW_ON, end=REVIEW_ON, findings="文件审查通过。")
    audit_services.audit_close(audit=review, actor=staff.planner)

    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    director.staff_audit(stage2, start=STAGE2[0], end=STAGE2[1], with_member=True)
    stage2 = director.run_audit(stage2, start=STAGE2[0], end=STAGE2[1])
    director.score(stage2, grade=plan.grade, on=STAGE2[1], variant=0)
    decision = director.decide(
        stage2, outcome=Decision.Outcome.GRANT, on=plan.decided_on, grade=plan.grade
    )

    surveillance = programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    director.staff_audit(
        surveillance, start=SURVEILLANCE[0], end=SURVEILLANCE[1], with_member=False
    )
    surveillance = director.run_audit(
        surveillance,
        start=SURVEILLANCE[0],
        end=SURVEILLANCE[1],
        findings="发现 1 项轻微不符合项，须在审查结束后两个月内完成整改（001 §7.5）。",
    )
    director.score(surveillance, grade=plan.grade, on=SURVEILLANCE[1], variant=1)
    director.raise_nc(
        surveillance, severity="minor", on=SURVEILLANCE[1], finding=NC_FINDINGS["minor"]
    )
    director.sign_report(surveillance, on=SURVEILLANCE[1])
    certificate = decision.certificates.get(head__isnull=True)
    log(f"CAS client {organization.name} ({certificate.number}) under surveillance")
    return surveillance
