"""Public verification without log-in: search page /verify/ and QR page /verify/<token>/
(002 §4.1.2; domain.md §13, §16)."""

import re

import pytest

from certificates.models import Certificate
from tests.applications.factories import OrganizationFactory
from tests.certificates.factories import Staff, issued_certificate
from tests.certificates.helpers import (
    certificate_in,
    certificates_in_every_status,
    multi_site_certificate,
    result_numbers,
    result_row,
    skip_pdf_rendering,
    squeeze,
)
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")


@pytest.fixture(autouse=True)
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


Status = Certificate.Status


certificates = shared_fixture(certificates_in_every_status, name="certificates")


@shared_fixture
def certificate(certificates):
    """A valid certificate (issued 2025-03-20, expires 2028-03-19)."""
    return certificates[Status.VALID]


@shared_fixture
def multi_site(staff, module_monkeypatch):
    """A head certificate with one sub-certificate."""
    skip_pdf_rendering(module_monkeypatch)
    return multi_site_certificate(staff=staff)


@shared_fixture
def jinqiao(staff, module_monkeypatch):
    """The certificate of 苏州市金桥电器有限公司, next to one of 苏州市银河商贸有限公司."""
    skip_pdf_rendering(module_monkeypatch)
    wanted = issued_certificate(OrganizationFactory(name="苏州市金桥电器有限公司"), staff)
    issued_certificate(OrganizationFactory(name="苏州市银河商贸有限公司"), staff)
    return wanted


@shared_fixture
def hualian(staff, module_monkeypatch):
    """The certificate of 华联商厦有限公司."""
    skip_pdf_rendering(module_monkeypatch)
    return issued_certificate(OrganizationFactory(name="华联商厦有限公司"), staff)


# What the public must read for each status: the Chinese label and part of its meaning.
STATUS_WORDING = {
    Status.VALID: ("有效", "获证组织可按规定使用认证证书和认证标志"),
    Status.SUSPENDED: ("暂停", "不得使用认证证书、认证标志或引用认证信息"),
    Status.WITHDRAWN: ("撤销", "证书编号作废，不得继续使用"),
    Status.CANCELLED: ("注销", "不得继续使用"),
    Status.EXPIRED: ("过期失效", "有效期已满且未获再认证，不得继续使用"),
    Status.SUPERSEDED: ("已换发新证", "因再认证换发新证书而失效"),
}
INVALID = [Status.WITHDRAWN, Status.CANCELLED, Status.EXPIRED, Status.SUPERSEDED]
REMINDER = "获证组织应按期接受认证机构的监督审核"


def search(client, query):
    response = client.get("/verify/", {"q": query})
    assert response.status_code == 200
    return response


def badge(status, label):
    """The status badge's end: its icon (certbody.badges) then the label."""
    from certbody.badges import ICONS, tone

    return f"{ICONS[tone(status, 'certificate')]}</span>{label}</span>"


# --- search page --------------------------------------------------------------------------


def test_search_page_opens_without_log_in_and_lists_nothing_before_a_query(client, certificate):

    response = client.get("/verify/")

    assert response.status_code == 200
    assert "认证证书查询" in response.content.decode()
    assert result_numbers(response) == []


def test_search_by_exact_number_finds_exactly_that_certificate(client, multi_site, certificate):
    head, sub = multi_site
    other = certificate

    response = search(client, head.number)

    # The sub-certificate's number starts with the head's: an exact search must not list it.
    assert result_numbers(response) == [head.number]
    assert other.number not in response.content.decode()


def test_search_by_number_with_surrounding_spaces_still_finds_it(client, certificate):
    response = search(client, f"  {certificate.number} ")

    assert result_numbers(response) == [certificate.number]


def test_search_by_part_of_the_organisation_name_finds_its_certificate(client):
    staff = Staff()
    wanted = issued_certificate(OrganizationFactory(name="北京苏宁电器有限公司"), staff)
    issued_certificate(OrganizationFactory(name="上海国美商贸有限公司"), staff)

    response = search(client, "苏宁电器")

    assert result_numbers(response) == [wanted.number]
    assert "北京苏宁电器有限公司" in response.content.decode()


@pytest.mark.parametrize("typed", ["lower", "spaced"])
def test_search_by_number_in_lower_case_or_with_inner_spaces_finds_it(client, typed, certificate):
    n = certificate.number
    query = n.lower() if typed == "lower" else f"{n[:6]} {n[6:]}"

    assert result_numbers(search(client, query)) == [n]


@pytest.mark.parametrize("query", ["苏州金桥", "苏州 金桥电器", "金桥"])
def test_search_by_name_fragments_finds_the_registered_name(client, query, jinqiao):
    wanted = jinqiao

    assert result_numbers(search(client, query)) == [wanted.number]


def test_name_search_takes_regex_characters_literally(client):
    issued_certificate(OrganizationFactory(name="北京苏宁电器有限公司"))

    assert result_numbers(search(client, ".*")) == []


def test_the_search_page_answers_head_requests(client):
    assert client.head("/verify/", {"q": "苏宁"}).status_code == 200


def test_one_character_name_query_shows_the_hint_and_no_results(client, hualian):

    response = search(client, "华")

    body = response.content.decode()
    assert "请至少输入两个字符" in body
    assert result_numbers(response) == []
    assert "华联商厦有限公司" not in body
    # Nothing was searched, so the page must not claim that nothing was found.
    assert "未查询到" not in body


def test_unknown_query_says_nothing_was_found(client, hualian):

    response = search(client, "不存在的公司")

    assert result_numbers(response) == []
    assert "未查询到“不存在的公司”相关的证书" in response.content.decode()


def test_well_formed_but_unknown_number_says_nothing_was_found(client, certificate):

    response = search(client, "012325FW9999R0C")

    assert result_numbers(response) == []
    assert "未查询到" in response.content.decode()


@pytest.mark.parametrize("status", list(Status))
def test_search_result_shows_the_status_in_chinese_with_its_meaning(client, status, certificates):
    certificate = certificates[status]
    label, meaning = STATUS_WORDING[status]

    response = search(client, certificate.number)

    body = response.content.decode()
    assert result_numbers(response) == [certificate.number]
    assert badge(status, label) in body
    assert meaning in body


def test_suspended_certificate_shows_its_suspension_period_in_the_search_results(
    client, certificates
):
    certificate = certificates[Status.SUSPENDED]

    response = search(client, certificate.number)

    assert "暂停期：2025-06-02 至 2025-09-01" in response.content.decode()


def test_valid_certificate_shows_no_suspension_period(client, certificates):
    certificate = certificates[Status.VALID]

    response = search(client, certificate.number)

    assert "暂停期" not in response.content.decode()


@pytest.mark.parametrize("status", INVALID)
def test_invalid_certificate_is_still_listed_clearly_marked_with_its_date(client, status):
    certificate = certificate_in(status, OrganizationFactory(name="已失效商贸有限公司"))
    label, meaning = STATUS_WORDING[status]

    response = search(client, "已失效商贸")

    row = result_row(response, certificate.number)
    assert f'class="badge status-{status}"' in row
    assert badge(status, label) in row
    assert meaning in row
    assert badge(Status.VALID, "有效") not in row
    assert f"自 {certificate.status_changed_on:%Y-%m-%d}" in row


def test_superseded_and_new_certificate_are_both_found_by_name(client):
    old = certificate_in(Status.SUPERSEDED, OrganizationFactory(name="换证电器有限公司"))
    new = Certificate.objects.get(organization=old.organization, cycle=1, head__isnull=True)

    response = search(client, "换证电器")

    body = response.content.decode()
    assert sorted(result_numbers(response)) == sorted([old.number, new.number])
    assert badge(Status.SUPERSEDED, "已换发新证") in body
    assert badge(Status.VALID, "有效") in body


def test_sub_certificate_in_results_shows_its_head_number(client, multi_site):
    head, sub = multi_site

    response = search(client, sub.number)

    assert result_numbers(response) == [sub.number]
    assert f"子证书，主证书 {head.number}" in response.content.decode()


def test_search_page_is_get_only(client):
    assert client.post("/verify/", {"q": "苏宁"}).status_code == 405


# --- QR page /verify/<token>/ -------------------------------------------------------------


def detail(client, certificate):
    response = client.get(f"/verify/{certificate.token}/")
    assert response.status_code == 200
    return response.content.decode()


def banner(body):
    match = re.search(r'<p class="banner (\w+)">(.*?)</p>', body, re.S)
    assert match, "the QR page has no status banner"
    return match.group(1), match.group(2)


def test_qr_page_of_valid_certificate_says_it_is_valid(client, certificates):
    certificate = certificates[Status.VALID]

    body = detail(client, certificate)

    assert banner(body) == ("ok", "本证书有效。")
    assert certificate.number in body
    assert certificate.organization.name in body
    assert "不再有效" not in body


def test_qr_page_of_suspended_certificate_shows_the_period_and_the_prohibition(
    client, certificates
):
    certificate = certificates[Status.SUSPENDED]

    body = detail(client, certificate)

    kind, text = banner(body)
    assert kind == "warn"
    assert "已暂停" in text
    assert "2025年6月2日 至 2025年9月1日" in text
    assert "不得使用认证证书和认证标志" in text
    assert "2025-06-02 至 2025-09-01" in body
    assert "不再有效" not in body


@pytest.mark.parametrize("status", INVALID)
def test_qr_page_of_invalid_certificate_says_it_is_no_longer_valid(client, status, certificates):
    certificate = certificates[status]
    label, meaning = STATUS_WORDING[status]

    body = detail(client, certificate)

    kind, text = banner(body)
    assert kind == "bad"
    assert f"本证书已{label}，不再有效。" in text
    assert meaning in text
    assert "本证书有效。" not in body
    assert badge(status, label) in body


@pytest.mark.parametrize("status", [Status.VALID, Status.SUSPENDED, Status.WITHDRAWN])
def test_qr_page_reminds_the_client_how_to_keep_the_certificate_valid(client, status, certificates):
    certificate = certificates[status]

    body = detail(client, certificate)

    assert "如何保持证书有效" in body
    assert REMINDER in body
    assert squeeze("本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询") in (
        squeeze(body)
    )


def test_qr_page_shows_the_public_facts_of_the_certificate(client, certificates):
    certificate = certificates[Status.VALID]

    body = detail(client, certificate)

    assert certificate.scope_text in body
    assert "GB/T 27922" in body
    assert "2025-03-20" in body
    assert "2028-03-19" in body


def test_qr_page_of_sub_certificate_shows_its_head_number(client, multi_site):
    head, sub = multi_site

    body = detail(client, sub)

    assert f"{sub.number}（子证书，主证书 {head.number}）" in body


def test_qr_page_of_unknown_token_is_not_found(client, certificate):
    assert client.get("/verify/no-such-token-AAAAAAAAAAAAAAAAAAAA/").status_code == 404


def test_qr_page_is_reached_only_by_the_token_not_by_number_or_id(client, certificate):
    assert certificate.token not in (certificate.number, str(certificate.pk))
    assert certificate.number not in certificate.token
    assert len(certificate.token) >= 32
    assert client.get(f"/verify/{certificate.number}/").status_code == 404
    assert client.get(f"/verify/{certificate.pk}/").status_code == 404
    assert client.get(f"/verify/{certificate.token}/").status_code == 200


def test_every_certificate_gets_its_own_token(client, multi_site):
    head, sub = multi_site

    assert head.token != sub.token
    assert sub.number in detail(client, sub)
    assert f"子证书，主证书 {head.number}" not in detail(client, head)
