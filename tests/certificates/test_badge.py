"""The live certificate badge /badge/<token>.svg (issue #17) and the portal's embed snippet."""

import re
from xml.etree import ElementTree

import pytest

from certificates import badge
from certificates.models import Certificate
from tests.applications.factories import ClientUserFactory
from tests.certificates.register_factories import make_certificate

pytestmark = pytest.mark.usefixtures("cb")

Status = Certificate.Status
SVG = "{http://www.w3.org/2000/svg}"


def get_badge(client, certificate, **params):
    return client.get(f"/badge/{certificate.token}.svg", params)


def parsed(response) -> ElementTree.Element:
    assert response.status_code == 200
    return ElementTree.fromstring(response.content)


@pytest.mark.parametrize(
    ("status", "colour"),
    [
        (Status.VALID, badge.GREEN),
        (Status.SUSPENDED, badge.RED),
        (Status.WITHDRAWN, badge.RED),
        (Status.CANCELLED, badge.GREY),
        (Status.EXPIRED, badge.GREY),
        (Status.SUPERSEDED, badge.GREY),
    ],
)
def test_badge_colour_follows_the_status(client, status, colour):
    certificate = make_certificate(status=status)

    svg = parsed(get_badge(client, certificate))

    assert svg.get("data-status") == status
    fills = {rect.get("fill") for rect in svg.iter(f"{SVG}rect")}
    assert colour in fills
    assert {badge.GREEN, badge.RED, badge.GREY} - {colour} & fills == set()


def test_badge_shows_organisation_grade_and_status_with_a_text_alternative(client):
    certificate = make_certificate(name="苏州金桥电器有限公司", grade="five_star")

    response = get_badge(client, certificate, lang="en")

    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    svg = parsed(response)
    assert svg.get("role") == "img"
    label = svg.get("aria-label")
    assert svg.find(f"{SVG}title").text == label
    for part in ("苏州金桥电器有限公司", certificate.number, "Five star", "Valid"):
        assert part in label
    texts = " ".join(t.text for t in svg.iter(f"{SVG}text"))
    assert "苏州金桥电器有限公司" in texts
    assert "Five star" in texts


def test_badge_is_chinese_by_default(client):
    certificate = make_certificate(grade="five_star")

    svg = parsed(get_badge(client, certificate))

    assert "五星级" in svg.get("aria-label")
    assert "有效" in svg.get("aria-label")


def test_badge_escapes_the_organisation_name(client):
    evil = '<script>alert(1)</script>"&\'<a href="javascript:x">'
    certificate = make_certificate(name=evil)

    response = get_badge(client, certificate)

    body = response.content.decode()
    assert "<script" not in body
    assert "<a " not in body
    svg = parsed(response)  # still well-formed XML
    assert evil in svg.get("aria-label")
    assert not list(svg.iter(f"{SVG}script"))


def test_a_long_name_is_shortened_on_the_badge_but_whole_in_its_title(client):
    name = "北京市朝阳区" + "特别长的名称" * 20 + "有限公司"
    certificate = make_certificate(name=name)

    svg = parsed(get_badge(client, certificate))

    assert int(svg.get("width")) <= badge.MAX_WIDTH
    assert name in svg.find(f"{SVG}title").text
    assert any(t.text.endswith("…") for t in svg.iter(f"{SVG}text"))


def test_unknown_token_is_404(client):
    assert client.get("/badge/not-a-token.svg").status_code == 404
    assert client.get("/badge/.svg").status_code == 404


def test_badge_is_cached_for_minutes_with_an_etag(client):
    certificate = make_certificate()

    response = get_badge(client, certificate)

    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert 60 <= max_age <= 600
    etag = response["ETag"]
    again = client.get(f"/badge/{certificate.token}.svg", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"


def test_the_etag_changes_when_the_status_changes(client):
    certificate = make_certificate()
    etag = get_badge(client, certificate)["ETag"]
    Certificate.objects.filter(pk=certificate.pk).update(status=Status.SUSPENDED)

    response = client.get(f"/badge/{certificate.token}.svg", headers={"if-none-match": etag})

    assert response.status_code == 200
    assert response["ETag"] != etag
    assert parsed(response).get("data-status") == Status.SUSPENDED


def test_badge_is_get_only(client):
    certificate = make_certificate()

    assert client.post(f"/badge/{certificate.token}.svg").status_code == 405
    assert client.head(f"/badge/{certificate.token}.svg").status_code == 200


def test_badge_costs_one_query(client, django_assert_num_queries):
    certificate = make_certificate()

    with django_assert_num_queries(1):
        assert get_badge(client, certificate).status_code == 200


def test_an_unknown_language_falls_back_to_chinese(client):
    certificate = make_certificate()

    svg = parsed(get_badge(client, certificate, lang="xx"))

    assert "有效" in svg.get("aria-label")


# --- the portal's snippet ------------------------------------------------------------------


def test_portal_shows_the_embed_snippet_of_each_certificate(client):
    certificate = make_certificate(name="苏州金桥电器有限公司")
    user = ClientUserFactory(organization=certificate.organization)
    client.force_login(user)

    body = client.get("/portal/").content.decode()

    verify_url = badge.verify_url(certificate)
    badge_url = badge.badge_url(certificate)
    match = re.search(r'<textarea[^>]*data-testid="badge-snippet"[^>]*>([^<]*)</textarea>', body)
    assert match, "the snippet is offered in a copy field"
    snippet = match.group(1)
    assert f"&lt;a href=&quot;{verify_url}&quot;&gt;" in snippet
    assert f"&lt;img src=&quot;{badge_url}&quot;" in snippet
    assert "alt=&quot;苏州金桥电器有限公司" in snippet
    assert f'src="/badge/{certificate.token}.svg"' in body  # the preview
