"""History a person can read (issue 15): every row of an object page's history card shows field
labels and display values — choice labels instead of codes, names instead of user or record
ids, local dates and times in one format, Yes/No, "—" for empty — with the actor's name, the
reason, the kind of change in words and the local time; at a constant number of queries."""

import html
import re
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.utils.translation import gettext as _

from applications import services as app_services
from applications.models import Application
from certbody import roles, workspace
from certbody.lifecycle import system_user
from certificates import services as cert_services
from certificates.models import Certificate
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, accepted_application, issued_certificate
from tests.certificates.helpers import recertify, skip_pdf_rendering
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status

# 17:30 UTC on 2 June is 01:30 on 3 June in Beijing: a UTC time or date in the card shows.
AT = datetime(2025, 6, 2, 17, 30, tzinfo=UTC)
LOCAL_AT = "2025-06-03 01:30"
BEFORE = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)  # the records' earlier history


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


def history_card(body: str) -> str:
    match = re.search(r'<div class="card history" data-testid="history">(.*?)</div>', body, re.S)
    assert match, "the object page has no history card"
    return match.group(1)


def cells(card: str) -> list[list[str]]:
    """The card's rows as lists of cell texts (tags stripped, entities decoded)."""
    rows = re.findall(r"<tr>(.*?)</tr>", card, re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
        ]
        for row in rows
        if "<td>" in row
    ]


def changes(card: str) -> list[tuple[str, str, str]]:
    """Every ``label: old → new`` change shown in the card."""
    return [
        tuple(html.unescape(part) for part in change)
        for change in re.findall(r"<li>(.*?): (.*?) → (.*?)</li>", card, re.S)
    ]


def assert_no_ids_or_codes(card, *, ids, codes, links=None):
    """No id or code among the shown values; with ``links`` (labels of link fields), the ids
    are looked for in those fields' values only (a count or a version may well be "1")."""
    values = {value for _label, old, new in changes(card) for value in (old, new)}
    linked = {
        value
        for label, old, new in changes(card)
        if links is None or label in links
        for value in (old, new)
    }
    assert not linked & {str(pk) for pk in ids}, linked
    assert not values & set(codes), values
    for row in cells(card):
        assert not row[1].isdigit(), row  # the actor is a name, never a user id


@pytest.fixture
def staff(db):
    staff = Staff()
    staff.decider.display_name = "王决定"
    staff.decider.save()
    return staff


def test_a_suspension_shows_the_status_label_the_dates_the_name_the_reason_and_local_time(
    client, staff
):
    with time_machine.travel(BEFORE, tick=False):
        certificate = issued_certificate(staff=staff)
    with time_machine.travel(AT, tick=False):
        cert_services.certificate_suspend(
            certificate=certificate,
            actor=staff.decider,
            cause=1,
            verified_on=date(2025, 6, 2),
            starts_on=date(2025, 6, 2),
            ends_on=date(2025, 9, 1),
        )
    reason = certificate.history.order_by("-history_date").first().history_change_reason
    client.force_login(staff.decider)

    card = history_card(client.get(f"/staff/certificates/{certificate.pk}/").content.decode())

    suspension = cells(card)[0]
    assert suspension[0] == LOCAL_AT
    assert suspension[1] == "王决定"
    assert suspension[2] == str(workspace.HISTORY_KINDS["~"])
    assert reason and suspension[3] == reason
    shown = {label: (old, new) for label, old, new in changes(card)}
    status = str(Certificate._meta.get_field("status").verbose_name)
    assert shown[status] == (str(Status.VALID.label), str(Status.SUSPENDED.label))
    suspended_from = str(Certificate._meta.get_field("suspended_from").verbose_name)
    assert shown[suspended_from] == ("—", "2025-06-02")
    assert_no_ids_or_codes(
        card,
        ids=[certificate.pk, certificate.organization_id, staff.decider.pk],
        codes=[Status.VALID, Status.SUSPENDED],
    )


def test_a_changed_link_to_another_record_shows_that_record_not_its_id(client, staff):
    previous = issued_certificate(staff=staff)
    head = recertify(previous, staff)
    client.force_login(staff.decider)

    card = history_card(client.get(f"/staff/certificates/{previous.pk}/").content.decode())

    shown = {label: (old, new) for label, old, new in changes(card)}
    superseded_by = str(Certificate._meta.get_field("superseded_by").verbose_name)
    assert shown[superseded_by] == ("—", head.number)
    status = str(Certificate._meta.get_field("status").verbose_name)
    assert shown[status] == (str(Status.VALID.label), str(Status.SUPERSEDED.label))
    assert_no_ids_or_codes(
        card, ids=[head.pk, previous.pk, staff.decider.pk], codes=[Status.SUPERSEDED]
    )


def test_an_application_shows_state_labels_local_datetimes_and_the_actor(client, db):
    market = make_staff("market-hist", roles.MARKET)
    market.display_name = "李市场"
    market.save()
    with time_machine.travel(BEFORE, tick=False):
        application = app_services.application_create(
            organization=OrganizationFactory(),
            actor=market,
            scope_text="家用电器的销售及售后服务",
            headcount=60,
            business_scope_codes=[24],
        )
    with time_machine.travel(AT, tick=False):
        app_services.application_submit(application=application, actor=market)
    client.force_login(market)

    card = history_card(client.get(f"/staff/applications/{application.pk}/").content.decode())

    submitted, created = cells(card)[0], cells(card)[-1]
    assert submitted[:4] == [LOCAL_AT, "李市场", str(workspace.HISTORY_KINDS["~"]), "提交申请"]
    assert created[1:3] == ["李市场", str(workspace.HISTORY_KINDS["+"])]
    shown = {label: (old, new) for label, old, new in changes(card)}
    state = str(Application._meta.get_field("state").verbose_name)
    assert shown[state] == (
        str(Application.State.DRAFT.label),
        str(Application.State.SUBMITTED.label),
    )
    submitted_at = str(Application._meta.get_field("submitted_at").verbose_name)
    assert shown[submitted_at] == ("—", LOCAL_AT)
    assert_no_ids_or_codes(
        card,
        ids=[application.pk, application.organization_id, market.pk],
        codes=[Application.State.DRAFT, Application.State.SUBMITTED],
    )


def test_the_system_user_is_shown_as_system(db, staff):
    """Rows by the named system user (scheduled jobs) say "system", not its stored name."""
    certificate = issued_certificate(staff=staff)
    certificate.status_reason = "到期"
    certificate._change_reason = "定时任务"
    certificate._history_user = system_user()
    certificate.save()

    row = workspace.history_rows(certificate)[0]

    assert (row.who, row.reason) == (str(workspace.SYSTEM_ACTOR), "定时任务")


def test_a_changed_person_shows_their_name(db):
    """A link to a user shows the person's name: the reviewer of an application review."""
    first = make_staff("market-a", roles.MARKET)
    second = make_staff("market-b", roles.MARKET)
    first.display_name, second.display_name = "张一", "赵二"
    first.save()
    second.save()
    application = app_services.application_create(
        organization=OrganizationFactory(),
        actor=first,
        scope_text="家用电器的销售及售后服务",
        headcount=60,
        business_scope_codes=[24],
    )
    app_services.application_submit(application=application, actor=first)
    app_services.application_start_review(application=application, actor=first)
    checks = dict.fromkeys(app_services.ApplicationReview.CHECKS, True)
    check = app_services.ApplicationReview.CHECKS[0]
    for actor, holds in ((first, True), (second, False)):
        app_services.application_review_record(
            application=application, actor=actor, checks={**checks, check: holds}, notes="可受理"
        )

    rows = workspace.history_rows(application.review)

    reviewer = str(application.review._meta.get_field("reviewer").verbose_name)
    assert (reviewer, "张一", "赵二") in rows[0].changes
    assert rows[0].who == "赵二"
    label = str(application.review._meta.get_field(check).verbose_name)
    assert (label, str(_("Yes")), str(_("No"))) in rows[0].changes


def test_the_history_costs_a_constant_number_of_queries(db, staff, django_assert_max_num_queries):
    certificate = issued_certificate(staff=staff)
    others = [issued_certificate(staff=staff) for _ in range(2)]
    with django_assert_max_num_queries(3):  # records, linked certificates, (nothing per row)
        few = len(workspace.history_rows(certificate))
    for n in range(6):
        certificate.superseded_by = others[n % 2]
        certificate.status_reason = f"change {n}"
        certificate._history_user = staff.decider
        certificate.save()
    with django_assert_max_num_queries(3):
        rows = workspace.history_rows(certificate)
    assert len(rows) == few + 6


def test_the_audit_page_says_who_joined_and_left_the_team_by_name_and_role(client, staff):
    """In the audit page's merged history a related record's creation and deletion show its
    values (a member's name and role label), not a bare "created" or an id."""
    from audits import services as audit_services
    from audits.models import Audit, AuditTeamMember

    staff.leader.display_name = "孙组长"
    staff.leader.save()
    programme = audit_services.programme_create(
        application=accepted_application(None, staff), actor=staff.planner
    )
    audit = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
    audit_services.audit_team_add(
        audit=audit, actor=staff.planner, user=staff.leader, role="leader"
    )
    audit_services.audit_team_remove(
        audit=audit, actor=staff.planner, user=staff.leader, reason="调整人员"
    )
    client.force_login(staff.planner)

    card = history_card(client.get(f"/staff/audits/{audit.pk}/").content.decode())

    member = str(AuditTeamMember._meta.get_field("user").verbose_name)
    role = str(AuditTeamMember._meta.get_field("role").verbose_name)
    leader = str(AuditTeamMember.Role.LEADER.label)
    shown = changes(card)
    assert (member, "—", "孙组长") in shown and (role, "—", leader) in shown
    assert (member, "孙组长", "—") in shown and (role, leader, "—") in shown
    team = [row for row in cells(card) if row[2].startswith(str(_("audit team")))]
    assert [row[3] for row in team] == ["调整人员", "指派审核组成员"]
    assert_no_ids_or_codes(
        card,
        ids=[staff.leader.pk, audit.pk],
        codes=[AuditTeamMember.Role.LEADER],
        links={member, str(AuditTeamMember._meta.get_field("audit").verbose_name)},
    )


def test_the_object_page_does_not_query_per_history_row(client, staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    certificate = issued_certificate(staff=staff)
    others = [issued_certificate(staff=staff) for _n in range(2)]
    client.force_login(staff.decider)
    url = f"/staff/certificates/{certificate.pk}/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    # Linked once before counting: the page's cross-links follow the relation once it is set,
    # which is one query for the page, not one per history row.
    certificate.superseded_by = others[1]
    certificate._history_user = staff.decider
    certificate.save()
    before = queries()
    for n in range(6):
        certificate.superseded_by = others[n % 2]
        certificate.status_reason = f"change {n}"
        certificate._history_user = staff.decider
        certificate.save()

    assert queries() <= before + 1  # + the linked certificates, once for all rows
    card = history_card(client.get(url).content.decode())
    assert len(cells(card)) >= 7
