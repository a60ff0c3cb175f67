"""Suspension and withdrawal causes per scheme (issue #13): CAS certificates use 001 §9.3's
tables and periods, ZXRZ certificates 004 §7.2.1 / §7.3.1's; a cause number not in the
certificate's scheme's table is refused with the clause."""

from datetime import date

import pytest

from certbody.lifecycle import RuleViolation
from certbody.reference import cnca_label
from certificates import causes, forms, public, services
from certificates import jobs as certificate_jobs
from certificates.models import Certificate, CertificateEvent, Proposal
from tests.certificates.cas_factories import cas_certificate
from tests.certificates.factories import issued_certificate
from tests.reporting.conftest import at
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

VERIFIED = date(2025, 10, 9)


@shared_fixture
def certificate(staff):
    return cas_certificate(staff=staff)


def suspend(certificate, staff, *, cause, ends_on=date(2026, 1, 9), **kwargs):
    return services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=cause,
        verified_on=VERIFIED,
        starts_on=VERIFIED,
        ends_on=ends_on,
        **kwargs,
    )


def withdraw(certificate, staff, *, cause, on=VERIFIED):
    return services.certificate_withdraw(
        certificate=certificate, actor=staff.decider, cause=cause, verified_on=on, withdrawn_on=on
    )


# --- the tables (pure data) -------------------------------------------------------------------


def test_cas_tables_are_001_s_numbered_causes():
    table = causes.scheme_causes("CAS")
    assert list(table.suspension) == [1, 2, 3, 4, 5, 6, 7]  # 001 §9.3.2.1 (1)–(7)
    assert list(table.withdrawal) == list(range(1, 11))  # 001 §9.3.3.1 (1)–(10)
    assert table.suspension[4].label == "无正当理由不按要求的频次接受监督审查或再认证审查的"
    assert table.suspension[4].rule == "001 §9.3.2.1(4)"
    assert table.withdrawal[7].label.endswith("或者CAS已要求其纠正但超过2个月仍未纠正的")
    assert table.withdrawal[7].rule == "001 §9.3.3.1(7)"
    assert (table.max_suspension_months, table.licence_extension) == (6, True)
    assert table.misuse_correction_months == 2


def test_every_cause_has_a_known_cnca_code_and_cas_causes_an_english_title():
    for scheme in ("ZXRZ-2025", "CAS"):
        table = causes.scheme_causes(scheme)
        for cause in table.suspension.values():
            assert cnca_label("suspension_reason", cause.cnca_code), cause
        for cause in table.withdrawal.values():
            assert cnca_label("withdrawal_reason", cause.cnca_code), cause
    cas = causes.scheme_causes("CAS")
    assert all(c.title for c in [*cas.suspension.values(), *cas.withdrawal.values()])


def test_zxrz_names_keep_working():
    assert causes.suspension_causes() is causes.SUSPENSION_CAUSES
    assert causes.withdrawal_causes("ZXRZ-2025") is causes.WITHDRAWAL_CAUSES
    assert causes.suspension_cause(11).rule == "004 §7.2.1(11)"
    zxrz = causes.scheme_causes("ZXRZ-2025")
    assert (zxrz.licence_extension, zxrz.misuse_correction_months) == (False, 1)
    assert zxrz.suspension_ended_unresolved == causes.SUSPENSION_ENDED_UNRESOLVED == 7


@pytest.mark.parametrize(
    ("scheme", "kind", "number", "rule"),
    [
        ("CAS", "suspension", 8, "001 §9.3.2.1"),
        ("CAS", "withdrawal", 11, "001 §9.3.3.1"),
        ("ZXRZ-2025", "suspension", 13, "004 §7.2.1"),
    ],
)
def test_a_number_outside_the_scheme_s_table_is_unknown(scheme, kind, number, rule):
    lookup = causes.suspension_cause if kind == "suspension" else causes.withdrawal_cause
    with pytest.raises(ValueError, match=rule):
        lookup(number, scheme)


# --- the services use the certificate's scheme's table -------------------------------------------


def test_a_zxrz_only_cause_number_is_refused_for_a_cas_certificate(certificate, staff):
    with pytest.raises(RuleViolation, match="001 §9.3.2.1"):
        suspend(certificate, staff, cause=11)  # 004 §7.2.1(11): no (11) in 001 §9.3.2.1

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert not certificate.events.filter(kind=CertificateEvent.Kind.SUSPENDED).exists()


def test_a_cas_suspension_names_the_cas_cause(certificate, staff):
    suspend(certificate, staff, cause=6)  # 001 §9.3.2.1(6): the client asks for it

    certificate.refresh_from_db()
    event = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    assert (event.cause, event.reason_code) == (6, "0116")
    assert certificate.status_reason == "主动请求暂停的"
    assert public.event_text(event).endswith("主动请求暂停的")


def test_cas_suspension_lasts_at_most_6_months(certificate, staff):
    with pytest.raises(RuleViolation, match="001 §9.3.2.2"):
        suspend(certificate, staff, cause=6, ends_on=date(2026, 4, 10))
    suspend(certificate, staff, cause=6, ends_on=date(2026, 4, 9))  # 6 months to the day

    certificate.refresh_from_db()
    assert certificate.suspended_until == date(2026, 4, 9)


def test_the_same_number_means_the_zxrz_cause_for_a_zxrz_certificate(staff):
    zxrz = issued_certificate(staff=staff)

    suspend(zxrz, staff, cause=6)  # 004 §7.2.1(6): surveillance not accepted at the interval

    event = zxrz.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    assert event.reason_code == "0112"
    assert public.event_text(event).endswith("不能按照规定的时间间隔接受监督审核的")


def test_cas_withdrawal_cause_numbers_and_the_suspension_ended_cause(certificate, staff):
    with pytest.raises(RuleViolation, match="001 §9.3.3.1"):
        withdraw(certificate, staff, cause=11)
    # 001 §9.3.3.1(5) "suspension period ended unresolved" needs a suspended certificate.
    with pytest.raises(RuleViolation, match=r"001 §9.3.3.1\(5\)"):
        withdraw(certificate, staff, cause=5)

    withdraw(certificate, staff, cause=7)  # misuse not corrected within 2 months

    certificate.refresh_from_db()
    event = certificate.events.get(kind=CertificateEvent.Kind.WITHDRAWN)
    assert (event.cause, event.reason_code) == (7, "0117")
    assert "超过2个月仍未纠正" in certificate.status_reason


def test_cas_suspension_ended_proposes_withdrawal_with_cas_cause_5(certificate, staff):
    suspend(certificate, staff, cause=6, ends_on=date(2025, 11, 30))

    proposal = services.suspension_ended_propose(
        certificate=certificate, actor=staff.decider, today=date(2025, 12, 1)
    )

    assert (proposal.action, proposal.cause) == ("withdraw", 5)
    services.proposal_accept(
        proposal=proposal,
        actor=staff.decider,
        verified_on=date(2025, 12, 1),
        withdrawn_on=date(2025, 12, 1),
    )
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.WITHDRAWN


def test_a_proposal_with_a_cause_outside_the_scheme_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="001 §9.3.2.1"):
        services.proposal_open(
            certificate=certificate,
            actor=staff.decider,
            action=Proposal.Action.SUSPEND,
            cause=12,
            reason="其他",
        )
    assert not Proposal.objects.exists()


def test_scope_reduction_uses_the_cas_table(certificate, staff):
    with pytest.raises(RuleViolation, match="001 §9.3.2.1"):
        services.certificate_reduce_scope(
            certificate=certificate,
            actor=staff.decider,
            cause=10,
            verified_on=VERIFIED,
            reduced_on=VERIFIED,
            scope_text="家用电器的批发零售及售后服务（配送）",
        )


def test_overdue_cas_surveillance_proposes_cas_cause_4(certificate, time_machine):
    audit = certificate.programme.audits.get(kind="surveillance", sequence=1)
    time_machine.move_to(at(audit.due_on), tick=False)
    assert certificate_jobs.surveillance_overdue_step() is False
    time_machine.move_to(at(date.fromordinal(audit.due_on.toordinal() + 1)), tick=False)

    assert certificate_jobs.surveillance_overdue_step() is True

    proposal = Proposal.objects.get(certificate=certificate)
    assert (proposal.action, proposal.cause) == ("suspend", 4)  # 001 §9.3.2.1(4)
    assert "001 §7.1" in proposal.reason


# --- the desk forms offer the certificate's scheme's causes --------------------------------------


def test_desk_forms_offer_the_certificate_s_scheme_s_causes(certificate, staff):
    zxrz = issued_certificate(staff=staff)

    cas_form = forms.SuspendForm(obj=certificate, user=staff.decider)
    zxrz_form = forms.SuspendForm(obj=zxrz, user=staff.decider)
    withdraw_form = forms.WithdrawForm(obj=certificate, user=staff.decider)

    assert [n for n, _label in cas_form.fields["cause"].choices] == [1, 2, 3, 4, 5, 6, 7]
    assert "001 §9.3.2.1" in str(cas_form.fields["cause"].label)
    assert len(zxrz_form.fields["cause"].choices) == 12
    assert "004 §7.2.1" in str(zxrz_form.fields["cause"].label)
    assert len(withdraw_form.fields["cause"].choices) == 10
    assert "001 §9.3.3.1" in str(withdraw_form.fields["cause"].label)
    bound = forms.SuspendForm(
        {
            "cause": "11",
            "verified_on": "2025-10-09",
            "starts_on": "2025-10-09",
            "ends_on": "2026-01-09",
        },
        obj=certificate,
        user=staff.decider,
    )
    assert not bound.is_valid() and "cause" in bound.errors
