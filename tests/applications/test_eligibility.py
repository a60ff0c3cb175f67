"""The applicant's eligibility on the review (004 §5.1.2(3)–(7), §5.2.2(1); 001 §6.1.4): each
condition recorded with a note, pre-filled from the CB's own records, never ticked against them,
and every condition met before acceptance."""

from datetime import date, timedelta

import pytest
import time_machine

from applications import eligibility, forms, services
from applications.eligibility import BLOCKING, INFORMATIVE, REBUTTABLE, Finding
from applications.models import Application, ApplicationReview
from certbody.lifecycle import RuleViolation
from certificates.eligibility import certificate_records
from certificates.models import CertificateEvent, RegulatoryEvent
from tests.applications.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 6)
ALL_CHECKS = dict.fromkeys(ApplicationReview.CHECKS, True)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-12-06 10:00 +08:00", tick=False):
        yield


@pytest.fixture
def application(market):
    application = services.application_create(
        organization=OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    services.application_submit(application=application, actor=market)
    services.application_start_review(application=application, actor=market)
    return application


def spot_check(organization, user, *, on, level="national", result="fail"):
    return RegulatoryEvent.objects.create(
        organization=organization,
        kind=RegulatoryEvent.Kind.SPOT_CHECK,
        occurred_on=on,
        notified_on=on,
        source="国家市场监督管理总局",
        description="产品质量国家监督抽查",
        level=level,
        result=result,
        recorded_by=user,
    )


def accident(organization, user, *, on, major=True):
    return RegulatoryEvent.objects.create(
        organization=organization,
        kind=RegulatoryEvent.Kind.ACCIDENT,
        occurred_on=on,
        notified_on=on,
        source="区应急管理局",
        description="维修站火灾，责令停产整顿",
        major=major,
        recorded_by=user,
    )


def record(application, market, **changes):
    checks = {**ALL_CHECKS, **{k: v for k, v in changes.items() if not k.endswith("_note")}}
    notes = {k.removesuffix("_note"): v for k, v in changes.items() if k.endswith("_note")}
    return services.application_review_record(
        application=application, actor=market, checks=checks, eligibility_notes=notes
    )


# --- the pure part ---------------------------------------------------------------------------


def test_every_condition_is_a_field_of_the_review_with_a_note():
    assert tuple(eligibility.CONDITIONS) == ApplicationReview.ELIGIBILITY
    for name in ApplicationReview.ELIGIBILITY:
        ApplicationReview._meta.get_field(name)
        ApplicationReview._meta.get_field(f"{name}_note")


def test_a_finding_names_a_known_condition():
    with pytest.raises(ValueError, match="unknown eligibility condition"):
        Finding("legal_entity", "…")
    with pytest.raises(ValueError, match="strength"):
        Finding("no_major_accident", "…", "maybe")


@pytest.mark.parametrize(
    ("strength", "met", "note", "refused"),
    [
        (BLOCKING, True, "", True),
        (BLOCKING, True, "已整改", True),  # a blocking record is not argued away
        (BLOCKING, False, "", False),
        (REBUTTABLE, True, "", True),
        (REBUTTABLE, True, "事实", True),  # the finding itself is no account of rectification
        (REBUTTABLE, True, "事实\n2026-10-20 复检合格，整改报告见附件", False),
        (INFORMATIVE, True, "", False),
    ],
)
def test_contradiction_by_strength(strength, met, note, refused):
    found = [Finding("no_spot_check_failure", "事实", strength)]
    result = eligibility.contradiction("no_spot_check_failure", met, note, found)
    assert (result is not None) == refused
    if refused:
        assert result == ("事实", "004 §5.1.2(7)")


def test_the_certificates_records_are_a_registered_source():
    assert certificate_records in eligibility.record_sources()


# --- recording the review ---------------------------------------------------------------------


def test_without_records_every_condition_can_be_recorded_as_met_and_the_application_accepted(
    application, market
):
    review = record(application, market, system_operating_note="体系自 2026-05-01 起运行")
    assert review.eligible and review.system_operating_note == "体系自 2026-05-01 起运行"
    services.application_accept(application=application, actor=market)
    application.refresh_from_db()
    assert application.state == Application.State.ACCEPTED


@pytest.mark.parametrize("condition", ApplicationReview.ELIGIBILITY)
def test_acceptance_is_refused_unless_every_condition_is_met(application, market, condition):
    record(application, market, **{condition: False})
    with pytest.raises(RuleViolation, match=r"004 §5\.2\.2\(1\); 001 §6\.1\.4"):
        services.application_accept(application=application, actor=market)
    application.refresh_from_db()
    assert application.state == Application.State.UNDER_REVIEW


def test_a_major_accident_within_the_year_prefills_the_note_and_cannot_be_ticked(
    application, market
):
    accident(application.organization, market, on=TODAY.replace(year=2025))  # exactly a year
    review = record(application, market, no_major_accident=False)
    assert "2025-12-06" in review.no_major_accident_note
    with pytest.raises(RuleViolation, match=r"004 §5\.1\.2\(6\)"):
        record(application, market, no_major_accident_note="事故已处理完毕")


def test_a_major_accident_more_than_a_year_ago_bars_nothing(application, market):
    accident(application.organization, market, on=date(2025, 12, 5))
    accident(application.organization, market, on=date(2026, 11, 1), major=False)
    review = record(application, market)
    assert review.no_major_accident and review.no_major_accident_note == ""


def test_a_failed_national_spot_check_needs_the_reviewers_account_of_its_rectification(
    application, market
):
    spot_check(application.organization, market, on=date(2026, 6, 1))
    with pytest.raises(RuleViolation, match=r"004 §5\.1\.2\(7\)"):
        record(application, market)
    review = record(
        application,
        market,
        no_spot_check_failure_note="2026-08-15 省局复查合格，整改报告已核实",
    )
    assert review.no_spot_check_failure


def test_a_failed_provincial_spot_check_is_shown_but_bars_nothing(application, market):
    spot_check(application.organization, market, on=date(2026, 6, 1), level="provincial")
    review = record(application, market)
    assert review.no_spot_check_failure and "2026-06-01" in review.no_spot_check_failure_note


def test_acceptance_asks_the_records_again(application, market):
    record(application, market)
    accident(application.organization, market, on=date(2026, 12, 1))
    with pytest.raises(RuleViolation, match=r"004 §5\.1\.2\(6\)"):
        services.application_accept(application=application, actor=market)


def _certificate_event(certificate, kind, cause, on, actor):
    return CertificateEvent.objects.create(
        certificate=certificate,
        kind=kind,
        occurred_on=on,
        status_code="02" if kind == CertificateEvent.Kind.SUSPENDED else "03",
        cause=cause,
        actor=actor,
    )


@pytest.fixture
def certified(cb, monkeypatch):
    from tests.certificates.factories import Staff, issued_certificate
    from tests.certificates.helpers import skip_pdf_rendering

    skip_pdf_rendering(monkeypatch)
    staff = Staff()
    return issued_certificate(staff=staff), staff


def test_an_order_to_suspend_business_on_an_earlier_certificate_bars_the_condition(certified):
    certificate, staff = certified
    suspended = _certificate_event(
        certificate, CertificateEvent.Kind.SUSPENDED, 9, date(2026, 9, 1), staff.market
    )
    found = eligibility.findings(certificate.organization, TODAY)
    assert [f.strength for f in found["not_ordered_to_suspend"]] == [BLOCKING]
    assert certificate.number in found["not_ordered_to_suspend"][0].text
    assert eligibility.contradiction(
        "not_ordered_to_suspend", True, "", found["not_ordered_to_suspend"]
    ) == (found["not_ordered_to_suspend"][0].text, "004 §5.1.2(4); 001 §6.1.4")
    CertificateEvent.objects.create(
        certificate=certificate,
        kind=CertificateEvent.Kind.RESTORED,
        occurred_on=suspended.occurred_on + timedelta(days=30),
        status_code="01",
        actor=staff.market,
    )
    found = eligibility.findings(certificate.organization, TODAY)
    assert [f.strength for f in found["not_ordered_to_suspend"]] == [INFORMATIVE]


def test_a_withdrawal_for_dishonesty_in_the_past_year_bars_the_condition(certified):
    certificate, staff = certified
    _certificate_event(
        certificate, CertificateEvent.Kind.WITHDRAWN, 2, date(2026, 3, 1), staff.market
    )
    _certificate_event(  # another cause, bearing on no condition
        certificate, CertificateEvent.Kind.WITHDRAWN, 10, date(2026, 3, 2), staff.market
    )
    found = eligibility.findings(certificate.organization, TODAY)
    assert [f.strength for f in found["not_seriously_dishonest"]] == [BLOCKING]
    assert sum(len(items) for items in found.values()) == 1


def test_a_withdrawal_for_a_system_not_operated_bars_three_months_of_operation(certified):
    certificate, staff = certified
    _certificate_event(
        certificate, CertificateEvent.Kind.WITHDRAWN, 8, date(2026, 9, 6), staff.market
    )
    assert eligibility.findings(certificate.organization, TODAY)["system_operating"]
    assert not eligibility.findings(certificate.organization, date(2026, 12, 7))["system_operating"]


def test_the_review_form_prefills_the_notes_from_the_records(application, market):
    accident(application.organization, market, on=date(2026, 11, 1))
    form = forms.ReviewForm(obj=application, user=market)
    assert "2026-11-01" in form.initial["no_major_accident_note"]
    assert not form.initial.get("no_major_accident")
    assert "no_major_accident" in form.fields and "notes" in form.fields
