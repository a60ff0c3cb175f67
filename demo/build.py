"""Seeding the demo (``build_demo``): the CB profile, the staff and client users, the
organisations, every story, the showcase examples and the regulator reports; and the counts
per state the command prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Count

from applications.models import Application, Organization, Site
from audits import services as audit_services
from audits.models import (
    Audit,
    Auditor,
    Nonconformity,
    ScoreSheet,
)
from certbody import roles
from certbody.lifecycle import system_user
from certbody.models import BusinessScope, User
from certificates import services as cert_services
from certificates.models import Certificate, CertificateEvent, Decision
from demo.cas import seed_cas_client
from demo.cnas import seed_cnas_obligations
from demo.contacts import create_primary_contacts
from demo.director import Staff
from demo.fees import seed_fees
from demo.intake import seed_rejected_on_eligibility
from demo.plan import (
    DEMO_LAST_DATE,
    INDUSTRIES,
    STAFF_LOGINS,
    Login,
    OrgPlan,
    demo_password,
    ensure_certification_body,
    hash_demo_password,
    plan_demo,
)
from demo.planning_calendar import seed_calendar
from demo.registrations import seed_registrations
from demo.stories import run_stories
from reporting.models import ReportRun


@dataclass
class DemoResult:
    created: bool
    logins: list[Login]
    counts: dict[str, dict[str, int]]


def demo_exists() -> bool:
    """Whether the demo was seeded: its first organisation's USCC is in the database."""
    return Organization.objects.filter(uscc=plan_demo()[0].uscc).exists()


def demo_logins(plans: list[OrgPlan] | None = None) -> list[Login]:
    """Every demo log-in: the staff, then the client users."""
    plans = plans if plans is not None else plan_demo()
    clients = sorted(
        (
            Login(p.client_username, p.contact_name, "client", p.name)
            for p in plans
            if p.client_username
        ),
        key=lambda login: login.username,
    )
    return [*STAFF_LOGINS, *clients]


def build_demo(*, log: Callable[[str], None] = lambda message: None) -> DemoResult:
    """Seed the demo unless it exists; returns the log-ins and the counts per state.

    Runs in one transaction: a failure leaves no partial demo behind (PDF files already written
    to MEDIA_ROOT stay; they are not referenced by any row).
    """
    plans = plan_demo()
    if demo_exists():
        return DemoResult(created=False, logins=demo_logins(plans), counts=demo_counts())
    with transaction.atomic():
        ensure_certification_body()
        staff = _create_staff(log)
        organizations = {plan.key: _create_organization(plan) for plan in plans}
        _create_clients(plans, organizations)
        create_primary_contacts()
        log(f"{len(plans)} organisations, {len(STAFF_LOGINS)} staff log-ins created")
        run_stories(plans, organizations, staff, log)
        seed_fees(staff, log)
        _showcase(staff, log)
        seed_cas_client(staff, log)
        seed_rejected_on_eligibility(staff, log)
        _generate_reports(staff, log)
        seed_registrations(staff, log)
        seed_cnas_obligations(staff, log)
        seed_calendar(staff, log)
    return DemoResult(created=True, logins=demo_logins(plans), counts=demo_counts())


def _create_staff(log) -> Staff:
    users = {}
    for login in STAFF_LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = User(username=login.username, display_name=login.display_name, is_staff=True)
            user.is_superuser = login.role == "superuser"
            user.password = hash_demo_password(login.password)
            user.save()
        if login.role in roles.STAFF_ROLES:
            user.groups.add(Group.objects.get(name=login.role))
        users[login.username] = user
    register_auditors(
        [users[f"auditor{n}"] for n in range(1, 5)], actor=users["planner"], first_number=10231
    )
    # Decision makers are full-time registered certification staff (004 §5.12.1, §12.1.3).
    for n, name in enumerate(("decider1", "decider2")):
        if not Auditor.objects.filter(user=users[name]).exists():
            audit_services.auditor_register(
                user=users[name],
                actor=users["planner"],
                qualification=Auditor.Qualification.SENIOR_AUDITOR,
                is_full_time=True,
                registration_number=f"2016-FW-{10101 + n:05d}",
            )
    return Staff(
        market=users["market"],
        planner=users["planner"],
        technical_manager=users["techmgr"],
        auditors=[users[f"auditor{n}"] for n in range(1, 5)],
        deciders=[users["decider1"], users["decider2"]],
        system=system_user(),
    )


# Every business scope category the demo's (and generate_data's) clients are in.
AUDITOR_SCOPE_CODES = tuple(sorted({code for codes, _, _ in INDUSTRIES for code in codes}))
AUDITOR_COMPETENT_SINCE = date(2019, 6, 1)


def register_auditors(users: list[User], *, actor: User, first_number: int) -> None:
    """Auditor profiles (full-time, registered, the first one senior) competent for every
    business scope category in ``AUDITOR_SCOPE_CODES``, through the audits services."""
    for n, user in enumerate(users):
        if Auditor.objects.filter(user=user).exists():
            continue
        auditor = audit_services.auditor_register(
            user=user,
            actor=actor,
            qualification=Auditor.Qualification.SENIOR_AUDITOR
            if n == 0
            else Auditor.Qualification.AUDITOR,
            is_full_time=True,
            registration_number=f"2019-FW-{first_number + n:05d}",
        )
        for code in AUDITOR_SCOPE_CODES:
            audit_services.auditor_competence_grant(
                auditor=auditor,
                actor=actor,
                scope_code=code,
                evidence="售后服务认证审查员专业能力评价记录（见证审核及培训考核）",
                granted_on=AUDITOR_COMPETENT_SINCE,
            )


def _create_organization(plan: OrgPlan) -> Organization:
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
    for n, site in enumerate(plan.sites):
        Site.objects.create(
            organization=organization,
            name=site.name,
            address=site.address,
            division_code=site.division_code,
            headcount=site.headcount,
            is_head_office=n == 0,
            scope_text=site.scope_text,
        )
    return organization


def _create_clients(plans: list[OrgPlan], organizations: dict[int, Organization]) -> None:
    for plan in plans:
        if not plan.client_username or User.objects.filter(username=plan.client_username).exists():
            continue
        user = User(
            username=plan.client_username,
            display_name=plan.contact_name,
            phone=plan.contact_phone,
            email=plan.contact_email,
            organization=organizations[plan.key],
            is_staff=False,
        )
        user.password = hash_demo_password(demo_password(plan.client_username))
        user.save()


# --- regulator reports -------------------------------------------------------------------

# The demo auditors' personal data for the reports' team and personnel columns: ID number
# without its check digit (GB 11643), gender, birth date, education, school, subject, title.
DEMO_PERSONNEL = (
    ("11010519820315403", "M", date(1982, 3, 15), "硕士", "中国人民大学", "工商管理", "高级经济师"),
    ("31010419850722602", "F", date(1985, 7, 22), "本科", "上海财经大学", "市场营销", "经济师"),
    ("44010619791108301", "M", date(1979, 11, 8), "本科", "华南理工大学", "质量管理", "高级工程师"),
    ("33010619900214102", "F", date(1990, 2, 14), "硕士", "浙江大学", "管理科学与工程", "工程师"),
    # The two decision makers.
    ("11010819750603201", "M", date(1975, 6, 3), "硕士", "清华大学", "管理科学与工程", "研究员"),
    ("32010219800911502", "F", date(1980, 9, 11), "本科", "南京大学", "经济管理", "高级经济师"),
)


def id_number(body17: str) -> str:
    """A mainland ID number: the 17 digits of ``body17`` plus their check character (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def _generate_reports(staff: Staff, log) -> None:
    """Personnel records, a change of the CB, and one report of each kind, through the reporting
    services and jobs: October 2026's monthly reports and 2025's annual ones generated by the
    periodic job (system user), a status-change report; all marked submitted with a receipt by
    the reporting officer except October's 获证组织基本信息月报, left overdue (due 5 November)."""
    from certbody import jobs
    from reporting import services as report_services
    from reporting.models import CbChange

    reporting = User.objects.get(username="reporting")
    for user, (body, gender, born, education, school, major, title) in zip(
        [*staff.auditors, *staff.deciders], DEMO_PERSONNEL, strict=True
    ):
        report_services.personnel_record_save(
            auditor=user.auditor_profile,
            actor=staff.planner,
            id_number=id_number(body),
            gender=gender,
            birth_date=born,
            education=education,
            school=school,
            major=major,
            title=title,
            residence="北京市",
            duties="认证决定" if user in staff.deciders else "审核组长、审核员",
            employed_on=date(2019, 6, 1),
        )
    report_services.cb_change_record(
        actor=reporting,
        category=CbChange.Category.DOCUMENTS,
        occurred_on=date(2026, 10, 12),
        description="修订《认证信息管理程序》（B/0 版），增加证书状态变更 2 个工作日内报送的要求。",
        evidence="程序文件发布令 HX-QP-2026-08",
    )
    jobs.run("periodic_reports", today=DEMO_LAST_DATE)
    jobs.run("status_change_reports", today=DEMO_LAST_DATE)
    if not ReportRun.objects.filter(kind=ReportRun.Kind.STATUS_CHANGE).exists():
        event = (
            CertificateEvent.objects.filter(
                kind__in=report_services.STATUS_CHANGE_EVENTS, certificate__head__isnull=True
            )
            .order_by("-occurred_on", "-pk")
            .first()
        )
        report_services.report_generate(
            kind=ReportRun.Kind.STATUS_CHANGE, actor=reporting, event=event
        )
    overdue = ReportRun.Kind.ORGANISATIONS_MONTHLY
    for n, run in enumerate(ReportRun.objects.exclude(kind=overdue).order_by("pk"), start=1):
        report_services.report_submit(
            run=run, actor=reporting, receipt_number=f"HX-{run.due_on:%Y%m}-{n:04d}"
        )
    log(f"{ReportRun.objects.count()} reports generated, one left overdue")


# --- reporting on the result --------------------------------------------------------------


def demo_counts() -> dict[str, dict[str, int]]:
    """Counts per state/status of the lifecycle objects (for the command's summary)."""

    def by(queryset, name):
        return dict(queryset.order_by().values_list(name).annotate(n=Count("pk")))

    heads = Certificate.objects.filter(head__isnull=True)
    return {
        "organisations": {
            "total": Organization.objects.count(),
            "sites": Site.objects.count(),
            "client users": User.objects.filter(organization__isnull=False).count(),
            "staff users": User.objects.filter(is_staff=True).count(),
        },
        "applications": by(Application.objects, "state"),
        "audits": by(Audit.objects, "state"),
        "score sheets": by(ScoreSheet.objects, "grade"),
        "nonconformities": by(Nonconformity.objects, "state"),
        "decisions": by(Decision.objects, "outcome"),
        "certificates (head)": by(heads, "status"),
        "sub-certificates": by(Certificate.objects.filter(head__isnull=False), "status"),
        "certificate events": by(CertificateEvent.objects, "kind"),
        "reports": by(ReportRun.objects, "state"),
    }


# --- planning and supervision examples -----------------------------------------------------


def _showcase(staff: Staff, log) -> None:
    """Add what the audit department, the public and the reports should see on demo clients.

    - the multi-site client's next surveillance: a recorded audit time with its adjustments and
      a multi-site sampling plan (004 §5.4.2, §5.4.3);
    - one recertified client on an approved, notified ASRP programme (000);
    - one certificate with three failed national/provincial spot checks, which proposes its
      withdrawal (003), and an open complaint about it (004 §8).
    """
    from audits.models import AsrpEligibilityCheck
    from certificates.models import Certificate, RegulatoryEvent

    planner = staff.planner
    valid = Certificate.objects.filter(head__isnull=True, status=Certificate.Status.VALID)
    multi = valid.filter(sub_certificates__isnull=False).distinct().order_by("number").first()
    if multi is not None:
        audit = (
            multi.programme.audits.filter(state=Audit.State.PLANNED, kind=Audit.Kind.SURVEILLANCE)
            .order_by("due_on")
            .first()
        )
        if audit is not None:
            proposal = audit_services.sampling_plan_propose(audit)
            audit_services.sampling_plan_record(
                audit=audit,
                actor=planner,
                similar_sites=[p.site for p in proposal.sites if p.similar],
                sampled_sites=[p.site for p in proposal.sites if p.selected],
                similarity_reason="各门店经营品类、服务流程、服务承诺和风险相同，由总部统一管理",
            )
            audit_services.audit_time_determine(
                audit=audit,
                actor=planner,
                full_time_headcount=multi.organization.headcount,
                part_time_hours=Decimal("3200"),
                adjustments=[("0.5", "多场所：增加门店间交通及抽样现场审核时间")],
            )
            log(f"sampling plan and audit time recorded for {multi.organization.name}")

    recertified = (
        valid.filter(cycle__gte=1).exclude(pk=getattr(multi, "pk", None)).order_by("number").first()
    )
    if recertified is not None and not audit_services.asrp_full_cycle_failures(
        recertified.programme
    ):
        start = min(recertified.issued_on + timedelta(days=20), DEMO_LAST_DATE)
        asrp = audit_services.asrp_programme_create(
            programme=recertified.programme,
            actor=planner,
            reliance="监督审核中采信组织内部审核和管理评审结果，现场抽查其记录的有效性",
            witnessing_criteria="每年见证一次内部审核，覆盖投诉处理和维修服务过程",
            internal_auditor_criteria="内审员须经 GB/T 19011 培训并有两次以上内审经历",
            adjustment_criteria="任一绩效指标连续两个季度未达标时恢复常规审核方案",
            audit_components="每次现场审核覆盖最高管理者访谈、管理评审、内部审核、纠正措施验证",
            special_competences="审核组长须具备售后服务认证高级审查员资格",
        )
        for criterion in AsrpEligibilityCheck.Criterion.values:
            if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
                continue
            audit_services.asrp_eligibility_record(
                asrp=asrp,
                actor=planner,
                criterion=criterion,
                met=True,
                evidence="已核对上一认证周期审核记录及组织提供的证明文件",
                checked_on=start,
            )
        indicator = audit_services.asrp_indicator_add(
            asrp=asrp,
            actor=planner,
            name="顾客满意度",
            target="季度顾客满意度调查得分不低于 90 分",
            agreed_on=start,
            method="第三方电话回访，每季度不少于 300 个样本",
        )
        audit_services.asrp_indicator_result_record(
            indicator=indicator,
            actor=planner,
            period="上一季度",
            period_end=start - timedelta(days=1),
            value="92.4",
            met=True,
            evidence="第三方回访报告",
        )
        audit_services.asrp_programme_approve(
            asrp=asrp, actor=staff.technical_manager, approved_on=start
        )
        audit_services.asrp_accreditation_notify(asrp=asrp, actor=planner, notified_on=start)
        log(f"ASRP programme approved for {recertified.organization.name}")

    spot = (
        valid.filter(cycle=0, sub_certificates__isnull=True, issued_on__lte=date(2025, 3, 1))
        .exclude(pk=getattr(multi, "pk", None))
        .order_by("number")
        .first()
    )
    if spot is not None:
        checks = (
            (date(2025, 4, 8), "national"),
            (date(2025, 6, 16), "provincial"),
            (date(2025, 9, 9), "provincial"),
        )
        for on, level in checks:
            cert_services.regulatory_event_record(
                certificate=spot,
                actor=staff.technical_manager,
                kind=RegulatoryEvent.Kind.SPOT_CHECK,
                occurred_on=on,
                source="市场监督管理部门产品质量监督抽查",
                description="抽查商品实物质量不合格",
                level=level,
                result="fail",
            )
        cert_services.appeal_receive(
            actor=staff.system,
            kind="complaint",
            received_on=date(2026, 10, 20),
            subject="维修承诺未兑现",
            description="送修空调超过承诺时限仍未修复。",
            name="张女士",
            contact="13800000000",
            certificate=spot,
            about_organization=spot.organization_name,
        )
        log(f"three failed spot checks and an open complaint for {spot.number}")
