"""Every application and contract transition, allowed and refused."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from applications import services
from applications.models import Application, ApplicationReview, Contract
from applications.validators import build_uscc, validate_uscc
from certbody.lifecycle import RuleViolation
from tests.applications.factories import ClientUserFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

ALL_CHECKS = dict.fromkeys(ApplicationReview.CHECKS, True)


@pytest.fixture
def draft(market):
    return services.application_create(
        organization=OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )


def under_review(application, market):
    services.application_submit(application=application, actor=market)
    services.application_start_review(application=application, actor=market)
    return application


def test_application_gets_a_reference_and_history_with_actor(draft, market):
    assert draft.reference.startswith("SQ")
    assert draft.state == Application.State.DRAFT
    assert draft.history.first().history_user == market


def test_submit_then_review_then_accept(draft, market):
    under_review(draft, market)
    services.application_review_record(application=draft, actor=market, checks=ALL_CHECKS)
    services.application_accept(application=draft, actor=market)
    draft.refresh_from_db()
    assert draft.state == Application.State.ACCEPTED
    assert draft.decided_at is not None
    assert draft.history.first().history_change_reason == "受理申请"


def test_accept_without_review_is_refused(draft, market):
    under_review(draft, market)
    with pytest.raises(RuleViolation, match="申请评审"):
        services.application_accept(application=draft, actor=market)


def test_accept_with_a_failed_review_check_is_refused(draft, market):
    under_review(draft, market)
    checks = {**ALL_CHECKS, "competence_available": False}
    services.application_review_record(application=draft, actor=market, checks=checks)
    with pytest.raises(RuleViolation, match="004 §5.2.1"):
        services.application_accept(application=draft, actor=market)


def test_review_record_outside_review_is_refused(draft, market):
    with pytest.raises(RuleViolation, match="评审中"):
        services.application_review_record(application=draft, actor=market, checks=ALL_CHECKS)


def test_unknown_review_check_is_refused(draft, market):
    under_review(draft, market)
    with pytest.raises(RuleViolation, match="未知"):
        services.application_review_record(application=draft, actor=market, checks={"x": True})


def test_reject_needs_reasons_and_records_them(draft, market):
    under_review(draft, market)
    with pytest.raises(RuleViolation, match="001 §6.1.5"):
        services.application_reject(application=draft, actor=market, reason="  ")
    services.application_reject(application=draft, actor=market, reason="超出认可范围")
    draft.refresh_from_db()
    assert draft.state == Application.State.REJECTED
    assert draft.rejection_reason == "超出认可范围"


@pytest.mark.parametrize(
    "transition", ["application_start_review", "application_accept", "application_withdraw"]
)
def test_transitions_refused_from_the_wrong_state(draft, market, transition):
    services.application_withdraw(application=draft, actor=market)
    with pytest.raises(RuleViolation, match="当前状态"):
        getattr(services, transition)(application=draft, actor=market)


def test_submit_twice_is_refused(draft, market):
    services.application_submit(application=draft, actor=market)
    with pytest.raises(RuleViolation, match="当前状态"):
        services.application_submit(application=draft, actor=market)


def test_client_withdraws_own_application_but_not_another_organisations(draft, market):
    own = ClientUserFactory(organization=draft.organization)
    stranger = ClientUserFactory()
    with pytest.raises(RuleViolation, match="本组织"):
        services.application_withdraw(application=draft, actor=stranger)
    services.application_withdraw(application=draft, actor=own)
    draft.refresh_from_db()
    assert draft.state == Application.State.WITHDRAWN


def test_staff_without_market_role_cannot_review(draft, market, planner):
    services.application_submit(application=draft, actor=market)
    with pytest.raises(RuleViolation, match="无权执行此操作"):
        services.application_start_review(application=draft, actor=planner)


def test_submit_without_scope_category_is_refused(market):
    application = services.application_create(
        organization=OrganizationFactory(), actor=market, scope_text="x", headcount=5
    )
    with pytest.raises(RuleViolation, match="业务范围"):
        services.application_submit(application=application, actor=market)


def test_headcount_below_one_is_refused(market):
    with pytest.raises(RuleViolation, match="有效人数"):
        services.application_create(
            organization=OrganizationFactory(), actor=market, scope_text="x", headcount=0
        )


def test_contract_only_for_accepted_application_and_signed_once(draft, market):
    with pytest.raises(RuleViolation, match="004 §5.3"):
        services.contract_create(application=draft, actor=market)
    under_review(draft, market)
    services.application_review_record(application=draft, actor=market, checks=ALL_CHECKS)
    services.application_accept(application=draft, actor=market)
    contract = services.contract_create(application=draft, actor=market, fee=18000)
    with pytest.raises(RuleViolation, match="已有"):
        services.contract_create(application=draft, actor=market)
    services.contract_sign(
        contract=contract, actor=market, signed_on=date(2025, 1, 5), signed_by_client="王五"
    )
    contract.refresh_from_db()
    assert contract.state == Contract.State.SIGNED
    with pytest.raises(RuleViolation, match="当前状态"):
        services.contract_sign(
            contract=contract, actor=market, signed_on=date(2025, 1, 6), signed_by_client="王五"
        )


def test_uscc_validation_accepts_built_codes_and_rejects_a_bad_check_character():
    good = build_uscc("110105", 123)
    validate_uscc(good)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        validate_uscc(bad)
    with pytest.raises(ValidationError):
        validate_uscc(good.lower())
