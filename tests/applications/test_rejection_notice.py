"""The written notice of a rejected application, with the reasons, within 5 days (001 §6.1.5):
its stored deadline, the PDF made and sent after the rejection commits, the reminder job and
the client's download."""

import hashlib
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from applications import services
from applications.jobs import rejection_notices
from applications.models import Application, ApplicationReview, RejectionNotice
from applications.rejection_notices import rejection_notice_due
from certbody import jobs
from certbody.lifecycle import RuleViolation
from certbody.models import Notification, OutgoingEmail
from certbody.pdf import pdf_text
from tests.applications.factories import ClientUserFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

REASON = "申请组织的售后服务体系运行不足三个月，不满足受理条件。"


def at(day: date, hour: int = 10) -> str:
    return f"{day.isoformat()} {hour:02d}:00 +08:00"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(at(date(2026, 12, 6)), tick=False) as traveller:
        yield traveller


@pytest.fixture
def under_review(market):
    application = services.application_create(
        organization=OrganizationFactory(contact_email="lisi@example.cn"),
        actor=market,
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )
    services.application_submit(application=application, actor=market)
    services.application_start_review(application=application, actor=market)
    return application


def reject(application, market, capture, reason=REASON):
    checks = {**dict.fromkeys(ApplicationReview.CHECKS, True), "system_operating": False}
    services.application_review_record(
        application=application,
        actor=market,
        checks=checks,
        eligibility_notes={"system_operating": "体系 2026-10-01 起运行，不足三个月"},
    )
    with capture(execute=True):
        services.application_reject(application=application, actor=market, reason=reason)
    application.refresh_from_db()
    return application


@pytest.mark.parametrize(
    ("decided_on", "due"),
    [
        (date(2026, 12, 6), date(2026, 12, 11)),
        (date(2026, 12, 29), date(2027, 1, 3)),  # calendar days, across the year
        (date(2026, 9, 30), date(2026, 10, 5)),  # holidays count: 001 §6.1.5 says 日, not 工作日
    ],
)
def test_the_notice_is_due_five_calendar_days_after_the_decision(decided_on, due):
    assert rejection_notice_due(decided_on) == due


def test_the_deadline_rule_refuses_a_non_date():
    with pytest.raises(ValueError, match="must be a date"):
        rejection_notice_due("2026-12-06")


def test_rejection_stores_the_deadline_and_sends_the_notice_after_commit(
    under_review, market, django_capture_on_commit_callbacks
):
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    assert application.state == Application.State.REJECTED
    assert application.rejection_notice_due == date(2026, 12, 11)
    assert application.rejection_notice_sent_on == date(2026, 12, 6)
    notice = application.rejection_notice
    assert notice.reference == f"BSL20261206-{application.reference}"
    assert notice.reasons == REASON and REASON in notice.html
    assert "体系 2026-10-01 起运行，不足三个月" in notice.html  # the unmet condition's note
    assert "004 §5.1.2(3)" in notice.html
    content = notice.file.read()
    assert hashlib.sha256(content).hexdigest() == notice.sha256 and notice.size == len(content)
    mail = OutgoingEmail.objects.get(kind="application_rejected")
    assert mail.to == "lisi@example.cn"
    assert notice.reference in mail.body and REASON in mail.body
    assert application.history.first().history_change_reason == "发送不予受理通知书"


@pytest.mark.pdf
def test_the_notice_is_a_chinese_pdf_with_the_reasons(
    under_review, market, english, django_capture_on_commit_callbacks
):
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    text = pdf_text(application.rejection_notice.file.read())
    assert "不予受理认证申请通知书" in text  # Chinese whatever the issuer's language
    assert application.organization.name in text
    assert "不足三个月" in text and application.reference in text


def test_sending_twice_keeps_the_one_notice(
    under_review, market, django_capture_on_commit_callbacks
):
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    again = services.application_rejection_notice_send(application=application, actor=market)
    assert again.pk == application.rejection_notice.pk
    assert RejectionNotice.objects.count() == 1
    assert OutgoingEmail.objects.filter(kind="application_rejected").count() == 1


def test_no_notice_for_an_application_not_rejected(under_review, market):
    with pytest.raises(RuleViolation, match=r"001 §6\.1\.5"):
        services.application_rejection_notice_send(application=under_review, actor=market)
    assert not RejectionNotice.objects.exists()


def test_the_notice_needs_the_market_department(
    under_review, market, planner, django_capture_on_commit_callbacks
):
    under_review.organization.contact_email = ""
    under_review.organization.save()
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    with pytest.raises(RuleViolation):
        services.application_rejection_notice_send(application=application, actor=planner)


def test_without_an_address_the_rejection_stands_and_the_job_reminds_until_sent_by_post(
    under_review, market, django_capture_on_commit_callbacks, _today
):
    under_review.organization.contact_email = ""
    under_review.organization.save()
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    assert application.state == Application.State.REJECTED
    assert application.rejection_notice_sent_on is None
    assert not RejectionNotice.objects.exists()

    # Two days before the deadline: not yet told.
    assert jobs.run("rejection_notices", today=date(2026, 12, 9)) == 0
    # The day before it: once.
    assert jobs.run("rejection_notices", today=date(2026, 12, 10)) == 1
    assert jobs.run("rejection_notices", today=date(2026, 12, 11)) == 0
    told = Notification.objects.filter(recipient=market, kind="rejection_notices")
    assert told.count() == 1 and application.reference in told.get().subject
    # Overdue: once more.
    assert jobs.run("rejection_notices", today=date(2026, 12, 12)) == 1
    assert jobs.run("rejection_notices", today=date(2026, 12, 13)) == 0

    with pytest.raises(RuleViolation, match=r"001 §6\.1\.5"):
        services.application_rejection_notice_send(application=application, actor=market)
    _today.move_to(at(date(2026, 12, 12)))
    services.application_rejection_notice_send(application=application, actor=market, by_post=True)
    application.refresh_from_db()
    assert application.rejection_notice_sent_on == date(2026, 12, 12)
    assert application.history.first().history_change_reason == "寄送不予受理通知书"
    assert not rejection_notices.due(date(2026, 12, 20)).exists()


def test_the_client_downloads_its_own_notice_only(
    client, under_review, market, django_capture_on_commit_callbacks
):
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    url = reverse("applications_portal:rejection_notice", args=[application.rejection_notice.pk])
    own = ClientUserFactory(organization=application.organization)
    client.force_login(own)
    page = client.get(reverse("applications_portal:detail", args=[application.pk]))
    assert url in page.content.decode()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    # Read through the stream (closing it by hand would fire request_finished, which closes the
    # test's database connection on PostgreSQL).
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(ClientUserFactory())
    assert client.get(url).status_code == 404


def test_the_market_sends_an_unsent_notice_from_the_application_page(
    client, under_review, market, django_capture_on_commit_callbacks
):
    under_review.organization.contact_email = ""
    under_review.organization.save()
    application = reject(under_review, market, django_capture_on_commit_callbacks)
    client.force_login(market)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    assert 'data-action="send-rejection-notice"' in page.content.decode()
    assert 'id="application-rejection-notice"' in page.content.decode()
    url = reverse(
        "workspace:action", args=["applications", application.pk, "send-rejection-notice"]
    )
    response = client.post(url, {"by_post": "on"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.rejection_notice_sent_on == date(2026, 12, 6)
    page = client.get(reverse("workspace:object", args=["applications", application.pk]))
    assert 'data-action="send-rejection-notice"' not in page.content.decode()
    assert application.rejection_notice.reference in page.content.decode()
