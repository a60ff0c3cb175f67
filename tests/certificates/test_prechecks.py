"""Issue #14: the decision and certificate prechecks are the services' own guards
(``certificates.guards``) asked without the form's inputs, so the object page disables the
button exactly when the service refuses, with the same words."""

from datetime import date

import pytest

from applications import services as app_services
from certbody.lifecycle import RuleViolation
from certbody.workspace.desks import get_desk
from certificates import services
from certificates.models import Certificate
from tests.certificates.factories import Staff, completed_stage2, issued_certificate, sign_report
from tests.certificates.helpers import skip_pdf_rendering

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

DECIDED = date(2025, 3, 20)


@pytest.fixture
def staff(cb, monkeypatch):
    skip_pdf_rendering(monkeypatch)
    return Staff()


def precheck(desk, action, obj, user):
    return get_desk(desk).action(action).refusal(type(obj).objects.get(pk=obj.pk), user)


def refused(call) -> str:
    with pytest.raises(RuleViolation) as error:
        call()
    return str(error.value)


def grant(audit, staff):
    return services.decision_make(
        audit=audit, actor=staff.decider, outcome="grant", decided_on=DECIDED
    )


def test_grant_without_a_signed_report_agrees_with_the_service(staff):
    audit = completed_stage2(staff=staff, report=False)
    reason = precheck("decisions", "grant", audit, staff.decider)
    assert "No audit report signed" in reason
    assert refused(lambda: grant(audit, staff)) == reason
    sign_report(audit)
    assert precheck("decisions", "grant", audit, staff.decider) == ""
    grant(audit, staff)


def test_grant_with_an_unpaid_certification_fee_invoice_agrees_with_the_service(staff):
    audit = completed_stage2(staff=staff)
    app_services.invoice_issue(
        contract=audit.programme.application.contract,
        actor=staff.market,
        number="FP2025-009",
        kind="certification",
        amount="20000.00",
        issued_on=date(2025, 3, 1),
        due_on=date(2025, 3, 31),
    )
    reason = precheck("decisions", "grant", audit, staff.decider)
    assert "certification fees are not paid" in reason
    assert refused(lambda: grant(audit, staff)) == reason


def test_certificate_status_prechecks_agree_with_the_services(staff):
    certificate = issued_certificate(staff=staff)
    assert precheck("certificates", "suspend", certificate, staff.decider) == ""
    assert precheck("certificates", "reissue", certificate, staff.decider) == ""
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=1,
        verified_on=date(2025, 6, 2),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 3),
    )
    certificate = Certificate.objects.get(pk=certificate.pk)
    assert precheck("certificates", "restore", certificate, staff.decider) == ""
    assert precheck("certificates", "withdraw", certificate, staff.decider) == ""
    reason = precheck("certificates", "reissue", certificate, staff.decider)
    assert "only a valid certificate is reissued" in reason
    reissue = lambda: services.certificate_reissue(  # noqa: E731
        certificate=certificate,
        actor=staff.decider,
        reason="01",
        reissued_on=date(2025, 6, 10),
        changes={"organization_name": "新名称有限公司"},
    )
    assert refused(reissue) == reason
    reason = precheck("certificates", "suspend", certificate, staff.decider)
    suspend = lambda: services.certificate_suspend(  # noqa: E731
        certificate=certificate,
        actor=staff.decider,
        cause=1,
        verified_on=date(2025, 6, 2),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 3),
    )
    assert reason and refused(suspend) == reason
    services.certificate_restore(
        certificate=certificate, actor=staff.decider, restored_on=date(2025, 6, 20), evidence="整改"
    )
    certificate = Certificate.objects.get(pk=certificate.pk)
    reason = precheck("certificates", "restore", certificate, staff.decider)
    restore = lambda: services.certificate_restore(  # noqa: E731
        certificate=certificate, actor=staff.decider, restored_on=date(2025, 6, 21), evidence="x"
    )
    assert reason and refused(restore) == reason


def test_grant_with_a_major_nc_not_verified_agrees_with_the_service(staff):
    from tests.certificates.test_decisions import nonconformity

    audit = completed_stage2(staff=staff)
    nonconformity(audit, severity="major", state="answered")
    reason = precheck("decisions", "grant", audit, staff.decider)
    assert "NC-01" in reason and "004 §5.12.2(2)" in reason
    assert refused(lambda: grant(audit, staff)) == reason
