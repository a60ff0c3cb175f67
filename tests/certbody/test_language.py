"""Chinese by default, with an English switch on every page (issue #7)."""

import re

import pytest


@pytest.mark.django_db
def test_pages_are_chinese_by_default_and_switch_to_english(client, cb):
    page = client.get("/verify/").content.decode()
    assert 'lang="zh-hans"' in page
    assert 'data-testid="language-en"' in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/verify/"})
    assert response.status_code == 302 and response["Location"] == "/verify/"

    page = client.get("/verify/").content.decode()
    assert 'lang="en"' in page
    assert "Verify a certificate" in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/verify/"})
    assert 'lang="zh-hans"' in client.get("/verify/").content.decode()


@pytest.mark.django_db
def test_a_visitor_gets_the_language_of_their_browser(client, cb):
    page = client.get("/verify/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()

    assert 'lang="en"' in page


@pytest.mark.django_db
def test_a_signed_in_persons_choice_is_stored_and_follows_them_to_another_browser(cb):
    from django.test import Client

    from certbody import roles
    from tests.conftest import make_staff

    user = make_staff("lang-tm", roles.TECHNICAL_MANAGER)
    first = Client()
    first.force_login(user)
    first.post("/i18n/setlang/", {"language": "en", "next": "/home/"})
    user.refresh_from_db()
    assert user.language == "en"

    # Another browser, a Chinese one, after the first session has ended.
    other = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    other.force_login(user)
    assert 'lang="en"' in other.get("/home/").content.decode()
    assert 'lang="zh-hans"' in Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get("/verify/").content.decode()


@pytest.mark.django_db
def test_an_unknown_language_code_is_not_stored(client, cb):
    from certbody import roles
    from tests.conftest import make_staff

    user = make_staff("lang-tm2", roles.TECHNICAL_MANAGER)
    client.force_login(user)

    client.post("/i18n/setlang/", {"language": "xx", "next": "/home/"})

    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.django_db
def test_the_profile_page_stores_the_language_and_names_the_roles(cb):
    from django.test import Client

    from certbody import roles
    from tests.conftest import make_staff

    user = make_staff("profile-tm", roles.TECHNICAL_MANAGER)
    browser = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    browser.force_login(user)
    page = browser.get("/accounts/profile/").content.decode()
    assert 'lang="zh-hans"' in page
    assert "技术负责人" in page or "Technical manager" in page
    assert 'data-testid="profile-link"' in page  # the header links the profile

    saved = browser.post("/accounts/profile/", {"language": "en"})
    assert saved.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
    assert 'lang="en"' in browser.get("/accounts/profile/").content.decode()

    browser.post("/accounts/profile/", {"language": ""})  # back to the browser's language
    user.refresh_from_db()
    assert user.language == ""
    assert browser.post("/accounts/profile/", {"language": "xx"}).status_code == 200
    user.refresh_from_db()
    assert user.language == ""


@pytest.mark.django_db
def test_the_profile_needs_a_log_in(client, cb):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_a_visitor_switches_the_language_without_a_csrf_token(cb):
    """The public pages' footer form carries no token for a visitor (the same page for every
    reader, issue #16): the switch only sets their language cookie."""
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/verify/?q=x").content.decode()
    form = re.search(r'<form class="language".*?</form>', page, re.S).group(0)
    assert "csrfmiddlewaretoken" not in form
    assert 'name="next" value="/verify/?q=x"' in form

    response = browser.post("/i18n/setlang/", {"language": "en", "next": "/verify/?q=x"})

    assert response.status_code == 302 and response["Location"] == "/verify/?q=x"
    assert response.cookies["django_language"].value == "en"
    assert 'lang="en"' in browser.get("/verify/?q=x").content.decode()


@pytest.mark.django_db
def test_a_signed_in_persons_switch_needs_the_csrf_token(cb):
    from django.test import Client

    from certbody import roles
    from tests.conftest import make_staff

    user = make_staff("lang-csrf", roles.TECHNICAL_MANAGER)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    refused = browser.post("/i18n/setlang/", {"language": "en", "next": "/verify/"})

    assert refused.status_code == 403
    user.refresh_from_db()
    assert user.language == ""

    page = browser.get("/verify/").content.decode()
    form = re.search(r'<form class="language".*?</form>', page, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = browser.post(
        "/i18n/setlang/", {"language": "en", "next": "/verify/", "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"
