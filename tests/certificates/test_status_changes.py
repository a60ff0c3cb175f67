"""Suspension, restoration, withdrawal, cancellation, scope reduction and reissue (004 §7,
Appendix C.3; 001 §9.3): allowed and refused, events and codes, notices, sub-certificates."""

import logging
from datetime import date

import pytest
import time_machine

from audits.models import AuditProgramme
from certbody.lifecycle import RuleViolation
from certbody.models import BusinessScope
from certificates import services
from certificates.models import Certificate, CertificateDocument, CertificateEvent, Proposal
from tests.certificates.factories import issued_certificate
from tests.certificates.helpers import (
    certificate_in,
    multi_site_certificate,
    skip_pdf_rendering,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status
Kind = CertificateDocument.Kind


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@shared_fixture
def certificate(staff, module_monkeypatch):
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(staff=staff)  # issued 2025-03-20, expires 2028-03-19


@shared_fixture
def multi_site(staff, module_monkeypatch):
    """(head, sub): a multi-site client's head certificate and one sub-certificate."""
    skip_pdf_rendering(module_monkeypatch)
    return multi_site_certificate(staff=staff)


def suspend(certificate, actor, **kwargs):
    args = {
        "cause": 1,
        "verified_on": date(2025, 6, 3),
        "starts_on": date(2025, 6, 5),
        "ends_on": date(2025, 9, 4),
    }
    args.update(kwargs)
    return services.certificate_suspend(certificate=certificate, actor=actor, **args)


def notices_of(certificate, kind):
    return list(CertificateDocument.objects.filter(certificate=certificate, kind=kind))


# --- suspension -----------------------------------------------------------------------------


def test_suspension_records_cause_codes_period_and_the_notice(certificate, staff):
    suspend(
        certificate,
        staff.decider,
        cause=6,
        reason="第一次监督审核逾期三个月未实施",
        evidence="监督审核通知及客户回函",
    )

    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == (Status.SUSPENDED, "02")
    assert (certificate.suspended_from, certificate.suspended_until) == (
        date(2025, 6, 5),
        date(2025, 9, 4),
    )
    assert certificate.status_changed_on == date(2025, 6, 5)
    assert certificate.status_reason == "不能按照规定的时间间隔接受监督审核的"
    event = certificate.events.get(kind=CertificateEvent.Kind.SUSPENDED)
    assert (event.status_code, event.change_code, event.reason_code) == ("02", "97_01", "0112")
    assert (event.cause, event.ends_on, event.actor) == (6, date(2025, 9, 4), staff.decider)
    assert event.reason == "第一次监督审核逾期三个月未实施"
    assert "监督审核通知及客户回函" in event.evidence
    [notice] = notices_of(certificate, Kind.SUSPENSION_NOTICE)
    assert notice.organization == certificate.organization
    assert notice.sha256 and notice.size


@pytest.mark.parametrize(
    "cause, code",
    [(1, "0111"), (2, "0113"), (5, "0115"), (8, "0112"), (10, "0199"), (11, "0116"), (12, "0199")],
)
def test_each_cause_maps_to_its_cnca_suspension_reason(certificate, staff, cause, code):
    suspend(certificate, staff.decider, cause=cause)

    assert certificate.events.get(kind="suspended").reason_code == code


def test_start_on_the_fifth_working_day_after_verification_is_allowed(certificate, staff):
    # 2025-09-30 verified; 1–8 October are the National Day holidays and 11 October is a
    # make-up working day: the 5th working day is 14 October.
    suspend(
        certificate,
        staff.decider,
        verified_on=date(2025, 9, 30),
        starts_on=date(2025, 10, 14),
        ends_on=date(2026, 1, 13),
    )

    certificate.refresh_from_db()
    assert certificate.status == Status.SUSPENDED


def test_start_later_than_five_working_days_after_verification_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match=r"5 个工作日.*2025-10-14.*004 §7.2.1\(1\)"):
        suspend(
            certificate,
            staff.decider,
            verified_on=date(2025, 9, 30),
            starts_on=date(2025, 10, 15),
            ends_on=date(2026, 1, 14),
        )

    certificate.refresh_from_db()
    assert certificate.status == Status.VALID
    assert not certificate.events.filter(kind="suspended").exists()
    assert not notices_of(certificate, Kind.SUSPENSION_NOTICE)


def test_start_before_the_cause_was_verified_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="不能早于调查核实日期"):
        suspend(
            certificate, staff.decider, verified_on=date(2025, 6, 3), starts_on=date(2025, 6, 2)
        )


def test_deadline_in_a_year_without_published_calendar_says_so(certificate, staff, caplog):
    # 2027's holidays are not in the calendar: Monday–Friday is used, and the refusal says so.
    with time_machine.travel(date(2027, 1, 20)), caplog.at_level(logging.WARNING):
        with pytest.raises(RuleViolation, match="2027 年的法定节假日安排尚未公布"):
            suspend(
                certificate,
                staff.decider,
                verified_on=date(2026, 12, 30),
                starts_on=date(2027, 1, 8),
                ends_on=date(2027, 3, 1),
            )
        # 2026-12-30 + 5 working days, Monday–Friday: 2027-01-06.
        suspend(
            certificate,
            staff.decider,
            verified_on=date(2026, 12, 30),
            starts_on=date(2027, 1, 6),
            ends_on=date(2027, 3, 1),
        )
    assert "no published calendar for 2027" in caplog.text
    event = certificate.events.get(kind="suspended")
    assert "2027 年的法定节假日安排尚未公布" in event.evidence


def test_period_of_exactly_six_months_is_allowed(certificate, staff):
    suspend(certificate, staff.decider, starts_on=date(2025, 6, 5), ends_on=date(2025, 12, 5))

    certificate.refresh_from_db()
    assert certificate.suspended_until == date(2025, 12, 5)


def test_period_over_six_months_is_refused_naming_the_rule(certificate, staff):
    with pytest.raises(RuleViolation, match=r"6 个月.*2025-12-05.*004 §7.2.2"):
        suspend(certificate, staff.decider, starts_on=date(2025, 6, 5), ends_on=date(2025, 12, 6))

    certificate.refresh_from_db()
    assert certificate.status == Status.VALID


def test_end_before_start_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="晚于开始日期"):
        suspend(certificate, staff.decider, ends_on=date(2025, 6, 5))


def test_future_start_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="不能晚于今天"):
        suspend(
            certificate,
            staff.decider,
            verified_on=date(2099, 1, 1),
            starts_on=date(2099, 1, 1),
            ends_on=date(2099, 2, 1),
        )


@pytest.mark.parametrize("status", [Status.SUSPENDED, Status.WITHDRAWN, Status.CANCELLED])
def test_suspending_a_certificate_that_is_not_valid_is_refused(staff, status):
    certificate = certificate_in(status, staff=staff)
    events = certificate.events.count()

    with pytest.raises(RuleViolation, match="当前状态"):
        suspend(
            certificate,
            staff.decider,
            verified_on=date(2025, 10, 9),
            starts_on=date(2025, 10, 9),
            ends_on=date(2025, 12, 1),
        )

    assert certificate.events.count() == events


def test_licence_case_under_cas_may_run_to_the_licensing_decision(certificate, staff):
    AuditProgramme.objects.filter(pk=certificate.programme_id).update(scheme="CAS")

    with pytest.raises(RuleViolation, match="001 §9.3.2.2"):
        suspend(
            certificate,
            staff.decider,
            cause=5,
            ends_on=date(2026, 2, 1),
            licensing_decision_on=date(2026, 1, 20),
        )
    suspend(
        certificate,
        staff.decider,
        cause=5,
        ends_on=date(2026, 1, 20),
        licensing_decision_on=date(2026, 1, 20),
    )

    certificate.refresh_from_db()
    assert certificate.suspended_until == date(2026, 1, 20)
    assert "许可决定日期：2026-01-20" in certificate.events.get(kind="suspended").evidence


def test_licence_case_under_zxrz_is_still_limited_to_six_months(certificate, staff):
    with pytest.raises(RuleViolation, match=r"004 §7.2.2"):
        suspend(
            certificate,
            staff.decider,
            cause=5,
            ends_on=date(2026, 1, 20),
            licensing_decision_on=date(2026, 1, 20),
        )


def test_licensing_decision_date_only_for_the_licence_cause(certificate, staff):
    with pytest.raises(RuleViolation, match="许可决定日期"):
        suspend(certificate, staff.decider, cause=1, licensing_decision_on=date(2026, 1, 20))


def test_only_status_officers_suspend(certificate, staff):
    with pytest.raises(RuleViolation, match="无权"):
        suspend(certificate, staff.market)


# --- sub-certificates follow their head ------------------------------------------------------


def test_sub_certificates_follow_suspension_restoration_and_withdrawal(staff, multi_site):
    head, sub = multi_site

    suspend(head, staff.decider, cause=11)
    sub.refresh_from_db()
    assert sub.status == Status.SUSPENDED
    assert (sub.suspended_from, sub.suspended_until) == (date(2025, 6, 5), date(2025, 9, 4))
    sub_event = sub.events.get(kind="suspended")
    assert (sub_event.reason_code, sub_event.cause) == ("0116", 11)
    # One notice to the client, about the head certificate and naming its sub-certificates.
    assert len(notices_of(head, Kind.SUSPENSION_NOTICE)) == 1
    assert not notices_of(sub, Kind.SUSPENSION_NOTICE)
    with pytest.raises(RuleViolation, match="主证书"):
        suspend(sub, staff.decider)

    services.certificate_restore(
        certificate=head, actor=staff.decider, restored_on=date(2025, 7, 1), evidence="整改验证"
    )
    sub.refresh_from_db()
    assert (sub.status, sub.suspended_from) == (Status.VALID, None)

    services.certificate_withdraw(
        certificate=head,
        actor=staff.decider,
        cause=1,
        verified_on=date(2025, 8, 4),
        withdrawn_on=date(2025, 8, 5),
    )
    sub.refresh_from_db()
    assert sub.status == Status.WITHDRAWN
    assert sub.events.get(kind="withdrawn").reason_code == "0111"


# --- restoration ----------------------------------------------------------------------------


def test_restoration_within_the_period_with_evidence_and_notice(
    certificate, staff, technical_manager
):
    suspend(certificate, staff.decider)

    services.certificate_restore(
        certificate=certificate,
        actor=technical_manager,
        restored_on=date(2025, 9, 4),
        evidence="特殊审核验证纠正措施有效",
    )

    certificate.refresh_from_db()
    assert certificate.status == Status.VALID
    assert (certificate.suspended_from, certificate.suspended_until) == (None, None)
    event = certificate.events.get(kind="restored")
    assert (event.status_code, event.change_code, event.evidence) == (
        "01",
        "97_02",
        "特殊审核验证纠正措施有效",
    )
    assert len(notices_of(certificate, Kind.RESTORATION_NOTICE)) == 1


def test_restoration_after_the_period_ended_is_refused(certificate, staff):
    suspend(certificate, staff.decider)

    with pytest.raises(RuleViolation, match=r"暂停期已于 2025-09-04 届满.*§7.3.1\(7\)"):
        services.certificate_restore(
            certificate=certificate,
            actor=staff.decider,
            restored_on=date(2025, 9, 5),
            evidence="整改完成",
        )


def test_restoring_a_valid_certificate_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="当前状态"):
        services.certificate_restore(
            certificate=certificate,
            actor=staff.decider,
            restored_on=date(2025, 7, 1),
            evidence="x",
        )


# --- withdrawal -----------------------------------------------------------------------------


def withdraw(certificate, actor, **kwargs):
    args = {"cause": 1, "verified_on": date(2025, 8, 4), "withdrawn_on": date(2025, 8, 8)}
    args.update(kwargs)
    return services.certificate_withdraw(certificate=certificate, actor=actor, **args)


def test_withdrawal_records_cause_codes_and_the_notice(certificate, staff):
    withdraw(certificate, staff.decider, cause=9)

    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == (Status.WITHDRAWN, "03")
    assert certificate.status_changed_on == date(2025, 8, 8)
    assert certificate.status_reason.startswith("不按相关规定正确引用和宣传获得的认证信息")
    event = certificate.events.get(kind="withdrawn")
    assert (event.change_code, event.reason_code, event.cause) == ("97_03", "0117", 9)
    assert len(notices_of(certificate, Kind.WITHDRAWAL_NOTICE)) == 1


def test_withdrawal_later_than_five_working_days_is_refused(certificate, staff):
    # 2025-08-04 (Monday) + 5 working days = 2025-08-11.
    with pytest.raises(RuleViolation, match=r"最迟 2025-08-11.*004 §7.3.1\(1\)"):
        withdraw(certificate, staff.decider, withdrawn_on=date(2025, 8, 12))

    certificate.refresh_from_db()
    assert certificate.status == Status.VALID


def test_withdrawal_for_an_ended_suspension_needs_the_period_to_be_over(certificate, staff):
    with pytest.raises(RuleViolation, match="未被暂停"):
        withdraw(certificate, staff.decider, cause=7)
    suspend(certificate, staff.decider)  # until 2025-09-04
    with pytest.raises(RuleViolation, match="2025-09-04 才届满"):
        withdraw(
            certificate,
            staff.decider,
            cause=7,
            verified_on=date(2025, 9, 1),
            withdrawn_on=date(2025, 9, 2),
        )

    withdraw(
        certificate,
        staff.decider,
        cause=7,
        verified_on=date(2025, 9, 5),
        withdrawn_on=date(2025, 9, 8),
    )

    certificate.refresh_from_db()
    assert certificate.status == Status.WITHDRAWN
    assert certificate.events.get(kind="withdrawn").reason_code == "0115"


def test_last_day_of_the_suspension_restores_and_refuses_the_expiry_withdrawal(
    certificate, staff, technical_manager
):
    # 004 §7.2.4 vs §7.3.1(7): the last day still belongs to restoration.
    suspend(certificate, staff.decider)  # until 2025-09-04
    with pytest.raises(
        RuleViolation, match=r"2025-09-04 才届满.*2025-09-05.*004 §7.2.4.*§7.3.1\(7\)"
    ):
        withdraw(
            certificate,
            staff.decider,
            cause=7,
            verified_on=date(2025, 9, 4),
            withdrawn_on=date(2025, 9, 4),
        )

    services.certificate_restore(
        certificate=certificate,
        actor=technical_manager,
        restored_on=date(2025, 9, 4),
        evidence="特殊审核验证纠正措施有效",
    )

    certificate.refresh_from_db()
    assert certificate.status == Status.VALID
    assert not certificate.events.filter(kind="withdrawn").exists()


def test_day_after_the_suspension_withdraws_and_refuses_restoration(certificate, staff):
    suspend(certificate, staff.decider)  # until 2025-09-04
    with pytest.raises(RuleViolation, match=r"2025-09-04 届满.*§7.3.1\(7\)"):
        services.certificate_restore(
            certificate=certificate,
            actor=staff.decider,
            restored_on=date(2025, 9, 5),
            evidence="整改完成",
        )

    withdraw(
        certificate,
        staff.decider,
        cause=7,
        verified_on=date(2025, 9, 5),
        withdrawn_on=date(2025, 9, 5),
    )

    certificate.refresh_from_db()
    assert certificate.status == Status.WITHDRAWN
    assert certificate.status_changed_on == date(2025, 9, 5)
    assert not certificate.events.filter(kind="restored").exists()


def test_withdrawal_closes_open_withdrawal_proposals(certificate, staff):
    proposal = Proposal.objects.create(
        certificate=certificate, action="withdraw", cause=10, reason="x", created_by=staff.decider
    )

    withdraw(certificate, staff.decider)

    proposal.refresh_from_db()
    assert (proposal.state, proposal.closed_on) == (Proposal.State.ACCEPTED, date(2025, 8, 8))


@pytest.mark.parametrize("status", [Status.WITHDRAWN, Status.CANCELLED, Status.EXPIRED])
def test_withdrawing_a_final_certificate_is_refused(staff, status):
    certificate = certificate_in(status, staff=staff)

    with pytest.raises(RuleViolation, match="当前状态"):
        withdraw(
            certificate,
            staff.decider,
            verified_on=date(2025, 10, 9),
            withdrawn_on=date(2025, 10, 9),
        )


def test_unknown_withdrawal_cause_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="未知的撤销原因"):
        withdraw(certificate, staff.decider, cause=11)


def test_withdrawn_number_is_void_and_the_next_certificate_gets_a_new_one(certificate, staff):
    withdraw(certificate, staff.decider)

    second = issued_certificate(staff=staff)

    assert second.number != certificate.number
    assert not Certificate.objects.exclude(pk=certificate.pk).filter(number=certificate.number)


# --- cancellation and expiry ----------------------------------------------------------------


def test_cancellation_at_the_clients_request_with_notice(certificate, staff):
    services.certificate_cancel(
        certificate=certificate,
        actor=staff.decider,
        cancelled_on=date(2025, 5, 6),
        evidence="客户 2025-05-05 书面申请注销",
    )

    certificate.refresh_from_db()
    assert (certificate.status, certificate.status_code) == (Status.CANCELLED, "04")
    assert certificate.status_reason == "认证委托人申请注销的"
    event = certificate.events.get(kind="cancelled")
    assert (event.reason_code, event.evidence) == ("0204", "客户 2025-05-05 书面申请注销")
    assert len(notices_of(certificate, Kind.CANCELLATION_NOTICE)) == 1


def test_cancelling_a_withdrawn_certificate_is_refused(staff):
    certificate = certificate_in(Status.WITHDRAWN, staff=staff)

    with pytest.raises(RuleViolation, match="当前状态"):
        services.certificate_cancel(
            certificate=certificate, actor=staff.decider, cancelled_on=date(2025, 8, 1)
        )


def test_expiry_writes_code_05_and_no_notice(certificate, staff):
    services.certificate_expire(
        certificate=certificate, actor=staff.decider, today=date(2028, 3, 20)
    )

    certificate.refresh_from_db()
    assert certificate.status_code == "05"
    assert certificate.events.get(kind="expired").change_code == "97_05"
    assert not CertificateDocument.objects.filter(certificate=certificate).exclude(
        kind__in=[Kind.CERTIFICATE, Kind.APPROVAL_NOTICE]
    )


# --- scope reduction instead of suspension ----------------------------------------------------


def test_scope_reduction_keeps_number_and_validity_and_writes_code_06(staff, multi_site):
    head, sub = multi_site
    head.business_scopes.add(BusinessScope.objects.get(code=30))
    pdfs_before = set(head.documents.filter(kind=Kind.CERTIFICATE).values_list("sha256", "pk"))
    number = head.number

    services.certificate_reduce_scope(
        certificate=head,
        actor=staff.decider,
        cause=2,
        verified_on=date(2025, 6, 3),
        reduced_on=date(2025, 6, 5),
        scope_text="家用电器的销售及售后服务（配送、维修）",
        business_scope_codes=[24],
        evidence="安装业务资质过期",
    )

    head.refresh_from_db()
    assert head.status == Status.VALID
    assert (head.number, head.expires_on) == (number, date(2028, 3, 19))
    assert head.scope_text == "家用电器的销售及售后服务（配送、维修）"
    assert list(head.business_scopes.values_list("code", flat=True)) == [24]
    assert head.reissued_on == date(2025, 6, 5)
    event = head.events.get(kind="reissued")
    assert (event.change_code, event.reason_code, event.cause) == ("06", "0104", 2)
    assert pdfs_before < set(
        head.documents.filter(kind=Kind.CERTIFICATE).values_list("sha256", "pk")
    )
    sub.refresh_from_db()
    assert sub.events.get(kind="reissued").change_code == "06"


def test_scope_reduction_late_after_verification_is_refused(certificate, staff):
    with pytest.raises(RuleViolation, match="5 个工作日"):
        services.certificate_reduce_scope(
            certificate=certificate,
            actor=staff.decider,
            cause=2,
            verified_on=date(2025, 6, 3),
            reduced_on=date(2025, 7, 1),
            scope_text="家用电器的销售及售后服务（配送）",
        )


# --- reissue within validity ----------------------------------------------------------------


def reissue(certificate, actor, reason, changes, on=date(2025, 7, 1)):
    return services.certificate_reissue(
        certificate=certificate, actor=actor, reason=reason, reissued_on=on, changes=changes
    )


def test_reissue_for_a_new_name_keeps_number_validity_and_the_old_pdf(certificate, staff):
    old_name = certificate.organization_name
    old_pdf = certificate.documents.get(kind=Kind.CERTIFICATE)

    reissue(certificate, staff.decider, "01", {"organization_name": "北京新名称电器有限公司"})

    certificate.refresh_from_db()
    assert certificate.organization_name == "北京新名称电器有限公司"
    assert certificate.organization.name == old_name  # the live record is the market's
    assert (certificate.number, certificate.issued_on, certificate.expires_on) == (
        "012325FW0001R0C",
        date(2025, 3, 20),
        date(2028, 3, 19),
    )
    assert (certificate.reissued_on, certificate.reissue_reason) == (date(2025, 7, 1), "组织更名")
    event = certificate.events.get(kind="reissued")
    assert (event.status_code, event.change_code, event.reason_code) == ("01", "01", "0104")
    pdfs = list(certificate.documents.filter(kind=Kind.CERTIFICATE).order_by("pk"))
    assert len(pdfs) == 2 and pdfs[0] == old_pdf
    assert pdfs[1].note == "换证（组织更名）"


@pytest.mark.parametrize(
    "reason, changes, field, value",
    [
        ("02", {"registered_address": "北京市海淀区新地址 1 号"}, "registered_address", None),
        ("99", {"star_grade": "five_star"}, "star_grade", "five_star"),
        ("05", {"scope_text": "家用电器及厨具的销售及售后服务"}, "scope_text", None),
    ],
)
def test_reissue_codes_per_change(certificate, staff, reason, changes, field, value):
    reissue(certificate, staff.decider, reason, changes)

    certificate.refresh_from_db()
    assert getattr(certificate, field) == (value or changes[field])
    assert certificate.events.get(kind="reissued").change_code == reason


def test_scope_extension_adds_categories(certificate, staff):
    reissue(certificate, staff.decider, "05", {"business_scope_codes": [24, 30]})

    assert sorted(certificate.business_scopes.values_list("code", flat=True)) == [24, 30]


def test_grade_change_follows_onto_sub_certificates(staff, multi_site):
    head, sub = multi_site

    reissue(head, staff.decider, "99", {"star_grade": "standard"})

    sub.refresh_from_db()
    assert sub.star_grade == "standard"
    assert sub.reissued_on == date(2025, 7, 1)
    assert sub.documents.filter(kind=Kind.CERTIFICATE).count() == 2


@pytest.mark.parametrize(
    "reason, changes, message",
    [
        ("01", {"organization_name": ""}, "不能为空"),
        ("01", {"registered_address": "别处"}, "不同的新内容"),
        ("99", {"colour": "red"}, "不能变更"),
        ("97", {"star_grade": "standard"}, "不能按变更类型"),
        ("99", {"star_grade": "six_star"}, "未知的星级"),
        ("06", {"business_scope_codes": [24, 30]}, "缩小认证范围只能删去"),
        ("05", {"business_scope_codes": [99]}, "业务范围代码无效"),
    ],
)
def test_refused_reissues(certificate, staff, reason, changes, message):
    with pytest.raises(RuleViolation, match=message):
        reissue(certificate, staff.decider, reason, changes)

    assert not certificate.events.filter(kind="reissued").exists()


def test_reissue_of_a_suspended_certificate_is_refused(staff):
    certificate = certificate_in(Status.SUSPENDED, staff=staff)

    with pytest.raises(RuleViolation, match="只有有效的证书才能换证"):
        reissue(certificate, staff.decider, "99", {"star_grade": "five_star"})


def test_recertification_supersedes_and_links_the_new_certificate(staff):
    old = certificate_in(Status.SUPERSEDED, staff=staff)

    new = Certificate.objects.get(organization=old.organization, cycle=1, head__isnull=True)
    assert old.superseded_by == new
    assert new.number.endswith("R1C")
    assert new.expires_on == date(2031, 3, 19)  # continues from the previous expiry
    assert new.organization_name == old.organization_name
    assert new.documents.filter(kind=Kind.APPROVAL_NOTICE).count() == 1


# --- the daily step for suspensions that ended unresolved -------------------------------------


def test_ended_suspension_step_proposes_withdrawal_once(certificate, staff):
    suspend(certificate, staff.decider)  # until 2025-09-04

    assert services.suspension_ended_step(today=date(2025, 9, 4)) is None
    proposal = services.suspension_ended_step(today=date(2025, 9, 5))
    assert (proposal.certificate, proposal.action, proposal.cause) == (certificate, "withdraw", 7)
    assert proposal.created_by.username == "system"
    assert services.suspension_ended_step(today=date(2025, 9, 6)) is None
    certificate.refresh_from_db()
    assert certificate.status == Status.SUSPENDED  # proposed, never withdrawn automatically


def test_a_dismissed_withdrawal_proposal_is_not_made_again_for_the_same_suspension(
    certificate, staff
):
    suspend(certificate, staff.decider)  # until 2025-09-04
    proposal = services.suspension_ended_step(today=date(2025, 9, 5))
    services.proposal_dismiss(
        proposal=proposal, actor=staff.decider, note="整改验证中，技术负责人批准延后处理"
    )
    assert services.suspension_ended_step(today=date(2025, 9, 6)) is None


def test_suspending_closes_the_open_suspension_proposal(certificate, staff):
    from certbody.lifecycle import system_user
    from certificates.models import Proposal

    proposal = Proposal(
        certificate=certificate,
        action=Proposal.Action.SUSPEND,
        cause=6,
        reason="监督审核逾期",
        created_by=system_user(),
    )
    proposal.save()
    suspend(certificate, staff.decider)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.ACCEPTED
    assert proposal.closed_on == date(2025, 6, 5)
