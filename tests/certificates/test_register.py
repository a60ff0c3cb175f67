"""The public register of certified organisations (issue #17; 004 §9.4, 002 §4.1.2): filters,
sorting, pagination, the CSV download and the monthly list of status changes."""

import csv
import io
import re
from datetime import date

import pytest
import time_machine
from django.utils import translation

from certificates import register
from certificates.models import Certificate
from tests.certificates.helpers import certificate_in, skip_pdf_rendering
from tests.certificates.register_factories import make_certificate


@pytest.fixture(autouse=True)
def _english(settings):
    """Messages are matched on their English words: the compiled catalogue gives Chinese by
    default, so requests and code here speak English."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status


def listed(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<tr data-number="([^"]+)"', response.content.decode())


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    content = response.content
    assert content.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


# --- the page ------------------------------------------------------------------------------


def test_register_lists_current_certificates_without_log_in(client):
    valid = make_certificate(name="甲电器有限公司")
    suspended = make_certificate(
        name="乙电器有限公司",
        status=Status.SUSPENDED,
        suspended_from=date(2025, 6, 2),
        suspended_until=date(2025, 9, 1),
    )
    make_certificate(name="丙电器有限公司", status=Status.WITHDRAWN)

    response = client.get("/register/")

    assert set(listed(response)) == {valid.number, suspended.number}
    body = response.content.decode()
    assert "北京市" in body  # the province of division code 110105
    assert "24 " in body  # the business scope category


def test_register_shows_no_contact_person_phone_or_id_number(client):
    certificate = make_certificate()
    organization = certificate.organization
    organization.contact_name = "联系人王五"
    organization.contact_phone = "13912345678"
    organization.legal_representative = "法人赵六"
    organization.save()

    body = client.get("/register/").content.decode()
    rows = csv_rows(client.get("/register/download.csv"))

    text = body + repr(rows)
    for private in ("联系人王五", "13912345678", "法人赵六", organization.contact_email or "@"):
        assert private not in text
    assert certificate.number in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "32"}, {"js"}),
        ({"scope": "7"}, {"scope7"}),
        ({"grade": "five_star"}, {"five"}),
        ({"year": "2024"}, {"old"}),
        ({"status": "withdrawn"}, {"withdrawn"}),
        ({"status": "all"}, {"bj", "js", "scope7", "five", "old", "withdrawn"}),
        ({"region": "32", "grade": "five_star"}, set()),
        ({"region": "11", "grade": "five_star"}, {"five"}),
    ],
)
def test_register_filters(client, params, expected):
    made = {
        "bj": make_certificate(),
        "js": make_certificate(division_code="320505"),
        "scope7": make_certificate(scopes=(7,)),
        "five": make_certificate(grade="five_star"),
        "old": make_certificate(issued_on=date(2024, 5, 6)),
        "withdrawn": make_certificate(status=Status.WITHDRAWN),
    }
    numbers = set(listed(client.get("/register/", params)))

    assert numbers == {made[key].number for key in expected}


@pytest.mark.parametrize(
    "params",
    [
        {"region": "99"},
        {"region": "'; DROP TABLE x"},
        {"scope": "abc"},
        {"scope": "9999"},
        {"grade": "six_star"},
        {"status": "void"},
        {"year": "20x5"},
        {"year": "1800"},
        {"year": "99999999999999999999999"},
        {"sort": "contact_phone"},
        {"sort": "organization__contact_name"},
        {"page": "-1"},
        {"page": "abc"},
        {"region": "\x00"},
    ],
)
def test_bad_filter_or_sort_values_are_ignored_with_a_message(client, english, params):
    certificate = make_certificate()

    response = client.get("/register/", params)

    assert listed(response) == [certificate.number]
    if "page" not in params:
        assert "were not understood and are ignored" in response.content.decode()
    csv_response = client.get("/register/download.csv", params)
    assert [row[0] for row in csv_rows(csv_response)[1:]] == [certificate.number]


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("", ["a", "b", "c"]),
        ("organization", ["a", "b", "c"]),
        ("-organization", ["c", "b", "a"]),
        ("issued", ["b", "c", "a"]),
        ("-issued", ["a", "c", "b"]),
        # Numbers carry the year of issue: 012323FW…, 012324FW…, 012325FW….
        ("number", ["b", "c", "a"]),
        ("-number", ["a", "c", "b"]),
        ("expires", ["b", "c", "a"]),
        ("-expires", ["a", "c", "b"]),
    ],
)
def test_register_sorts_by_a_whitelisted_key(client, sort, order):
    made = {
        "a": make_certificate(name="A商贸有限公司", issued_on=date(2025, 5, 1)),
        "b": make_certificate(name="B商贸有限公司", issued_on=date(2023, 5, 1)),
        "c": make_certificate(name="C商贸有限公司", issued_on=date(2024, 5, 1)),
    }

    numbers = listed(client.get("/register/", {"sort": sort} if sort else {}))

    assert numbers == [made[k].number for k in order]


def test_register_is_paginated_and_keeps_the_filters(client, english):
    certificates = [make_certificate(division_code="320505") for _ in range(register.PAGE_SIZE + 2)]
    make_certificate()

    first = client.get("/register/", {"region": "32", "sort": "number"})
    second = client.get("/register/", {"region": "32", "sort": "number", "page": "2"})

    assert listed(first) == [c.number for c in certificates[: register.PAGE_SIZE]]
    assert listed(second) == [c.number for c in certificates[register.PAGE_SIZE :]]
    assert "region=32&amp;sort=number&amp;page=2" in first.content.decode()
    assert f'data-count="{register.PAGE_SIZE + 2}"' in first.content.decode()


def test_register_queries_are_constant_in_the_number_of_rows(client, django_assert_max_num_queries):
    make_certificate(division_code="320505")
    with django_assert_max_num_queries(8) as small:
        client.get("/register/", {"status": "all"})
    for _ in range(20):
        make_certificate(division_code="320505", scopes=(7, 24))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(listed(client.get("/register/", {"status": "all"}))) == 21
    with django_assert_max_num_queries(8) as small_csv:
        client.get("/register/download.csv")
    assert len(small_csv.captured_queries) <= len(small.captured_queries)


def test_register_is_get_only(client):
    assert client.post("/register/").status_code == 405
    assert client.post("/register/download.csv").status_code == 405


# --- CSV -----------------------------------------------------------------------------------


def test_csv_downloads_the_filtered_public_fields(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the public wording is matched in Chinese
    translation.activate("zh-hans")
    certificate = make_certificate(division_code="320505", grade="five_star", scopes=(7, 24))
    make_certificate()

    response = client.get("/register/download.csv", {"region": "32"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.match(
        r'attachment; filename="register-\d{4}-\d\d-\d\d\.csv"', response["Content-Disposition"]
    )
    header, *rows = csv_rows(response)
    assert header == register.CSV_COLUMNS
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["证书编号"] == certificate.number
    assert row["获证组织名称"] == certificate.organization_name
    assert row["统一社会信用代码"] == certificate.organization.uscc
    assert row["所在省份"] == "江苏省"
    assert row["业务范围类别"].startswith("07 ")
    assert row["星级"] == "五星级"
    assert row["证书状态"] == "有效"
    assert row["颁证日期"] == "2025-03-20"


def test_csv_neutralises_formula_injection(client):
    make_certificate(name='=HYPERLINK("http://evil.example","x")')

    rows = csv_rows(client.get("/register/download.csv"))

    assert rows[1][2] == '\'=HYPERLINK("http://evil.example","x")'


# --- the monthly list of status changes (004 §9.4) -----------------------------------------


@pytest.fixture
def _no_pdf(monkeypatch):
    skip_pdf_rendering(monkeypatch)


@pytest.mark.usefixtures("_no_pdf")
def test_monthly_changes_list_the_suspensions_and_withdrawals_of_the_month(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the public wording is matched in Chinese
    translation.activate("zh-hans")
    suspended = certificate_in(Status.SUSPENDED)  # suspended on 2025-06-02
    withdrawn = certificate_in(Status.WITHDRAWN)  # withdrawn on 2025-07-01
    certificate_in(Status.VALID)

    with time_machine.travel(date(2025, 8, 10)):
        june = client.get("/register/changes/", {"month": "2025-06"})
        july = client.get("/register/changes/", {"month": "2025-07"})
        this_month = client.get("/register/changes/")

    assert listed(june) == [suspended.number]
    assert "2025-06-02" in june.content.decode()
    assert "主动请求暂停的" in june.content.decode()
    assert listed(july) == [withdrawn.number]
    assert listed(this_month) == []
    assert "?month=2025-05" in june.content.decode()


@pytest.mark.parametrize("month", ["2025-13", "abcd-ef", "2025-7", "1899-01", "2999-01", "\x00"])
def test_a_bad_month_shows_this_month_with_a_message(client, english, month):
    with time_machine.travel(date(2025, 8, 10)):
        response = client.get("/register/changes/", {"month": month})

    assert response.status_code == 200
    body = response.content.decode()
    assert "The month was not understood" in body
    assert "2025-08" in body


def test_monthly_changes_queries_are_constant(client, django_assert_max_num_queries):
    from certificates.models import CertificateEvent
    from tests.conftest import make_staff

    actor = make_staff("register-decider", "decision_maker")

    def add_events(count):
        for _ in range(count):
            certificate = make_certificate(status=Status.SUSPENDED)
            CertificateEvent.objects.create(
                certificate=certificate,
                kind="suspended",
                occurred_on=date(2025, 6, 2),
                ends_on=date(2025, 9, 1),
                status_code="02",
                reason_code="0116",
                cause=11,
                actor=actor,
            )

    add_events(1)
    with django_assert_max_num_queries(6) as small:
        client.get("/register/changes/", {"month": "2025-06"})
    add_events(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(listed(client.get("/register/changes/", {"month": "2025-06"}))) == 11


# --- links ---------------------------------------------------------------------------------


def test_register_is_linked_from_the_verification_page_and_the_header(client, db):
    body = client.get("/verify/").content.decode()

    assert 'href="/register/"' in body
    assert body.count('href="/register/"') >= 2  # the page and the header for visitors
