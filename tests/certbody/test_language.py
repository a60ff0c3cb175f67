"""Chinese by default, with an English switch on every page (issue #7)."""

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
