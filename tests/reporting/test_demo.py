"""seed_demo: every lifecycle state, through the services, deterministic and idempotent.

The demo is put in place once for the module (built once per test process by
``tests.demo_snapshot.load_demo``, restored from its snapshot afterwards) inside a transaction
that is rolled back at the end, and ``seed_demo`` runs on it (nothing to create, the summary and
log-ins printed); each test runs in a savepoint inside it. PDF rendering (certificates and
notices, ~0.5–1 s each) is stubbed to keep the module fast; the certificate tests cover rendering
and `make demo` renders for real.
"""

import io
from datetime import date

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from stdnum.cn import uscc

from applications.models import Application, Organization
from audits import scoring
from audits import services as score_sheets
from audits.models import (
    Audit,
    AuditReport,
    Nonconformity,
    ScoreItem,
    ScoreSheet,
    SpecialDeduction,
)
from certbody import roles
from certbody.models import CertificationBody, User
from certbody.regions import province_of
from certificates.models import Certificate, CertificateDocument, Decision
from certificates.numbering import parse_number
from demo.build import demo_counts
from demo.cas import CAS_CLIENT
from demo.plan import DEMO_LAST_DATE, GRADES, NC_STORIES, demo_password, plan_demo
from tests.demo_snapshot import load_demo

# Shares the worker that builds the demo for the browser tests (tests/demo_snapshot.py).
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="module")
def seeded(django_db_setup, base_data_committed, django_db_blocker, tmp_path_factory):
    # The demo is built once per test process and restored from its snapshot here
    # (tests/demo_snapshot.py); seed_demo then runs on it and prints the summary and log-ins.
    media = tmp_path_factory.mktemp("demo-media")
    cache.delete(CertificationBody.CACHE_KEY)
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media),
        transaction.atomic(),
    ):
        load_demo()
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)
    cache.delete(CertificationBody.CACHE_KEY)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_cb_profile_is_created(demo):
    body = CertificationBody.objects.get()
    assert body.name == "华信认证中心有限公司"
    assert (body.cnca_approval_number, body.number_prefix) == ("CNCA-R-2018-123", "0123")
    assert (body.accreditation, body.accreditation_number) == ("C", "CNAS C123-S")


def test_certificates_in_every_status(demo):
    statuses = set(Certificate.objects.filter(head__isnull=True).values_list("status", flat=True))
    assert statuses == set(Certificate.Status.values)
    counts = demo_counts()["certificates (head)"]
    assert counts["valid"] > sum(n for status, n in counts.items() if status != "valid")


def test_applications_in_every_state_with_submitted_ones_ready_for_review(demo):
    states = set(Application.objects.values_list("state", flat=True))
    assert states == set(Application.State.values)
    assert Application.objects.filter(state=Application.State.SUBMITTED).count() >= 2


def test_audits_in_every_state(demo):
    assert set(Audit.objects.values_list("state", flat=True)) == set(Audit.State.values)


def test_multi_site_client_has_sub_certificates_per_site(demo):
    head = next(
        c for c in Certificate.objects.filter(head__isnull=True) if c.sub_certificates.count() == 3
    )
    subs = head.sub_certificates.order_by("number")
    assert [parse_number(s.number).sub for s in subs] == [1, 2, 3]
    assert all(parse_number(s.number).head == head.number for s in subs)
    assert head.organization.sites.count() == 4
    assert {s.site_id for s in subs} == set(
        head.organization.sites.filter(is_head_office=False).values_list("pk", flat=True)
    )


def test_recertification_supersedes_the_initial_certificate(demo):
    superseded = Certificate.objects.filter(status=Certificate.Status.SUPERSEDED)
    assert superseded.count() >= 1
    for old in superseded:
        new = Certificate.objects.get(organization=old.organization, cycle=1, head__isnull=True)
        assert new.status == Certificate.Status.VALID
        assert parse_number(new.number).cycle == 1
        assert new.issued_on <= old.expires_on < new.expires_on


def test_suspended_certificates_show_their_period(demo):
    suspended = Certificate.objects.filter(status=Certificate.Status.SUSPENDED, head__isnull=True)
    assert suspended.exists()
    for certificate in suspended:
        assert certificate.suspended_from <= DEMO_LAST_DATE < certificate.suspended_until


def test_issued_certificates_have_their_pdf(demo):
    for certificate in Certificate.objects.all():
        assert certificate.documents.filter(kind=CertificateDocument.Kind.CERTIFICATE).exists()


def test_no_date_after_the_demo_date(demo):
    assert not Certificate.objects.filter(issued_on__gt=DEMO_LAST_DATE).exists()
    assert not Audit.objects.filter(actual_start__gt=DEMO_LAST_DATE).exists()
    assert not Audit.objects.filter(actual_end__gt=DEMO_LAST_DATE).exists()


def test_staff_for_every_role_can_log_in(demo):
    for role in roles.STAFF_ROLES:
        members = User.objects.filter(groups__name=role, is_staff=True)
        assert members.exists(), role
        assert all(u.display_name for u in members)
    assert User.objects.filter(groups__name=roles.AUDITOR).count() >= 4
    assert User.objects.filter(groups__name=roles.DECISION_MAKER).count() >= 2
    assert User.objects.get(username="admin").is_superuser
    assert Client().login(username="market", password=demo_password("market"))
    assert demo_password("market") == "demo-market-2026"


def test_client_users_belong_to_certified_organisations_or_the_one_in_stage_2(demo):
    clients = User.objects.filter(organization__isnull=False)
    assert clients.count() >= 5
    for user in clients:
        assert not user.is_staff
        in_stage2 = user.organization.programmes.filter(
            audits__kind=Audit.Kind.STAGE2, audits__state=Audit.State.IN_PROGRESS
        ).exists()
        assert user.organization.certificates.exists() or in_stage2
    assert Client().login(username="client01", password=demo_password("client01"))


def test_output_prints_summary_and_every_login(demo):
    for login in ("admin", "market", "planner", "auditor1", "decider2", "techmgr", "client01"):
        assert f"{login} " in demo
        assert demo_password(login) in demo
    assert "certificates (head)" in demo


def test_second_run_creates_nothing_and_prints_the_logins(demo):
    before = demo_counts()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert demo_counts() == before
    assert "already present" in out.getvalue()
    assert "demo-market-2026" in out.getvalue()


def test_organisations_are_the_planned_ones(demo):
    plans = [*plan_demo(), CAS_CLIENT]
    stored = dict(Organization.objects.values_list("uscc", "name"))
    assert stored == {p.uscc: p.name for p in plans}


def test_a_cas_client_under_surveillance(demo):
    organization = Organization.objects.get(uscc=CAS_CLIENT.uscc)
    certificate = Certificate.objects.get(organization=organization, head__isnull=True)
    assert (certificate.scheme, certificate.status) == ("CAS", Certificate.Status.VALID)
    surveillance = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    stage2 = certificate.programme.audits.get(kind=Audit.Kind.STAGE2)
    # 001 §7.1: 9–12 months after stage 2; 001 §7.5: the finding is due 2 months after the audit
    assert date(2026, 8, 11) <= surveillance.actual_start <= date(2026, 11, 11)
    assert stage2.actual_end == date(2025, 11, 11)
    assert surveillance.state == Audit.State.COMPLETED and not surveillance.decisions.exists()
    nc = surveillance.nonconformities.get()
    assert (nc.state, nc.due_on) == (Nonconformity.State.OPEN, date(2026, 12, 28))


def test_plan_is_deterministic_and_realistic():
    first, second = plan_demo(), plan_demo()
    assert first == second
    assert len(first) >= 30
    assert len({p.uscc for p in first}) == len(first)
    assert len({p.name for p in first}) == len(first)
    assert len({p.division_code[:2] for p in first}) >= 8
    for plan in first:
        assert uscc.is_valid(plan.uscc)
        assert plan.uscc[2:8] == plan.division_code
        province_of(plan.division_code)
        assert 20 <= plan.headcount <= 3000
        assert all(1 <= code <= 60 for code in plan.scope_codes)
        if plan.decided_on:
            assert date(2022, 1, 1) <= plan.decided_on <= DEMO_LAST_DATE
    assert any(len(p.sites) == 4 for p in first)
    assert {p.nc_story for p in first} - {""} == set(NC_STORIES)
    assert all(p.client_username for p in first if p.nc_story.startswith(("open", "major")))


def test_multi_site_client_has_a_sampling_plan_and_a_recorded_audit_time(demo):
    from audits.models import AuditTimeDetermination, SamplingPlan

    plan = SamplingPlan.objects.select_related("audit__programme__organization").get()
    organization = plan.audit.programme.organization
    assert organization.sites.count() >= 3
    determination = AuditTimeDetermination.objects.get(audit=plan.audit)
    assert determination.adjustments.filter(reason__contains="多场所").exists()


def test_one_client_is_on_an_approved_and_notified_asrp(demo):
    from audits.models import AsrpProgramme

    asrp = AsrpProgramme.objects.get()
    assert asrp.programme.cycle >= 1
    assert asrp.approved_on is not None and asrp.accreditation_notified_on is not None


def test_a_certificate_with_three_failed_spot_checks_and_an_open_complaint(demo):
    from certificates.models import Appeal, Proposal, RegulatoryEvent

    # (the applicant refused on eligibility, demo.intake, has a fourth, under no certificate)
    failed = RegulatoryEvent.objects.filter(
        kind=RegulatoryEvent.Kind.SPOT_CHECK, result="fail", certificate__isnull=False
    )
    assert failed.count() == 3
    certificate = failed.first().certificate
    assert failed.filter(certificate=certificate).count() == 3
    assert Proposal.objects.filter(certificate=certificate).exists()
    complaint = Appeal.objects.get(kind="complaint", certificate=certificate)
    assert complaint.state != "decided"


# --- scored audits and nonconformities (issue 4) --------------------------------------------


def test_score_sheets_at_every_grade_all_signed_off_by_the_leader(demo):
    sheets = ScoreSheet.objects.select_related("audit", "submitted_by")
    assert set(sheets.values_list("grade", flat=True)) == set(scoring.GRADE_ORDER)
    for grade in GRADES:
        assert sheets.filter(grade=grade, audit__kind=Audit.Kind.STAGE2).exists(), grade
    for sheet in sheets:
        assert sheet.state == ScoreSheet.State.SUBMITTED
        assert sheet.audit.team.get(role="leader").user == sheet.submitted_by
        assert sheet.submitted_on <= DEMO_LAST_DATE
        # the stored result is the scoring rules' result
        assert score_sheets.score_sheet_result(sheet).grade == sheet.grade
    assert sheets.filter(audit__kind=Audit.Kind.SURVEILLANCE).count() >= 5
    assert sheets.filter(audit__kind=Audit.Kind.RECERTIFICATION).exists()


def test_every_granted_audit_has_a_sheet_at_the_certificate_grade(demo):
    heads = Certificate.objects.filter(head__isnull=True).select_related("decision__audit")
    assert heads.count() >= 20
    for certificate in heads:
        sheet = ScoreSheet.objects.get(audit=certificate.decision.audit)
        assert sheet.passed
        assert certificate.star_grade == sheet.grade == certificate.decision.star_grade
        for sub in certificate.sub_certificates.all():
            assert sub.star_grade == sheet.grade


def test_sheets_use_exclusion_special_deductions_and_one_bonus(demo):
    excluded = ScoreItem.objects.filter(excluded=True).select_related("indicator")
    assert excluded.exists()
    assert all(i.indicator.code == "2.6" and i.exclusion_justification for i in excluded)
    assert SpecialDeduction.objects.exists()
    bonus = ScoreSheet.objects.get(special_bonus=True)
    result = score_sheets.score_sheet_result(bonus)
    assert bonus.bonus_justification and result.special_bonus == 1
    assert bonus.score == result.base_score - result.special_deductions + 1
    assert ScoreItem.objects.filter(nonconforming__gt=0).exists()
    assert ScoreItem.objects.filter(met=False).exists()


def test_exactly_one_failed_evaluation_refused_with_reasons_and_notice(demo):
    failed = ScoreSheet.objects.get(passed=False)
    assert failed.grade == "fail" and failed.score < 70
    decision = Decision.objects.get(outcome=Decision.Outcome.REFUSE)
    assert decision.audit_id == failed.audit_id
    assert str(failed.score) in decision.reasons
    assert CertificateDocument.objects.filter(
        decision=decision, kind=CertificateDocument.Kind.REFUSAL_NOTICE
    ).exists()


def test_surveillances_maintained_by_leader_conclusion_and_by_decision_makers(demo):
    maintained = Decision.objects.filter(outcome=Decision.Outcome.MAINTAIN)
    by_leader = maintained.filter(basis=Decision.Basis.TEAM_LEADER_CONCLUSION)
    assert by_leader.exists()
    assert maintained.filter(basis=Decision.Basis.DECISION_MAKER).exists()
    for decision in by_leader.select_related("audit"):
        assert decision.audit.team.get(role="leader").user == decision.decided_by
        assert ScoreSheet.objects.filter(audit=decision.audit, passed=True).exists()


def test_nonconformities_in_every_state_without_blocking_a_decision(demo):
    ncs = Nonconformity.objects.select_related("audit")
    assert set(ncs.values_list("state", flat=True)) == set(Nonconformity.State.values)
    assert ncs.filter(state="closed", severity="major").exists()
    assert ncs.filter(state="plan_accepted", severity="minor").exists()
    # a minor's plan verified at the next audit
    assert ncs.filter(state="closed", verified_at__isnull=False).exists()
    for nc in ncs.filter(state__in=["open", "answered", "rejected"]):
        assert not nc.audit.decisions.exists()
        assert nc.audit.state in (Audit.State.IN_PROGRESS, Audit.State.COMPLETED)
    # decided audits have only settled NCs (004 §5.10.4)
    for decision in Decision.objects.exclude(outcome=Decision.Outcome.REFUSE):
        assert all(nc.is_settled for nc in decision.audit.nonconformities.all())


def test_awaiting_decision_stage_2_can_be_granted(demo):
    audit = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED)
    assert ScoreSheet.objects.get(audit=audit).passed
    assert all(nc.is_settled for nc in audit.nonconformities.all())
    assert audit.nonconformities.filter(state="plan_accepted").exists()


def test_stage_2_in_progress_for_the_browser_test(demo):
    audit = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.IN_PROGRESS)
    assert audit.team.get(role="leader").user.username == "auditor1"
    assert not ScoreSheet.objects.filter(audit=audit).exists()
    organization = audit.programme.organization
    client = User.objects.get(organization=organization)
    assert Client().login(username=client.username, password=demo_password(client.username))
    nc = audit.nonconformities.get()
    assert nc.state == Nonconformity.State.OPEN


def test_audit_reports_delivered_after_their_decision(demo):
    delivered = AuditReport.objects.filter(delivered_on__isnull=False).select_related("audit")
    assert delivered.exists()
    for report in delivered:
        decision = report.audit.decisions.get()
        assert decision.decided_on <= report.signed_on <= report.delivered_on <= DEMO_LAST_DATE
        assert report.delivery_evidence
        assert report.file


def test_the_awaiting_clients_certificate_waits_for_its_unpaid_invoice(demo):
    """demo/fees.py: half the audit and certificate fees unpaid (004 §5.3.2(1)); the
    surveillance invoices put rows on the market department's monthly unpaid list."""
    from applications import selectors

    audit = Audit.objects.get(kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED)
    unpaid = selectors.unpaid_certification_invoices(audit.programme.application.contract)
    assert len(unpaid) == 1 and unpaid[0].paid == unpaid[0].unpaid > 0
    november = selectors.unpaid_at(selectors.month_end(2026, 11))
    assert {i.kind for i in november} == {"certification", "surveillance"}
    assert november.count() == 3


def test_one_application_refused_on_eligibility_with_its_notice_due(demo):
    from datetime import timedelta

    from django.utils import timezone

    refused = Application.objects.filter(
        state=Application.State.REJECTED, review__no_spot_check_failure=False
    ).get()
    assert "004 §5.1.2(7)" in refused.rejection_reason
    assert refused.review.no_spot_check_failure_note  # pre-filled from the CB's records
    assert refused.rejection_notice_due == timezone.localdate(refused.decided_at) + timedelta(
        days=5
    )


@pytest.mark.parametrize("status", Certificate.Status.values)
def test_at_least_one_head_certificate_in_each_status(demo, status):
    # valid, suspended, withdrawn, cancelled, expired, superseded (issue #13)
    assert Certificate.objects.filter(head__isnull=True, status=status).exists(), status


def test_a_change_owed_to_cnas_falls_due_soon_and_the_plan_was_submitted(demo):
    from reporting.models import AccreditationObligation

    change = AccreditationObligation.objects.get(kind=AccreditationObligation.Kind.CB_CHANGE)
    assert change.submitted_on is None
    assert 0 < (change.due_on - DEMO_LAST_DATE).days <= 7  # due soon (002 §4.3.8.1)
    plan = AccreditationObligation.objects.get(kind=AccreditationObligation.Kind.ANNUAL_PLAN)
    assert (plan.year, plan.due_on) == (2027, date(2026, 7, 31))
    assert plan.submitted_on <= plan.due_on and plan.reference


def test_the_planning_calendar_is_filled_with_leave_and_one_conflict(demo):
    """demo/planning_calendar.py (issue #14): audits of this and next month with their team,
    leave and training days, and one audit whose leader is on leave that day."""
    from django.utils import timezone

    from audits.selectors.calendar import calendar_month

    today = timezone.localdate()
    following = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    months = [calendar_month(d.year, d.month) for d in (today, following)]
    entries = {
        e.audit.pk: e for m in months for week in m.weeks for day in week for e in day.entries
    }
    blocks = {b.pk: b for m in months for week in m.weeks for day in week for b in day.blocks}
    assert len([e for e in entries.values() if e.audit.state == "planned" and e.team]) >= 4
    assert {b.kind for b in blocks.values()} >= {"leave", "training"}
    assert len([e for e in entries.values() if e.conflicts]) == 1


def test_on_site_audit_plans_have_agenda_rows_and_applications_a_quotation(demo):
    from applications.quotations import application_quotation
    from audits.models import AuditPlan

    plans = AuditPlan.objects.filter(audit__kind__in=["stage2", "surveillance"])
    assert plans.exists() and all(plan.agenda.exists() for plan in plans)
    application = Application.objects.filter(
        state="accepted", scheme="ZXRZ-2025", contract__isnull=False
    ).first()
    quotation = application_quotation(application)
    assert quotation is not None and quotation.fees["audit_fee"] > 0
    assert application.contract.audit_fee == quotation.fees["audit_fee"]
