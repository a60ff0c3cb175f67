"""Reports owed to CNAS (002 §4.3.7, §4.3.8.1): a major change of the CB within 10 days of the
decision, next year's annual accreditation plan before August; stored due dates, the yearly
step that opens the plan obligation, the reminders (7 days, 1 day, overdue) and the desk."""

import re
from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from certbody import roles
from certbody.lifecycle import RuleViolation
from certbody.models import JobMark, Notification
from certbody.policy import NotPermitted
from reporting import jobs, periods, services
from reporting.models import AccreditationObligation
from tests.conftest import make_staff
from tests.reporting.conftest import at

TODAY = date(2026, 12, 6)
Kind = AccreditationObligation.Kind


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(at(TODAY), tick=False)


@pytest.fixture
def officer(cb):
    user = make_staff("cnas-officer", roles.REPORTING_OFFICER)
    user.email = "officer@cb.example.cn"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def manager(cb):
    return make_staff("cnas-techmgr", roles.TECHNICAL_MANAGER)


@pytest.fixture
def market(cb):
    return make_staff("cnas-market", roles.MARKET)


def change(actor, occurred_on=date(2026, 12, 1), subject="认证机构法定代表人变更"):
    return services.accreditation_change_record(
        actor=actor, subject=subject, occurred_on=occurred_on
    )


def told(user, job):
    return Notification.objects.filter(recipient=user, kind=job)


# --- the deadlines (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decided", "due"),
    [
        (date(2026, 12, 1), date(2026, 12, 11)),
        (date(2026, 12, 25), date(2027, 1, 4)),  # calendar days, across the year's end
        (date(2026, 9, 30), date(2026, 10, 10)),  # holidays count: 日, not 工作日
    ],
)
def test_a_change_is_due_ten_calendar_days_after_the_decision(decided, due):
    assert periods.cnas_change_due(decided) == due


def test_the_plan_for_a_year_is_due_on_31_july_of_the_year_before():
    assert periods.annual_plan_due(2027) == date(2026, 7, 31)
    assert periods.annual_plan_year(date(2026, 1, 1)) == 2027
    assert periods.annual_plan_year(date(2026, 12, 31)) == 2027


@pytest.mark.parametrize("year", [1999, 3000, "2027", True, None])
def test_a_plan_year_that_is_not_a_year_is_a_value_error(year):
    with pytest.raises(ValueError):
        periods.annual_plan_due(year)


# --- recording a major change (002 §4.3.8.1) --------------------------------------------------


def test_reporting_officer_records_a_change_due_ten_days_after_the_decision(officer):
    obligation = change(officer)

    assert (obligation.kind, obligation.rule) == (Kind.CB_CHANGE, "002 §4.3.8.1")
    assert (obligation.occurred_on, obligation.due_on) == (date(2026, 12, 1), date(2026, 12, 11))
    assert obligation.recorded_by == officer and obligation.submitted_on is None
    assert obligation.history.get().history_user == officer


def test_technical_manager_may_record_a_change_and_the_market_may_not(manager, market):
    assert change(manager).recorded_by == manager
    with pytest.raises(NotPermitted):
        change(market)
    assert AccreditationObligation.objects.count() == 1


def test_a_change_without_a_description_is_refused_with_the_clause(officer):
    with pytest.raises(RuleViolation) as refused:
        change(officer, subject="  ")

    assert "002 §4.3.8.1" in str(refused.value)
    assert not AccreditationObligation.objects.exists()


def test_a_change_decided_tomorrow_is_refused_and_today_allowed(officer):
    with pytest.raises(RuleViolation):
        change(officer, occurred_on=TODAY + timedelta(days=1))

    assert change(officer, occurred_on=TODAY).due_on == TODAY + timedelta(days=10)


def test_a_change_recorded_after_its_deadline_is_kept_overdue(officer):
    obligation = change(officer, occurred_on=date(2026, 11, 1))

    assert obligation.due_on == date(2026, 11, 11)
    assert obligation.is_overdue()


# --- submitting ------------------------------------------------------------------------------


def test_submitting_on_the_due_day_records_date_reference_and_person(officer, manager):
    obligation = change(officer, occurred_on=date(2026, 11, 26))  # due 2026-12-06, today

    services.accreditation_obligation_submit(
        obligation=obligation, actor=manager, submitted_on=TODAY, reference="中信认〔2026〕18 号"
    )

    obligation.refresh_from_db()
    assert (obligation.submitted_on, obligation.submitted_by) == (TODAY, manager)
    assert obligation.reference == "中信认〔2026〕18 号"
    assert not obligation.is_overdue()


def test_submitting_twice_or_without_a_reference_is_refused(officer):
    obligation = change(officer)
    with pytest.raises(RuleViolation):
        services.accreditation_obligation_submit(
            obligation=obligation, actor=officer, submitted_on=TODAY, reference=" "
        )
    services.accreditation_obligation_submit(
        obligation=obligation, actor=officer, submitted_on=TODAY, reference="CNAS-2026-88"
    )

    with pytest.raises(RuleViolation, match="2026-12-06"):
        services.accreditation_obligation_submit(
            obligation=obligation, actor=officer, submitted_on=TODAY, reference="CNAS-2026-89"
        )
    obligation.refresh_from_db()
    assert obligation.reference == "CNAS-2026-88"


def test_a_change_cannot_be_reported_before_it_was_decided(officer):
    obligation = change(officer, occurred_on=date(2026, 12, 1))

    with pytest.raises(RuleViolation) as refused:
        services.accreditation_obligation_submit(
            obligation=obligation,
            actor=officer,
            submitted_on=date(2026, 11, 30),
            reference="CNAS-2026-88",
        )
    assert "002 §4.3.8.1" in str(refused.value)

    services.accreditation_obligation_submit(
        obligation=obligation,
        actor=officer,
        submitted_on=date(2026, 12, 1),
        reference="CNAS-2026-88",
    )


def test_the_market_may_not_submit(officer, market):
    obligation = change(officer)

    with pytest.raises(NotPermitted):
        services.accreditation_obligation_submit(
            obligation=obligation, actor=market, submitted_on=TODAY, reference="CNAS-2026-88"
        )


# --- the annual accreditation plan (002 §4.3.7.2) ----------------------------------------------


def test_the_plan_obligation_is_opened_once_per_year(officer, manager):
    first = services.accreditation_plan_open(actor=officer)
    again = services.accreditation_plan_open(actor=manager, year=2027)

    assert again.pk == first.pk
    assert (first.kind, first.year, first.due_on) == (Kind.ANNUAL_PLAN, 2027, date(2026, 7, 31))
    assert first.rule == "002 §4.3.7.2" and first.is_overdue()
    assert AccreditationObligation.objects.count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        AccreditationObligation.objects.create(
            kind=Kind.ANNUAL_PLAN,
            year=2027,
            subject="x",
            rule="x",
            due_on=TODAY,
            recorded_by=officer,
        )


def test_a_plan_beyond_next_year_is_refused_with_the_clause(officer):
    with pytest.raises(RuleViolation) as refused:
        services.accreditation_plan_open(actor=officer, year=2028)

    assert "002 §4.3.7.2" in str(refused.value)
    assert services.accreditation_plan_open(actor=officer, year=2026).due_on == date(2025, 7, 31)


def test_the_yearly_step_opens_next_years_plan_once_and_tells_the_reporting_officer(officer):
    new_year = date(2027, 1, 1)

    assert jobs.accreditation_plan_step(today=new_year) is True
    assert jobs.accreditation_plan_step(today=new_year) is False
    assert jobs.accreditation_plan_step(today=new_year + timedelta(days=1)) is False

    plan = AccreditationObligation.objects.get()
    assert (plan.year, plan.due_on) == (2028, date(2027, 7, 31))
    assert plan.recorded_by.username == "system"
    assert told(officer, "accreditation_plan").count() == 1
    assert JobMark.objects.filter(job="accreditation_plan", object_id=2028).count() == 1


def test_the_yearly_step_leaves_a_plan_opened_by_hand_alone(officer):
    services.accreditation_plan_open(actor=officer, year=2027)

    assert jobs.accreditation_plan_step(today=TODAY) is False
    assert AccreditationObligation.objects.count() == 1


# --- reminders: 7 days, 1 day, overdue ------------------------------------------------------


def test_reminders_7_days_and_1_day_before_and_once_overdue(officer, manager):
    obligation = change(officer, occurred_on=date(2026, 12, 6))  # due 2026-12-16
    due = obligation.due_on
    step = jobs.ACCREDITATION_DEADLINES.step

    assert step(today=due - timedelta(days=8)) is False
    assert step(today=due - timedelta(days=7)) is True
    assert step(today=due - timedelta(days=6)) is False  # told once per threshold
    assert step(today=due - timedelta(days=1)) is True
    assert step(today=due) is False
    assert step(today=due + timedelta(days=1)) is True
    assert step(today=due + timedelta(days=2)) is False

    marks = JobMark.objects.filter(job="accreditation_obligations", object_id=obligation.pk)
    assert set(marks.values_list("threshold", flat=True)) == {"7d", "1d", "overdue"}
    for person in (officer, manager):
        assert told(person, "accreditation_obligations").count() == 3
    subjects = [n.subject for n in told(officer, "accreditation_obligations").order_by("pk")]
    assert ["逾期" in subject for subject in subjects] == [False, False, True]
    assert all("认证机构法定代表人变更" in subject for subject in subjects)


def test_a_submitted_obligation_is_not_reminded(officer):
    obligation = change(officer, occurred_on=date(2026, 12, 6))
    services.accreditation_obligation_submit(
        obligation=obligation, actor=officer, submitted_on=TODAY, reference="CNAS-2026-88"
    )

    assert jobs.ACCREDITATION_DEADLINES.step(today=obligation.due_on + timedelta(days=1)) is False


# --- the desk -------------------------------------------------------------------------------


def test_the_desk_records_a_change_and_marks_it_submitted(client, officer):
    client.force_login(officer)
    response = client.post(
        reverse("workspace:create", args=["cnas-obligations"]),
        {"kind": "cb_change", "subject": "公司注册地址迁至朝阳区", "occurred_on": "2026-12-02"},
    )
    assert response.status_code == 302
    obligation = AccreditationObligation.objects.get()
    assert obligation.due_on == date(2026, 12, 12)

    page = client.get(reverse("workspace:object", args=["cnas-obligations", obligation.pk]))
    assert "submit" in set(re.findall(r'data-action="([^"]+)"', page.content.decode()))
    response = client.post(
        reverse("workspace:action", args=["cnas-obligations", obligation.pk, "submit"]),
        {"submitted_on": "2026-12-06", "reference": "中信认〔2026〕20 号"},
    )
    assert response.status_code == 302
    obligation.refresh_from_db()
    assert obligation.submitted_on == TODAY

    listing = client.get(reverse("workspace:list", args=["cnas-obligations"]))
    assert "公司注册地址迁至朝阳区" in listing.content.decode()


def test_the_desk_opens_the_plan_and_refuses_the_market(client, officer, market):
    client.force_login(officer)
    response = client.post(
        reverse("workspace:create", args=["cnas-obligations"]), {"kind": "annual_plan"}
    )
    assert response.status_code == 302
    assert AccreditationObligation.objects.get().year == 2027

    client.force_login(market)
    assert client.get(reverse("workspace:create", args=["cnas-obligations"])).status_code == 403
