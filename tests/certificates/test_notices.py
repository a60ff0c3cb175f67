"""Notices (002 §4.1.2; 004 §5.12.5, §7.2.3, §7.3.2): Chinese PDFs produced by the services,
stored immutably with SHA-256 and offered to the client in the portal."""

import hashlib
from datetime import date

import pytest

from audits.models import Audit
from certbody.lifecycle import RuleViolation
from certificates import services
from certificates.models import CertificateDocument
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certificates.factories import completed_stage2, issued_certificate, run_audit
from tests.certificates.helpers import pdf_text
from tests.shared import shared_fixture

pytestmark = [pytest.mark.usefixtures("cb"), pytest.mark.pdf]

Kind = CertificateDocument.Kind


@shared_fixture
def certificate(staff):
    return issued_certificate(OrganizationFactory(name="北京京东家电服务有限公司"), staff)


@shared_fixture
def other_certificate(staff):
    """A second client's certificate (the cancellation notice)."""
    return issued_certificate(staff=staff)


@shared_fixture
def stage2(staff):
    """A completed stage 2 awaiting its decision (the refusals)."""
    return completed_stage2(OrganizationFactory(name="上海被拒商贸有限公司"), staff)


def text_of(document) -> str:
    with document.file.open("rb") as handle:
        return pdf_text(handle.read())


def the_notice(kind, **filters) -> CertificateDocument:
    return CertificateDocument.objects.get(kind=kind, **filters)


def test_approval_notice_comes_with_the_certificate(certificate):
    notice = the_notice(Kind.APPROVAL_NOTICE, certificate=certificate)

    text = text_of(notice)
    assert "认证批准通知书" in text
    assert "致：北京京东家电服务有限公司" in text
    assert certificate.number in text
    assert "初次认证批准决定" in text
    assert "第一次监督审核应在2026年3月20日前完成" in text
    assert notice.decision == certificate.decision
    assert notice.note == "认证批准通知书"


def test_suspension_notice_states_start_period_and_the_prohibition(certificate, staff):
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=7,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 5),
        ends_on=date(2025, 9, 4),
        reason="在产品包装上标注售后服务认证标志",
    )

    text = text_of(the_notice(Kind.SUSPENSION_NOTICE, certificate=certificate))
    assert "暂停认证资格通知书" in text
    assert "暂停起始日期2025年6月5日" in text
    assert "暂停期限至2025年9月4日（共92天）" in text
    assert "暂停期间，贵组织不得以任何方式使用认证证书、认证标志或引用认证信息。" in text
    assert "（7）未按相关规定正确引用和宣传获得的认证资格" in text
    assert "具体情况：在产品包装上标注售后服务认证标志" in text
    assert "核实日期：2025年6月3日" in text
    assert "可自收到本通知书之日起向本机构提出申诉" in text


def test_restoration_withdrawal_and_cancellation_notices(certificate, other_certificate, staff):
    first = certificate
    services.certificate_suspend(
        certificate=first,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 31),
    )
    services.certificate_restore(
        certificate=first, actor=staff.decider, restored_on=date(2025, 7, 10), evidence="已整改"
    )
    restored = text_of(the_notice(Kind.RESTORATION_NOTICE, certificate=first))
    assert "恢复认证资格通知书" in restored
    assert "自2025年7月10日起恢复贵组织的认证资格" in restored
    assert "2025年6月3日起暂停" in restored

    services.certificate_withdraw(
        certificate=first,
        actor=staff.decider,
        cause=2,
        verified_on=date(2025, 8, 1),
        withdrawn_on=date(2025, 8, 4),
    )
    withdrawn = text_of(the_notice(Kind.WITHDRAWAL_NOTICE, certificate=first))
    assert "撤销认证资格通知书" in withdrawn
    assert "自2025年8月4日起撤销贵组织的认证证书" in withdrawn
    assert "认证证书编号作废" in withdrawn
    assert "列入严重违法失信名单" in withdrawn

    second = other_certificate
    services.certificate_cancel(
        certificate=second, actor=staff.decider, cancelled_on=date(2025, 5, 6)
    )
    cancelled = text_of(the_notice(Kind.CANCELLATION_NOTICE, certificate=second))
    assert "注销认证资格通知书" in cancelled
    assert "根据贵组织提出的不再保持认证资格的申请" in cancelled
    assert "认证委托人申请注销的" in cancelled


def test_refusal_notice_gives_the_reasons_and_belongs_to_the_decision(stage2, staff):
    decision = services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 3, 20),
        reasons="严重不符合项未在规定期限内完成纠正",
    )

    notice = the_notice(Kind.REFUSAL_NOTICE, decision=decision)
    assert notice.certificate is None
    assert notice.organization == stage2.programme.organization
    text = text_of(notice)
    assert "不予认证通知书" in text
    assert "致：上海被拒商贸有限公司" in text
    assert "未通过认证的原因严重不符合项未在规定期限内完成纠正" in text
    assert "向本机构提出申诉" in text


def test_refusal_without_reasons_is_refused(stage2, staff):
    documents = CertificateDocument.objects.count()

    with pytest.raises(RuleViolation, match="004 §5.12.5"):
        services.decision_make(
            audit=stage2, actor=staff.decider, outcome="refuse", decided_on=date(2025, 3, 20)
        )

    assert CertificateDocument.objects.count() == documents


def test_maintain_decision_produces_the_maintenance_notice(certificate, staff):
    surveillance = certificate.programme.audits.get(kind=Audit.Kind.SURVEILLANCE, sequence=1)
    run_audit(surveillance, staff, date(2026, 3, 2), date(2026, 3, 3))

    decision = services.decision_make(
        audit=surveillance, actor=staff.decider, outcome="maintain", decided_on=date(2026, 3, 10)
    )

    notice = the_notice(Kind.MAINTENANCE_NOTICE, certificate=certificate)
    assert notice.decision == decision
    text = text_of(notice)
    assert "监督审核保持认证资格通知书" in text
    assert "2026年3月2日至2026年3月3日" in text
    assert "决定保持贵组织的认证资格" in text


def test_notices_are_immutable_with_their_sha256(certificate):
    notice = the_notice(Kind.APPROVAL_NOTICE, certificate=certificate)

    with notice.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"%PDF")
    assert hashlib.sha256(content).hexdigest() == notice.sha256
    assert len(content) == notice.size
    notice.note = "changed"
    with pytest.raises(ValueError, match="immutable"):
        notice.save()


def test_client_sees_and_downloads_the_suspension_notice_in_the_portal(client, certificate, staff):
    services.certificate_suspend(
        certificate=certificate,
        actor=staff.decider,
        cause=11,
        verified_on=date(2025, 6, 3),
        starts_on=date(2025, 6, 3),
        ends_on=date(2025, 8, 31),
    )
    notice = the_notice(Kind.SUSPENSION_NOTICE, certificate=certificate)
    client.force_login(ClientUserFactory(organization=certificate.organization))

    body = client.get("/portal/").content.decode()
    assert 'data-kind="suspension_notice"' in body
    assert f'href="/portal/documents/{notice.pk}/"' in body
    assert "2025-06-03 – 2025-08-31" in body
    response = client.get(f"/portal/documents/{notice.pk}/")
    assert response.status_code == 200
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == notice.sha256

    client.force_login(ClientUserFactory(organization=OrganizationFactory()))
    assert client.get(f"/portal/documents/{notice.pk}/").status_code == 404


def test_client_sees_the_refusal_notice_among_other_notices(client, stage2, staff):
    decision = services.decision_make(
        audit=stage2,
        actor=staff.decider,
        outcome="refuse",
        decided_on=date(2025, 3, 20),
        reasons="评分低于 70 分",
    )
    notice = the_notice(Kind.REFUSAL_NOTICE, decision=decision)
    client.force_login(ClientUserFactory(organization=stage2.programme.organization))

    body = client.get("/portal/").content.decode()

    assert 'data-kind="refusal_notice"' in body
    assert f'href="/portal/documents/{notice.pk}/"' in body
