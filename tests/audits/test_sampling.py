"""Multi-site sampling plans (004 §5.4.3)."""

from decimal import Decimal

import pytest

from audits import services
from audits.models import Audit, SamplingPlan
from certbody.lifecycle import RuleViolation
from tests.applications.factories import OrganizationFactory, SiteFactory
from tests.certificates.factories import accepted_application
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

D = Decimal


@shared_fixture
def client_sites(cb):
    """A head office (different activities) and four similar outlets of 10–40 people."""
    organization = OrganizationFactory(headcount=160)
    head = SiteFactory(organization=organization, is_head_office=True, name="总部", headcount=60)
    outlets = [
        SiteFactory(organization=organization, name=f"门店{n}", headcount=people)
        for n, people in enumerate((10, 40, 20, 30), start=1)
    ]
    return organization, head, outlets


@shared_fixture
def stage2(staff, client_sites):
    organization, _, _ = client_sites
    programme = services.programme_create(
        application=accepted_application(organization, staff), actor=staff.planner
    )
    return programme.audits.get(kind=Audit.Kind.STAGE2)


def record(stage2, staff, *, similar, sampled, **kwargs):
    kwargs.setdefault("similarity_reason", "各门店经营品类、服务流程和风险相同，执行同一套服务规范")
    return services.sampling_plan_record(
        audit=stage2, actor=staff.planner, similar_sites=similar, sampled_sites=sampled, **kwargs
    )


def test_proposal_audits_the_head_office_and_samples_the_square_root(stage2, client_sites):
    _, head, outlets = client_sites
    proposal = services.sampling_plan_propose(stage2)
    assert (proposal.similar_sites_count, proposal.minimum_sample) == (4, 2)  # ⌈√4⌉
    selected = [p.site for p in proposal.sites if p.selected]
    assert selected == [head, outlets[1], outlets[3]]  # the two largest outlets
    days = {p.site: p.onsite_days for p in proposal.sites}
    assert days[head] == D("1.5")  # 60 people: 3 days → on site 2.5 → half: 1.5
    assert days[outlets[0]] is None


def test_plan_is_recorded_with_each_sites_role_and_time(staff, stage2, client_sites):
    _, head, outlets = client_sites
    plan = record(
        stage2,
        staff,
        similar=outlets,
        sampled=[head, outlets[0], outlets[2]],
        site_onsite_days={head.pk: D("2"), outlets[0].pk: "1"},
        selection_reasons={outlets[0].pk: "投诉较多"},
    )
    assert (plan.similar_sites_count, plan.minimum_sample) == (4, 2)
    rows = {r.site: r for r in plan.rows.all()}
    assert (rows[head].similar, rows[head].selected, rows[head].onsite_days) == (
        False,
        True,
        D("2.0"),
    )
    assert rows[outlets[0]].selection_reason == "投诉较多"
    assert rows[outlets[2]].onsite_days == D("1.0")  # 20 people: 2.5 → 2.0 → least 1.0
    assert rows[outlets[1]].selected is False
    assert plan.history.first().history_user == staff.planner


def test_a_site_that_is_not_similar_must_be_audited(staff, stage2, client_sites):
    _, head, outlets = client_sites
    with pytest.raises(RuleViolation, match="逐一审核：总部（004 §5.4.3.2）"):
        record(stage2, staff, similar=outlets, sampled=outlets[:2])


def test_the_sample_may_not_be_smaller_than_the_rule(staff, stage2, client_sites):
    _, head, outlets = client_sites
    with pytest.raises(RuleViolation, match="至少须抽取 2 个，现只选了 1 个（004 §5.4.3.2）"):
        record(stage2, staff, similar=outlets, sampled=[head, outlets[0]])


def test_similarity_needs_its_reason(staff, stage2, client_sites):
    _, head, outlets = client_sites
    with pytest.raises(RuleViolation, match="004 §5.4.3.2"):
        record(stage2, staff, similar=outlets, sampled=[head, *outlets[:2]], similarity_reason="")


def test_a_site_below_half_its_appendix_a_on_site_time_is_refused(staff, stage2, client_sites):
    _, head, outlets = client_sites
    with pytest.raises(RuleViolation, match="至少须 1.5 人日（004 §5.4.3.3）"):
        record(
            stage2,
            staff,
            similar=outlets,
            sampled=[head, *outlets[:2]],
            site_onsite_days={head.pk: D("1")},
        )


def test_sites_may_not_need_more_than_the_determined_on_site_time(staff, stage2, client_sites):
    _, head, outlets = client_sites
    services.audit_time_determine(
        audit=stage2, actor=staff.planner, full_time_headcount=160
    )  # 6 days, on site 5.0
    with pytest.raises(RuleViolation, match="合计 7.0 人日，超过确定的现场审核时间 5.0 人日"):
        record(
            stage2,
            staff,
            similar=outlets,
            sampled=[head, *outlets],
            site_onsite_days={head.pk: D("3")},  # 3 + 4 × 1.0 = 7
        )
    record(stage2, staff, similar=outlets, sampled=[head, *outlets[:2]])
    # A later determination may not leave the sampled sites without their time either.
    with pytest.raises(RuleViolation, match="004 §5.4.3.3"):
        services.audit_time_determine(
            audit=stage2,
            actor=staff.planner,
            full_time_headcount=10,
            adjustments=[],
        )


def test_every_site_of_the_client_may_be_audited_without_similarity(staff, stage2, client_sites):
    _, head, outlets = client_sites
    plan = record(stage2, staff, similar=[], sampled=[head, *outlets], similarity_reason="")
    assert (plan.similar_sites_count, plan.minimum_sample) == (0, 0)


def test_single_site_clients_need_no_sampling_plan(staff):
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
    with pytest.raises(RuleViolation, match="多场所"):
        services.sampling_plan_propose(stage2)


def test_foreign_sites_are_refused(staff, stage2, client_sites):
    _, head, outlets = client_sites
    stranger = SiteFactory()
    with pytest.raises(RuleViolation, match="不属于该客户"):
        record(stage2, staff, similar=outlets, sampled=[head, stranger, *outlets])


def test_later_audits_prefer_sites_not_sampled_before(staff, stage2, client_sites):
    _, head, outlets = client_sites
    record(stage2, staff, similar=outlets, sampled=[head, outlets[1], outlets[3]])
    review = stage2.programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    proposal = services.sampling_plan_propose(review)
    chosen = [p.site for p in proposal.sites if p.selected and p.similar]
    assert chosen == [outlets[0], outlets[2]]  # the two not sampled yet
    assert {p.reason for p in proposal.sites if p.selected and p.similar} == {"本周期尚未抽到"}


def test_surveillance_samples_six_tenths_of_the_square_root(staff, client_sites, monkeypatch):
    from tests.certificates.factories import issued_certificate
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    organization, head, outlets = client_sites
    SiteFactory.create_batch(5, organization=organization, headcount=15)  # 9 similar outlets
    certificate = issued_certificate(organization, staff)
    s1 = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    proposal = services.sampling_plan_propose(s1)
    assert (proposal.similar_sites_count, proposal.minimum_sample) == (9, 2)  # ⌈0.6 × 3⌉
    assert not SamplingPlan.objects.exists()
