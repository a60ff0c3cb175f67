"""Organisations, their sites and contact persons (applications.organizations): the services,
the USCC (normalised, checked, unique), the history with the reason, the permissions, and the
workspace pages (the "new organisation" page, the organisation's sections, the site and
contact actions)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import ContactPerson, Organization, Site
from applications.validators import build_uscc
from certbody.lifecycle import RuleViolation
from certbody.policy import NotPermitted
from tests.applications.factories import OrganizationFactory, SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb")]

TODAY = date(2026, 12, 6)
USCC = build_uscc("320102", 777_001)


def spaced(code: str) -> str:
    """The code as people type it: lower case, with spaces and a hyphen."""
    return f" {code[:2]} {code[2:8]}-{code[8:].lower()} "


def new_organization(actor, **extra) -> Organization:
    values = {
        "name": "南京玄武家电服务有限公司",
        "uscc": USCC,
        "registered_address": "江苏省南京市玄武区中山路 1 号",
        "division_code": "320102",
        "legal_representative": "周八",
        "headcount": 120,
        "contact_name": "吴九",
        "contact_phone": "13912345678",
        "contact_email": "wujiu@xuanwu.example.cn",
        "contact_position": "质量部经理",
        "business_scope_codes": [24],
        **extra,
    }
    return services.organization_create(actor=actor, **values)


@pytest.fixture
def organization(market):
    return new_organization(market)


# --- organisations ----------------------------------------------------------------------------


def test_create_stores_the_compact_code_and_the_primary_contact(market):
    organization = new_organization(market, uscc=spaced(USCC))

    assert organization.uscc == USCC
    assert list(organization.business_scopes.values_list("code", flat=True)) == [24]
    (contact,) = organization.contacts.all()
    assert (contact.name, contact.position, contact.phone, contact.is_primary) == (
        "吴九",
        "质量部经理",
        "13912345678",
        True,
    )
    record = organization.history.first()
    assert record.history_user == market and record.history_change_reason == "登记组织"


def test_the_technical_manager_may_record_an_organisation(technical_manager):
    assert new_organization(technical_manager).pk


@pytest.mark.parametrize("role", ["planner", "decider", "leader"])
def test_other_roles_may_not_record_an_organisation(request, role):
    with pytest.raises(NotPermitted):
        new_organization(request.getfixturevalue(role))
    assert not Organization.objects.exists()


def test_an_invalid_code_is_refused_with_the_clause(market):
    wrong_check = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    with pytest.raises(RuleViolation) as refused:
        new_organization(market, uscc=wrong_check)

    assert refused.value.rule == "004 §5.1.3(2)" and "004 §5.1.3(2)" in str(refused.value)
    assert not Organization.objects.exists()


def test_a_duplicate_code_names_the_existing_organisation(market, organization):
    with pytest.raises(services.DuplicateOrganization) as refused:
        new_organization(market, name="另一家公司", uscc=spaced(USCC))

    assert refused.value.existing == organization
    assert organization.name in str(refused.value) and "004 §5.1.3(2)" in str(refused.value)
    assert Organization.objects.count() == 1


def test_an_update_is_recorded_with_its_reason(market, organization):
    services.organization_update(
        organization=organization,
        actor=market,
        reason="营业执照变更：名称变更",
        name="南京玄武家电售后服务有限公司",
        former_name="南京玄武家电服务有限公司",
        headcount=130,
    )

    organization.refresh_from_db()
    assert organization.name == "南京玄武家电售后服务有限公司" and organization.headcount == 130
    record = organization.history.first()
    assert record.history_change_reason == "营业执照变更：名称变更"
    assert record.history_user == market


def test_an_update_without_a_reason_is_refused(market, organization):
    with pytest.raises(RuleViolation):
        services.organization_update(organization=organization, actor=market, reason=" ", name="x")
    organization.refresh_from_db()
    assert organization.name == "南京玄武家电服务有限公司"


def test_an_update_to_another_organisations_code_is_refused(market, organization):
    other = OrganizationFactory()
    with pytest.raises(services.DuplicateOrganization) as refused:
        services.organization_update(
            organization=other, actor=market, reason="更正信用代码", uscc=USCC.lower()
        )
    assert refused.value.existing == organization


def test_the_contact_fields_change_through_the_contacts_only(market, organization):
    with pytest.raises(RuleViolation):
        services.organization_update(
            organization=organization, actor=market, reason="x", contact_name="别人"
        )


def test_an_update_by_the_audit_department_is_refused(planner, organization):
    with pytest.raises(NotPermitted):
        services.organization_update(
            organization=organization, actor=planner, reason="x", name="别名"
        )


# --- sites ------------------------------------------------------------------------------------


def add_site(organization, actor, **extra) -> Site:
    values = {"name": "鼓楼服务网点", "address": "南京市鼓楼区中央路 8 号", "headcount": 12}
    return services.site_add(organization=organization, actor=actor, **(values | extra))


def test_sites_are_added_with_the_history(market, organization):
    head = add_site(organization, market, name="总部", is_head_office=True, headcount=40)
    outlet = add_site(organization, market, division_code="320106")

    assert list(organization.sites.all()) == [head, outlet]
    assert outlet.history.first().history_change_reason == "新增场所"


def test_a_second_open_head_office_is_refused(market, organization):
    add_site(organization, market, name="总部", is_head_office=True)
    with pytest.raises(RuleViolation):
        add_site(organization, market, name="第二总部", is_head_office=True)
    assert organization.sites.count() == 1


def test_a_site_update_is_recorded_with_its_reason(market, organization):
    site = add_site(organization, market)
    services.site_update(
        site=site, actor=market, reason="网点搬迁", address="南京市鼓楼区中央路 18 号"
    )

    site.refresh_from_db()
    assert site.address == "南京市鼓楼区中央路 18 号"
    assert site.history.first().history_change_reason == "网点搬迁"


@time_machine.travel(TODAY, tick=False)
def test_a_site_closes_today_at_the_latest(market, organization):
    site = add_site(organization, market)
    with pytest.raises(RuleViolation):
        services.site_close(
            site=site, actor=market, closed_on=TODAY + timedelta(days=1), reason="网点停业"
        )

    services.site_close(site=site, actor=market, closed_on=TODAY, reason="网点停业")

    site.refresh_from_db()
    assert site.closed_on == TODAY
    assert site.history.first().history_change_reason == "网点停业"
    assert Site.objects.filter(pk=site.pk).exists()  # closed, not deleted


@time_machine.travel(TODAY, tick=False)
def test_a_closed_site_is_neither_closed_again_nor_edited(market, organization):
    site = add_site(organization, market)
    services.site_close(site=site, actor=market, closed_on=TODAY, reason="网点停业")
    with pytest.raises(RuleViolation):
        services.site_close(site=site, actor=market, closed_on=TODAY, reason="again")
    with pytest.raises(RuleViolation):
        services.site_update(site=site, actor=market, reason="x", name="新名")


def test_a_head_office_is_not_closed(market, organization):
    head = add_site(organization, market, name="总部", is_head_office=True)
    with pytest.raises(RuleViolation):
        services.site_close(site=head, actor=market, closed_on=timezone.localdate(), reason="搬迁")


def test_site_changes_need_the_organisation_permission(planner, market, organization):
    site = add_site(organization, market)
    with pytest.raises(NotPermitted):
        add_site(organization, planner)
    with pytest.raises(NotPermitted):
        services.site_close(site=site, actor=planner, closed_on=timezone.localdate(), reason="x")


def test_a_site_still_cannot_be_deleted_once_it_is_a_head_office(market, organization):
    from django.db.models import ProtectedError

    head = add_site(organization, market, name="总部", is_head_office=True)
    with pytest.raises(ProtectedError):
        head.delete()


# --- contact persons --------------------------------------------------------------------------


def test_a_new_primary_contact_demotes_the_old_and_is_mirrored(market, organization):
    first = organization.contacts.get()
    second = services.contact_add(
        organization=organization,
        actor=market,
        name="郑十",
        phone="13800001111",
        position="客服主管",
        email="zheng@xuanwu.example.cn",
        is_primary=True,
    )

    first.refresh_from_db()
    organization.refresh_from_db()
    assert second.is_primary and not first.is_primary
    assert (organization.contact_name, organization.contact_phone) == ("郑十", "13800001111")
    assert organization.contact_email == "zheng@xuanwu.example.cn"


def test_an_edit_of_the_primary_contact_is_mirrored_with_its_reason(market, organization):
    primary = organization.contacts.get()
    services.contact_update(contact=primary, actor=market, reason="换号", phone="13700002222")

    organization.refresh_from_db()
    assert organization.contact_phone == "13700002222"
    assert organization.history.first().history_change_reason == "换号"


def test_the_primary_contact_is_neither_demoted_nor_removed(market, organization):
    primary = organization.contacts.get()
    with pytest.raises(RuleViolation):
        services.contact_update(contact=primary, actor=market, is_primary=False)
    with pytest.raises(RuleViolation):
        services.contact_remove(contact=primary, actor=market)
    assert ContactPerson.objects.filter(pk=primary.pk, is_primary=True).exists()


def test_another_contact_is_removed_and_the_history_keeps_them(market, organization):
    other = services.contact_add(organization=organization, actor=market, name="王", phone="1")
    assert not other.is_primary

    services.contact_remove(contact=other, actor=market, reason="已离职")

    assert not ContactPerson.objects.filter(pk=other.pk).exists()
    gone = ContactPerson.history.filter(id=other.pk).first()
    assert gone.history_type == "-" and gone.history_change_reason == "已离职"


def test_contact_changes_need_the_organisation_permission(decider, organization):
    with pytest.raises(NotPermitted):
        services.contact_add(organization=organization, actor=decider, name="王", phone="1")


# --- workspace pages --------------------------------------------------------------------------

NEW = "/staff/organizations/new/"


def form_data(**extra) -> dict:
    return {
        "name": "南京秦淮电器服务有限公司",
        "uscc": spaced(USCC),
        "registered_address": "南京市秦淮区中华路 2 号",
        "division_code": "320104",
        "legal_representative": "冯一",
        "headcount": "35",
        "business_scope_codes": ["24"],
        "contact_name": "陈二",
        "contact_position": "售后服务部经理",
        "contact_phone": "13600003333",
        "contact_email": "",
        **extra,
    }


def test_the_market_records_an_organisation_on_the_new_page(client, market):
    client.force_login(market)
    assert reverse("workspace:create", args=["organizations"]) == NEW
    assert client.get(NEW).status_code == 200

    response = client.post(NEW, form_data())

    organization = Organization.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/organizations/{organization.pk}/"
    assert organization.uscc == USCC and organization.contacts.get().name == "陈二"


def test_a_duplicate_code_on_the_new_page_links_the_existing_record(client, market, organization):
    client.force_login(market)
    response = client.post(NEW, form_data())

    assert response.status_code == 422
    link = f'href="/staff/organizations/{organization.pk}/" data-testid="existing-organization"'
    assert link in response.content.decode()
    assert Organization.objects.count() == 1


def test_the_new_page_is_refused_to_the_audit_department(client, planner):
    client.force_login(planner)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403
    assert not Organization.objects.exists()


def test_the_organisation_page_lists_sites_and_contacts_with_links(client, market, organization):
    site = SiteFactory(organization=organization, name="建邺服务网点")
    contact = organization.contacts.get()
    client.force_login(market)

    page = client.get(f"/staff/organizations/{organization.pk}/").content.decode()

    assert f'href="/staff/sites/{site.pk}/"' in page
    assert f'href="/staff/contacts/{contact.pk}/"' in page and "质量部经理" in page


def test_edit_action_records_the_reason(client, market, organization):
    client.force_login(market)
    url = f"/staff/organizations/{organization.pk}/edit/"
    page = client.get(url).content.decode()
    assert organization.uscc in page  # prefilled

    data = {
        "name": organization.name,
        "uscc": organization.uscc,
        "registered_address": "江苏省南京市玄武区中山路 9 号",
        "division_code": organization.division_code,
        "legal_representative": organization.legal_representative,
        "headcount": "120",
        "business_scope_codes": ["24"],
        "reason": "注册地址变更",
    }
    assert client.post(url, data).status_code == 302

    organization.refresh_from_db()
    assert organization.registered_address == "江苏省南京市玄武区中山路 9 号"
    assert organization.history.first().history_change_reason == "注册地址变更"


@time_machine.travel(TODAY, tick=False)
def test_site_close_action_on_the_site_page(client, market, organization):
    site = SiteFactory(organization=organization)
    client.force_login(market)
    response = client.post(
        f"/staff/sites/{site.pk}/close-site/", {"closed_on": "2026-12-06", "reason": "停业"}
    )

    assert response.status_code == 302
    site.refresh_from_db()
    assert site.closed_on == TODAY
    # a closed site offers neither edit nor close any more
    assert client.get(f"/staff/sites/{site.pk}/close-site/").status_code == 409


def test_removing_a_contact_returns_to_the_organisation(client, market, organization):
    other = services.contact_add(organization=organization, actor=market, name="王", phone="1")
    client.force_login(market)
    response = client.post(f"/staff/contacts/{other.pk}/remove-contact/", {"reason": "离职"})

    assert response.status_code == 302
    assert response["Location"] == f"/staff/organizations/{organization.pk}/"
    assert not ContactPerson.objects.filter(pk=other.pk).exists()


@time_machine.travel(TODAY, tick=False)
def test_the_organisation_page_history_shows_site_and_contact_changes(client, market, organization):
    site = add_site(organization, market)
    services.site_close(site=site, actor=market, closed_on=TODAY, reason="网点停业整顿")
    other = services.contact_add(organization=organization, actor=market, name="王", phone="1")
    services.contact_remove(contact=other, actor=market, reason="已调岗")
    client.force_login(market)

    response = client.get(f"/staff/organizations/{organization.pk}/")

    reasons = {row.reason for row in response.context["history"]}
    assert {"登记组织", "新增场所", "网点停业整顿", "新增联系人", "已调岗"} <= reasons


def test_contact_phones_are_masked_for_roles_without_personal_data(client, leader, market):
    organization = new_organization(market)
    contact = organization.contacts.get()
    services.contact_update(contact=contact, actor=market, reason="换号", phone="13700002222")
    client.force_login(leader)

    pages = [
        client.get(f"/staff/organizations/{organization.pk}/").content.decode(),
        client.get(f"/staff/contacts/{contact.pk}/").content.decode(),
    ]

    for page in pages:
        assert "13700002222" not in page and "13912345678" not in page
        assert "137****2222" in page


def test_a_scope_only_change_is_recorded_and_an_unchanged_edit_is_not(market, organization):
    before = organization.history.count()
    services.organization_update(
        organization=organization, actor=market, reason="无变化", business_scope_codes=[24]
    )
    assert organization.history.count() == before

    services.organization_update(
        organization=organization,
        actor=market,
        reason="增加业务范围",
        business_scope_codes=[24, 25],
    )

    assert sorted(organization.business_scopes.values_list("code", flat=True)) == [24, 25]
    assert organization.history.first().history_change_reason == "增加业务范围"


def test_the_data_migration_makes_each_organisations_contact_its_primary_contact(market):
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "applications.migrations.0009_contact_person_from_organization"
    )
    bare = OrganizationFactory(contact_name="老周", contact_phone="0512-6666", contact_email="")
    recorded = new_organization(market)  # has its contacts already

    migration.forwards(apps, None)
    migration.forwards(apps, None)  # twice: nothing more

    (contact,) = bare.contacts.all()
    assert (contact.name, contact.phone, contact.is_primary) == ("老周", "0512-6666", True)
    assert recorded.contacts.count() == 1


def test_demo_organisations_get_their_primary_contact_once(market):
    from demo.contacts import create_primary_contacts

    bare = OrganizationFactory(contact_name="老周", contact_phone="0512-6666")
    new_organization(market)

    assert create_primary_contacts() == 1
    assert create_primary_contacts() == 0
    assert bare.contacts.get().is_primary
