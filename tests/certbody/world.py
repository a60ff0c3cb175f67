"""A world holding one record of every kind the workspace desks show, built through the
services as production does (tests of the permission matrix and of the list pages)."""

from datetime import date

from django.test import RequestFactory
from django.utils import timezone

from applications import services as app_services
from applications.models import ContactPerson
from audits.models import AsrpProgramme
from certbody import roles
from certbody.models import OutgoingEmail
from certificates import services as cert_services
from certificates.models import (
    Appeal,
    ClientRequest,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)
from reporting import services as report_services
from reporting.models import CbChange, ReportRun
from tests.applications.factories import ClientUserFactory, OrganizationFactory, SiteFactory
from tests.audits.nc_factories import answer, complete, raise_nc, stage2_in_progress
from tests.certificates.factories import Staff, accepted_application, issued_certificate
from tests.conftest import make_staff


def desk_request(desk, user):
    """A GET request of ``desk``'s list by ``user``, for ``desk.queryset(request)``."""
    request = RequestFactory().get(desk.url())
    request.user = user
    return request


class World:
    """One record of every kind the desks show, built through the services."""

    def __init__(self):
        self.staff = Staff()
        self.certificate = issued_certificate(
            OrganizationFactory(name="南京苏宁电器有限公司"), self.staff
        )
        organization = self.certificate.organization
        self.client_user = ClientUserFactory(organization=organization)
        # A site and a contact person of the certified client (the sites and contacts desks).
        self.site = SiteFactory(organization=organization, name="南京新街口服务网点")
        self.contact = ContactPerson.objects.create(
            organization=organization, name="钱七", phone="025-86668888", is_primary=True
        )
        # A completed stage 2 with an answered NC: a decision to make, an NC to verify.
        stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), self.staff)
        self.nc = raise_nc(stage2, self.staff)
        answer(self.nc, ClientUserFactory(organization=stage2.programme.organization))
        self.stage2 = complete(stage2, self.staff)
        # An application accepted with a contract not signed yet.
        self.application = accepted_application(
            OrganizationFactory(name="北京京东家电有限公司"), self.staff, sign=False
        )
        # An unpaid invoice under the certified client's contract (the invoices desk).
        self.invoice = app_services.invoice_issue(
            contract=self.certificate.programme.application.contract,
            actor=self.staff.market,
            number="FP2025-00001",
            kind="surveillance",
            amount="6000",
            issued_on=date(2025, 3, 25),
            due_on=date(2025, 4, 24),
        )
        self.proposal = cert_services.proposal_open(
            certificate=self.certificate,
            actor=self.staff.decider,
            action=Proposal.Action.WITHDRAW,
            cause=8,
            reason="三次国家监督抽查不合格",
        )
        self.event = cert_services.regulatory_event_record(
            certificate=self.certificate,
            actor=self.staff.planner,
            kind=RegulatoryEvent.Kind.SPOT_CHECK,
            occurred_on=date(2025, 6, 1),
            source="国家市场监督管理总局 2025 年第 3 批产品质量国家监督抽查",
            description="空调器能效比不合格",
            level="national",
            result="fail",
        )
        self.appeal = Appeal.objects.create(
            reference="SS2025-90001",
            kind=Appeal.Kind.COMPLAINT,
            channel=Appeal.Channel.STAFF,
            received_on=date(2025, 6, 1),
            due_on=date(2025, 7, 31),
            subject="维修人员未按约定时间上门",
            description="维修人员两次爽约。",
            name="赵六",
            contact="13800000000",
        )
        self.request = ClientRequest.objects.create(
            organization=organization,
            certificate=self.certificate,
            kind=ClientRequest.Kind.CHANGE,
            details="公司名称变更",
            submitted_by=self.client_user,
        )
        self.reporting = make_staff("ro-matrix", roles.REPORTING_OFFICER)
        self.run = ReportRun.objects.create(
            kind=ReportRun.Kind.CB_CHANGES_MONTHLY,
            period_start=date(2025, 5, 1),
            period_end=date(2025, 5, 31),
            rule="002 §4.3.2",
            due_on=date(2025, 6, 10),
            generated_by=self.reporting,
            generated_at=timezone.now(),
        )
        # A change of the CB, an auditor's personnel record and a report owed after a major
        # accident (the reporting and obligations desks).
        self.cb_change = report_services.cb_change_record(
            actor=self.reporting,
            category=CbChange.Category.OTHER,
            occurred_on=date(2025, 5, 20),
            description="网站地址变更",
            evidence="新网站备案",
        )
        self.personnel = report_services.personnel_record_save(
            auditor=self.staff.leader.auditor_profile,
            actor=self.staff.planner,
            id_number="110105199001011234",
        )
        self.cnas_obligation = report_services.accreditation_change_record(
            actor=self.reporting, subject="认证机构注册地址变更", occurred_on=date(2025, 5, 20)
        )
        self.obligation = ReportingObligation.objects.create(
            organization=organization,
            certificate=self.certificate,
            recipient=ReportingObligation.Recipient.CNAS,
            subject="门店火灾重大事故报告",
            rule="002 §4.3.8.2",
            due_on=date(2025, 6, 11),
        )
        # An ASRP design (seed 000) on the certified client's programme; written directly,
        # since a real one needs a whole completed cycle (tests/audits/test_asrp*.py do that).
        self.asrp = AsrpProgramme.objects.create(
            programme=self.certificate.programme,
            reliance="依托获证组织内部审核和管理评审的结果",
            witnessing_criteria="每年见证一次内部审核",
            internal_auditor_criteria="内审员经 GB/T 27922 培训并考核合格",
            adjustment_criteria="指标连续两次未达成时恢复常规方案",
            audit_components="监督审核覆盖投诉处理和维修服务",
            special_competences="熟悉家电售后服务",
        )
        # An e-mail given up after a mail outage (the outbox desk, certbody.notifications).
        self.outgoing_email = OutgoingEmail.objects.create(
            to="service@client.example.cn",
            subject="监督审核提醒",
            body="您的监督审核将于 30 天后到期。",
            kind="surveillance_reminders",
            state=OutgoingEmail.State.FAILED,
            attempts=6,
            last_error="SMTPConnectError: (421, 'service not available')",
            next_attempt_at=None,
        )
        self.users = {
            "market": self.staff.market,
            "audit_department": self.staff.planner,
            "auditor": self.staff.leader,
            "auditor_off_team": make_staff("auditor-matrix", roles.AUDITOR),
            "decision_maker": self.staff.decider,
            "reporting_officer": self.reporting,
            "technical_manager": make_staff("tm-matrix", roles.TECHNICAL_MANAGER),
            "client": self.client_user,
            "anonymous": None,
        }
        self.superuser = make_staff("root-matrix")
        self.superuser.is_superuser = True
        self.superuser.save()

    def first_row(self, desk):
        """The desk's first row as a superuser sees it (None when the desk has none)."""
        return desk.queryset(desk_request(desk, self.superuser)).order_by("pk").first()
