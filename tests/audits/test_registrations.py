"""Auditor registrations, training/CPD and witnessed audits; the team check on every audit day;
the registration expiry reminders (004 §4.2, §4.4, §3.5; 002 §4.3.6.2)."""

import importlib
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.apps import apps

from audits import services
from audits.models import Audit, Auditor, AuditorWitnessedAudit
from audits.selectors import registrations_to_complete
from certbody import jobs, roles
from certbody.lifecycle import RuleViolation
from certbody.models import JobMark, Notification
from tests.audits.factories import auditor_profile, auditor_user
from tests.certificates.factories import accepted_application
from tests.conftest import make_staff
from tests.reporting.conftest import at
from tests.shared import shared_fixture

pytestmark = pytest.mark.django_db

Q = Auditor.Qualification
T = Auditor.RegistrationType
FIRST_DAY = date(2025, 2, 3)
LAST_DAY = date(2025, 2, 5)


@shared_fixture
def audit(staff):
    """A document review of a client in scope 24, planned 3–5 February 2025, led by the leader."""
    programme = services.programme_create(
        application=accepted_application(staff=staff), actor=staff.planner
    )
    audit = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    services.audit_schedule(
        audit=audit, actor=staff.planner, planned_start=FIRST_DAY, planned_end=LAST_DAY
    )
    services.audit_team_add(audit=audit, actor=staff.planner, user=staff.leader, role="leader")
    return audit


def registration_failure(failures) -> str:
    """The one failure about a registration (004 §4.2); the leader being off the team also
    leaves the team without a competent or full-time auditor, named apart."""
    found = [f for f in failures if "004 §4.2" in f]
    assert len(found) == 1, failures
    return found[0]


def register_leader(staff, **registration):
    """Record the leader's registration (an auditor's, number 2019-FW-1) with ``registration``."""
    auditor = staff.leader.auditor_profile
    return services.auditor_registration_update(
        auditor=auditor,
        actor=staff.planner,
        registration_type=registration.pop("registration_type", T.AUDITOR),
        registration_number="2019-FW-1",
        **registration,
    )


# --- registration records -------------------------------------------------------------------


def test_registration_type_defaults_to_the_qualification_and_experts_have_none(staff):
    senior = auditor_profile(make_staff("r-senior", roles.AUDITOR), qualification=Q.SENIOR_AUDITOR)
    trainee = auditor_profile(make_staff("r-trainee", roles.AUDITOR), qualification=Q.TRAINEE)
    expert = auditor_profile(
        make_staff("r-expert", roles.AUDITOR), qualification=Q.TECHNICAL_EXPERT
    )
    assert (senior.registration_type, trainee.registration_type) == (T.SENIOR_AUDITOR, T.TRAINEE)
    assert expert.registration_type == ""


def test_registration_is_recorded_with_type_number_and_dates(staff):
    auditor = services.auditor_register(
        user=make_staff("r-full", roles.AUDITOR),
        actor=staff.planner,
        qualification=Q.AUDITOR,
        is_full_time=True,
        registration_number="2022-FW-42",
        registration_type=T.SENIOR_AUDITOR,
        registration_issued_on=date(2022, 5, 1),
        registration_valid_until=date(2025, 4, 30),
    )
    auditor.refresh_from_db()
    assert auditor.registration_type == T.SENIOR_AUDITOR
    assert (auditor.registration_issued_on, auditor.registration_valid_until) == (
        date(2022, 5, 1),
        date(2025, 4, 30),
    )
    assert not auditor.registration_incomplete


@pytest.mark.parametrize(
    ("qualification", "registration_type"),
    [(Q.AUDITOR, T.TRAINEE), (Q.SENIOR_AUDITOR, T.AUDITOR)],
)
def test_a_registration_that_does_not_support_the_qualification_is_refused(
    staff, qualification, registration_type
):
    with pytest.raises(RuleViolation, match="004 §4.2"):
        services.auditor_register(
            user=make_staff("r-mismatch", roles.AUDITOR),
            actor=staff.planner,
            qualification=qualification,
            is_full_time=True,
            registration_number="2022-FW-43",
            registration_type=registration_type,
        )


def test_a_registration_expiring_before_it_was_issued_is_refused(staff):
    with pytest.raises(RuleViolation):
        register_leader(
            staff,
            registration_issued_on=date(2024, 1, 1),
            registration_valid_until=date(2023, 12, 31),
        )
    register_leader(
        staff, registration_issued_on=date(2024, 1, 1), registration_valid_until=date(2024, 1, 1)
    )


def test_only_the_audit_department_updates_a_registration(staff):
    with pytest.raises(RuleViolation, match="无权"):
        services.auditor_registration_update(
            auditor=staff.leader.auditor_profile,
            actor=staff.leader,
            registration_type=T.AUDITOR,
            registration_number="2019-FW-1",
        )
    auditor = register_leader(staff, registration_valid_until=date(2027, 1, 1))
    assert auditor.history.first().history_user == staff.planner


def test_the_migration_fills_the_type_from_the_qualification(staff):
    auditor = staff.leader.auditor_profile
    expert = auditor_profile(
        make_staff("r-expert2", roles.AUDITOR), qualification=Q.TECHNICAL_EXPERT
    )
    Auditor.objects.filter(pk=auditor.pk).update(registration_type="")
    migration = importlib.import_module(
        "audits.migrations.0012_auditor_registration_type_from_qualification"
    )
    migration.fill(apps, None)
    auditor.refresh_from_db()
    expert.refresh_from_db()
    assert (auditor.registration_type, expert.registration_type) == (T.AUDITOR, "")


# --- training and witnessed audits ------------------------------------------------------------


def test_training_is_recorded_with_hours_as_decimal(staff):
    auditor = staff.leader.auditor_profile
    training = services.auditor_training_record(
        auditor=auditor,
        actor=staff.planner,
        attended_on=date(2025, 3, 1),
        title="GB/T 27922 换版培训",
        hours="7.5",
        provider="中国认证认可协会",
        evidence="培训证书 CCAA-2025-0301",
    )
    assert training.hours == Decimal("7.5")
    assert list(auditor.trainings.all()) == [training]
    assert training.history.first().history_user == staff.planner


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"evidence": " "}, "004 §4.4"),
        ({"provider": ""}, "004 §4.4"),
        ({"hours": 2.5}, None),
        ({"hours": "0"}, None),
        ({"attended_on": date.today() + timedelta(days=1)}, None),
    ],
)
def test_training_without_evidence_or_with_bad_hours_or_date_is_refused(staff, changes, message):
    values = {
        "attended_on": date(2025, 3, 1),
        "title": "继续教育",
        "hours": "8",
        "provider": "CCAA",
        "evidence": "证书",
        **changes,
    }
    with pytest.raises(RuleViolation, match=message):
        services.auditor_training_record(
            auditor=staff.leader.auditor_profile, actor=staff.planner, **values
        )
    assert not staff.leader.auditor_profile.trainings.exists()


def test_a_witnessed_audit_is_recorded_and_a_poor_outcome_needs_notes(staff, audit):
    auditor = staff.leader.auditor_profile
    with pytest.raises(RuleViolation, match="004 §3.5"):
        services.auditor_witnessed_audit_record(
            auditor=auditor,
            actor=staff.planner,
            witnessed_on=date(2025, 2, 4),
            witness="李评审",
            outcome=AuditorWitnessedAudit.Outcome.IMPROVEMENT,
            audit=audit,
        )
    with pytest.raises(RuleViolation, match="004 §3.5"):
        services.auditor_witnessed_audit_record(
            auditor=auditor,
            actor=staff.planner,
            witnessed_on=date(2025, 2, 4),
            witness="李评审",
            outcome="excellent",
        )
    witnessed = services.auditor_witnessed_audit_record(
        auditor=auditor,
        actor=staff.planner,
        witnessed_on=date(2025, 2, 4),
        witness="李评审",
        outcome=AuditorWitnessedAudit.Outcome.IMPROVEMENT,
        audit=audit,
        notes="末次会议对不符合项的说明不够清楚",
    )
    assert list(auditor.witnessed_audits.all()) == [witnessed]
    assert witnessed.audit == audit


# --- the team check on every audit day ----------------------------------------------------------


def test_registration_valid_on_the_last_audit_day_passes(staff, audit):
    register_leader(staff, registration_issued_on=FIRST_DAY, registration_valid_until=LAST_DAY)
    assert services.audit_team_check(audit) == []
    services.audit_start(audit=audit, actor=staff.planner, started_on=FIRST_DAY)


def test_registration_expiring_the_day_before_the_last_audit_day_is_refused(staff, audit):
    register_leader(staff, registration_valid_until=LAST_DAY - timedelta(days=1))
    failure = registration_failure(services.audit_team_check(audit))
    assert "2025-02-04" in failure and "2025-02-05" in failure and "004 §4.2" in failure
    with pytest.raises(RuleViolation, match="004 §4.2"):
        services.audit_start(audit=audit, actor=staff.planner, started_on=FIRST_DAY)
    assert Audit.objects.get(pk=audit.pk).state == Audit.State.PLANNED


def test_a_late_start_moves_the_last_day_with_it(staff, audit):
    register_leader(staff, registration_valid_until=LAST_DAY)
    later = FIRST_DAY + timedelta(days=1)  # the audit now ends on 6 February
    failure = registration_failure(services.audit_team_check(audit, on=later))
    assert "2025-02-06" in failure and "004 §4.2" in failure
    register_leader(staff, registration_valid_until=LAST_DAY + timedelta(days=1))
    assert services.audit_team_check(audit, on=later) == []


def test_registration_issued_after_the_first_audit_day_is_refused(staff, audit):
    register_leader(staff, registration_issued_on=FIRST_DAY + timedelta(days=1))
    failure = registration_failure(services.audit_team_check(audit))
    assert "2025-02-04" in failure and "004 §4.2" in failure
    register_leader(staff, registration_issued_on=FIRST_DAY)
    assert services.audit_team_check(audit) == []


def test_registration_expired_before_the_audit_is_refused(staff, audit):
    register_leader(staff, registration_valid_until=FIRST_DAY - timedelta(days=1))
    failure = registration_failure(services.audit_team_check(audit))
    assert "2025-02-02" in failure and "004 §4.2" in failure


def test_a_missing_registration_number_keeps_the_member_off(staff, audit):
    # Recorded before the number was required (the service refuses a blank one).
    Auditor.objects.filter(user=staff.leader).update(registration_number="")
    failure = registration_failure(services.audit_team_check(audit))
    assert "§5.4.6.1" in failure
    with pytest.raises(RuleViolation, match="004 §4.2"):
        services.audit_start(audit=audit, actor=staff.planner, started_on=FIRST_DAY)


def test_a_registration_without_dates_is_usable_and_listed_for_completion(staff, audit):
    expert = auditor_user("r-expert3", qualification=Q.TECHNICAL_EXPERT, codes=())
    leader = staff.leader.auditor_profile
    assert leader.registration_valid_until is None and leader.registration_issued_on is None
    assert services.audit_team_check(audit) == []
    listed = set(registrations_to_complete())
    assert leader in listed and expert.auditor_profile not in listed
    register_leader(
        staff, registration_issued_on=date(2019, 1, 1), registration_valid_until=date(2027, 1, 1)
    )
    assert leader not in set(registrations_to_complete())


# --- the expiry reminder job -----------------------------------------------------------------

EXPIRY = date(2027, 3, 1)


@pytest.fixture
def expiring(staff):
    """The leader's registration expiring on 1 March 2027."""
    return register_leader(
        staff, registration_issued_on=date(2024, 3, 2), registration_valid_until=EXPIRY
    )


def step(day) -> bool:
    return jobs.JOBS["registration_expiry"].step(today=day)


def told(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind="registration_expiry"))


def test_expiry_is_warned_60_and_30_days_before_once_each(staff, expiring, time_machine):
    for days, acts in ((61, False), (60, True), (31, False), (30, True), (29, False)):
        day = EXPIRY - timedelta(days=days)
        time_machine.move_to(at(day), tick=False)
        assert step(day) is acts, days
        assert jobs.run("registration_expiry", today=day) == 0, days  # twice changes nothing
    for user in (staff.leader, staff.planner):
        notes = told(user)
        assert len(notes) == 2
        assert all("2027-03-01" in n.subject and "004 §4.2" in n.body for n in notes)
    assert set(
        JobMark.objects.filter(job="registration_expiry").values_list("threshold", flat=True)
    ) == {
        "60d 2027-03-01",
        "30d 2027-03-01",
    }


def test_a_registration_first_seen_within_30_days_is_warned_once(staff, expiring):
    day = EXPIRY - timedelta(days=20)
    assert jobs.run("registration_expiry", today=day) == 1
    assert jobs.run("registration_expiry", today=day + timedelta(days=5)) == 0
    assert len(told(staff.leader)) == 1


def test_a_renewed_registration_is_warned_again_for_its_new_expiry(staff, expiring):
    assert jobs.run("registration_expiry", today=EXPIRY - timedelta(days=60)) == 1
    renewed = date(2030, 3, 1)
    register_leader(
        staff, registration_issued_on=date(2026, 11, 1), registration_valid_until=renewed
    )
    assert jobs.run("registration_expiry", today=EXPIRY - timedelta(days=30)) == 0
    assert jobs.run("registration_expiry", today=renewed - timedelta(days=60)) == 1
    assert len(told(staff.leader)) == 2


def test_expired_inactive_or_undated_registrations_are_not_warned(staff, expiring):
    assert jobs.run("registration_expiry", today=EXPIRY + timedelta(days=1)) == 0
    Auditor.objects.filter(pk=expiring.pk).update(active=False)
    assert jobs.run("registration_expiry", today=EXPIRY - timedelta(days=30)) == 0
    auditor_user("r-undated")  # no dates: listed for completion, never reminded
    assert jobs.run("registration_expiry", today=date(2025, 1, 1)) == 0
    assert not told(staff.leader)


# --- the auditors desk ------------------------------------------------------------------------


def test_the_desk_lists_registrations_to_complete_and_expiring(client, staff):
    dated = auditor_user("r-dated")
    services.auditor_registration_update(
        auditor=dated.auditor_profile,
        actor=staff.planner,
        registration_type=T.AUDITOR,
        registration_number="2020-FW-7",
        registration_issued_on=date(2020, 1, 1),
        registration_valid_until=date.today() + timedelta(days=45),
    )
    client.force_login(staff.planner)
    page = client.get("/staff/auditors/?registration=to_complete").content.decode()
    assert str(staff.leader) in page and "r-dated" not in page
    page = client.get("/staff/auditors/?registration=expiring").content.decode()
    assert "r-dated" in page and str(staff.leader) not in page


def test_registration_training_and_witnessed_audit_through_the_auditor_page(client, staff):
    auditor = staff.leader.auditor_profile
    url = f"/staff/auditors/{auditor.pk}"
    client.force_login(staff.planner)
    for action in ("update-registration", "record-training", "record-witnessed-audit"):
        assert client.get(f"{url}/{action}/").status_code == 200, action
    response = client.post(
        f"{url}/update-registration/",
        {
            "registration_type": T.SENIOR_AUDITOR,
            "registration_number": "2019-FW-88",
            "registration_issued_on": "2019-06-01",
            "registration_valid_until": "2028-05-31",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"{url}/record-training/",
        {
            "attended_on": "2025-03-01",
            "title": "售后服务认证继续教育",
            "hours": "16",
            "provider": "中国认证认可协会",
            "evidence": "培训证书",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"{url}/record-witnessed-audit/",
        {"witnessed_on": "2025-04-01", "witness": "王评审", "outcome": "satisfactory"},
    )
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert (auditor.registration_type, auditor.registration_number) == (
        T.SENIOR_AUDITOR,
        "2019-FW-88",
    )
    page = client.get(f"{url}/").content.decode()
    assert 'id="auditor-trainings"' in page and "售后服务认证继续教育" in page
    assert 'id="auditor-witnessed"' in page and "王评审" in page
    assert "2028-05-31" in page
    # An auditor sees the page but records none of these for themself.
    client.force_login(staff.leader)
    assert client.post(f"{url}/record-training/", {}).status_code == 403


# --- demo ---------------------------------------------------------------------------------------


def test_the_demo_auditor_registration_expires_within_60_days(staff):
    from types import SimpleNamespace

    from audits.selectors import registration_q
    from certbody import dates
    from demo.registrations import USERNAME, seed_registrations

    demo_staff = SimpleNamespace(planner=staff.planner, auditors=[staff.leader])
    seed_registrations(demo_staff, log=lambda message: None)
    seed_registrations(demo_staff, log=lambda message: None)  # idempotent
    auditor = Auditor.objects.get(user__username=USERNAME)
    today = dates.today()
    assert Auditor.objects.filter(registration_q("expiring", today), pk=auditor.pk).exists()
    assert not auditor.registration_incomplete
    assert auditor.trainings.count() == 2 and auditor.witnessed_audits.count() == 1
    assert jobs.run("registration_expiry", today=today) == 1
