"""Issue #14: the application and contract transitions' prechecks call the services' own
guards, so the object page disables a button exactly when its service refuses, with the
service's words; the confirm page says it and the service still decides."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import translation

from applications import guards, services
from applications.models import ApplicationReview
from certbody.lifecycle import RuleViolation, refusal
from certbody.workspace.desks import get_desk
from tests.applications.factories import OrganizationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb", "english")]


@pytest.fixture
def under_review(market):
    application = services.application_create(
        organization=OrganizationFactory(),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    services.application_submit(application=application, actor=market)
    return services.application_start_review(application=application, actor=market)


def precheck(desk_key, action, obj, user):
    return get_desk(desk_key).action(action).refusal(obj, user)


def test_accept_without_review_is_disabled_with_the_services_reason(under_review, market):
    reason = precheck("applications", "accept", under_review, market)
    assert "review must be completed and recorded" in reason
    with pytest.raises(RuleViolation) as refused:
        services.application_accept(application=under_review, actor=market)
    assert str(refused.value) == reason


def test_accept_with_an_unmet_review_item_agrees_with_the_service(under_review, market):
    checks = dict.fromkeys(ApplicationReview.CHECKS, True)
    checks[ApplicationReview.CHECKS[0]] = False
    services.application_review_record(application=under_review, actor=market, checks=checks)
    reason = precheck("applications", "accept", under_review, market)
    assert reason
    with pytest.raises(RuleViolation) as refused:
        services.application_accept(application=under_review, actor=market)
    assert str(refused.value) == reason


def test_accept_after_a_passed_review_is_enabled_and_succeeds(under_review, market):
    services.application_review_record(
        application=under_review,
        actor=market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
    )
    assert precheck("applications", "accept", under_review, market) == ""
    services.application_accept(application=under_review, actor=market)


def test_contract_sign_precheck_agrees_with_the_service(under_review, market):
    services.application_review_record(
        application=under_review,
        actor=market,
        checks=dict.fromkeys(ApplicationReview.CHECKS, True),
    )
    services.application_accept(application=under_review, actor=market)
    contract = services.contract_create(application=under_review, actor=market, fee=1000)
    assert precheck("contracts", "sign", contract, market) == ""
    services.contract_sign(
        contract=contract, actor=market, signed_on=date(2025, 1, 5), signed_by_client="王五"
    )
    contract.refresh_from_db()
    reason = refusal(guards.contract_signable, contract)
    assert reason
    with pytest.raises(RuleViolation) as refused:
        services.contract_sign(
            contract=contract, actor=market, signed_on=date(2025, 1, 5), signed_by_client="王五"
        )
    assert str(refused.value) == reason


def test_object_page_shows_the_refused_button_disabled_with_its_reason(
    client, under_review, market
):
    client.force_login(market)
    page = client.get(reverse("workspace:object", args=["applications", under_review.pk]))
    html = page.content.decode()
    with translation.override("zh-hans"):  # the page is in the user's (default) language
        reason = precheck("applications", "accept", under_review, market)
    button = html[html.index('data-blocked="accept"') :]
    button = button[: button.index("</span></span>") + len("</span></span>")]
    assert "disabled" in button and 'aria-disabled="true"' in button
    assert f'title="{reason}"' in button and f">{reason}</span>" in button
    assert 'data-testid="blocked-reason"' in button
    # No link to the confirm page for it; the other offered actions stay links.
    accept_url = reverse("workspace:action", args=["applications", under_review.pk, "accept"])
    assert f'href="{accept_url}"' not in html
    assert 'data-action="reject"' in html and "record-review" in html
    # The confirm page says it up front; the service still refuses on confirmation.
    confirm = client.get(accept_url)
    assert reason in confirm.content.decode()
    refused = client.post(accept_url)
    assert refused.status_code == 422
    under_review.refresh_from_db()
    assert under_review.state == "under_review"
