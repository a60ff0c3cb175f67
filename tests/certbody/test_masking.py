"""Personal data (ID numbers, phones) is shown in full only to the roles that need it
(``certbody.view_personal_data``) and masked for everyone else (certbody.masking, the
``mask_id``/``mask_phone`` filters, the workspace's organisation pages and exports)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template

from certbody import masking, roles
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff

pytestmark = pytest.mark.usefixtures("cb")

PHONE = "13812345678"
MASKED_PHONE = "138****5678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110105199001011234", "110*************34"),
        ("11010519900101123X", "110*************3X"),
        ("123456", "123*56"),
        ("12345", "*****"),
        ("1", "*"),
        ("", ""),
        (None, ""),
    ],
)
def test_id_numbers_keep_only_their_first_three_and_last_two_characters(value, masked):
    assert masking.mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (PHONE, MASKED_PHONE),
        ("010-88886666", "010*****6666"),
        ("+8613812345678", "+86*******5678"),
        ("6666", "**66"),
        ("12", "**"),
        ("", ""),
        (None, ""),
    ],
)
def test_phones_hide_their_middle_digits(value, masked):
    assert masking.mask_phone(value) == masked


def test_masking_never_returns_the_value_it_hides():
    for value in ["110105199001011234", PHONE, "010-88886666", "12345"]:
        assert masking.mask_id_number(value) != value
        assert masking.mask_phone(value) != value


ROLES_WHO_SEE = {
    roles.MARKET: True,
    roles.AUDIT_DEPARTMENT: True,
    roles.REPORTING_OFFICER: True,
    roles.TECHNICAL_MANAGER: True,
    roles.AUDITOR: False,
    roles.DECISION_MAKER: False,
}


@pytest.mark.parametrize(("role", "sees"), ROLES_WHO_SEE.items())
def test_only_the_roles_that_need_it_see_personal_data(db, role, sees):
    assert masking.can_see_personal_data(make_staff(f"u-{role}", role)) is sees


def test_clients_the_public_and_nobody_see_personal_data(db):
    assert not masking.can_see_personal_data(ClientUserFactory())
    assert not masking.can_see_personal_data(AnonymousUser())
    assert not masking.can_see_personal_data(None)


def render(template: str, user, value) -> str:
    return Template("{% load workspace %}" + template).render(
        Context({"value": value, "user": user})
    )


def test_template_filters_mask_for_roles_without_the_permission(db):
    market = make_staff("market-mask", roles.MARKET)
    auditor = make_staff("auditor-mask", roles.AUDITOR)

    assert render("{{ value|mask_phone:user }}", market, PHONE) == PHONE
    assert render("{{ value|mask_phone:user }}", auditor, PHONE) == MASKED_PHONE
    assert render("{{ value|mask_id:user }}", market, "110105199001011234") == (
        "110105199001011234"
    )
    assert render("{{ value|mask_id:user }}", auditor, "110105199001011234") == (
        "110*************34"
    )
    assert render("{{ value|mask_phone:user }}", AnonymousUser(), PHONE) == MASKED_PHONE


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="南京苏宁电器有限公司", contact_phone=PHONE)


def test_an_auditor_sees_the_organisations_phone_masked_market_in_full(client, organization):
    url = f"/staff/organizations/{organization.pk}/"

    client.force_login(make_staff("auditor-org", roles.AUDITOR))
    masked = client.get(url)
    client.force_login(make_staff("market-org", roles.MARKET))
    full = client.get(url)

    assert masked.status_code == full.status_code == 200
    assert PHONE not in masked.content.decode()
    assert MASKED_PHONE in masked.content.decode()
    assert PHONE in full.content.decode()


def test_the_organisation_list_and_its_export_mask_the_phone_too(client, organization):
    client.force_login(make_staff("decider-org", roles.DECISION_MAKER))

    page = client.get("/staff/organizations/")
    export = client.get("/staff/organizations/?export=csv")

    assert page.status_code == export.status_code == 200
    assert PHONE not in page.content.decode()
    assert PHONE not in export.content.decode("utf-8-sig")
    assert MASKED_PHONE in export.content.decode("utf-8-sig")


def test_public_verification_never_shows_the_contact_phone(client, db):
    from tests.certificates.factories import issued_certificate

    certificate = issued_certificate(OrganizationFactory(contact_phone=PHONE))

    for url in [f"/verify/{certificate.token}/", f"/verify/?q={certificate.number}"]:
        body = client.get(url).content.decode()
        assert PHONE not in body and MASKED_PHONE not in body


# --- the object page's history card (certbody.workspace.history_for) -----------------------

NEW_PHONE = "13987654321"
MASKED_NEW_PHONE = "139****4321"


def test_every_declared_personal_field_exists():
    from django.apps import apps

    for name in masking.PERSONAL_FIELDS:
        app_label, model_name, field_name = name.split(".")
        apps.get_model(app_label, model_name)._meta.get_field(field_name)


def test_the_history_card_masks_a_changed_phone_for_roles_that_see_it_masked(client, organization):
    organization.contact_phone = NEW_PHONE
    organization.save()
    url = f"/staff/organizations/{organization.pk}/"

    client.force_login(make_staff("auditor-history", roles.AUDITOR))
    masked = client.get(url).content.decode()
    client.force_login(make_staff("market-history", roles.MARKET))
    full = client.get(url).content.decode()

    assert PHONE not in masked and NEW_PHONE not in masked
    assert f"{MASKED_PHONE} → {MASKED_NEW_PHONE}" in masked
    assert f"{PHONE} → {NEW_PHONE}" in full


def test_history_rows_mask_id_numbers_and_leave_other_changes_alone(db):
    from certbody import workspace
    from reporting import services as reporting_services
    from tests.audits.factories import auditor_user

    officer = make_staff("officer-history", roles.REPORTING_OFFICER)
    auditor = auditor_user("auditor-record").auditor_profile
    reporting_services.personnel_record_save(
        auditor=auditor, actor=officer, id_number="110105199001011234", title="工程师"
    )
    record = reporting_services.personnel_record_save(
        auditor=auditor, actor=officer, id_number="11010519900101123X", title="高级工程师"
    )
    rows = workspace.history_rows(record)

    decider_rows = workspace.history_for(rows, make_staff("decider-h", roles.DECISION_MAKER))
    officer_rows = workspace.history_for(rows, officer)

    changes = {label: (old, new) for label, old, new in decider_rows[0].changes}
    assert changes[str(record._meta.get_field("id_number").verbose_name)] == (
        "110*************34",
        "110*************3X",
    )
    assert changes[str(record._meta.get_field("title").verbose_name)] == ("工程师", "高级工程师")
    assert "11010519900101123X" in str(officer_rows[0].changes)
