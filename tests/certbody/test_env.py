import pytest
from django.core.exceptions import ImproperlyConfigured

from certbody.env import env_bool, env_int, env_list, env_str


def test_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("X_TEST", raising=False)
    assert env_str("X_TEST", "d") == "d"
    assert env_bool("X_TEST", True) is True
    assert env_int("X_TEST", 7) == 7
    assert env_list("X_TEST", ["a"]) == ["a"]


@pytest.mark.parametrize(
    "raw, expected", [("1", True), ("YES", True), ("off", False), ("0", False)]
)
def test_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("X_TEST", raw)
    assert env_bool("X_TEST") is expected


def test_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("X_TEST", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_TEST"):
        env_bool("X_TEST")
    monkeypatch.setenv("X_TEST", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_TEST"):
        env_int("X_TEST", 1)


def test_list_strips_and_drops_empty_items(monkeypatch):
    monkeypatch.setenv("X_TEST", " a.example , ,b.example ")
    assert env_list("X_TEST") == ["a.example", "b.example"]


@pytest.mark.parametrize(
    ("url", "raw", "expected"),
    [
        ("", None, False),
        ("", "1", True),
        ("postgres://u@127.0.0.1:5432/x", None, False),
        ("postgres://u@127.0.0.1:5432/x", "1", True),
    ],
)
def test_database_health_checks_are_off_unless_asked_for(monkeypatch, url, raw, expected):
    """``DB_CONN_HEALTH_CHECKS`` (off: Django's default; issue #16) on both databases."""
    import runpy
    from pathlib import Path

    monkeypatch.setenv("DATABASE_URL", url)
    if raw is None:
        monkeypatch.delenv("DB_CONN_HEALTH_CHECKS", raising=False)
    else:
        monkeypatch.setenv("DB_CONN_HEALTH_CHECKS", raw)
    settings = runpy.run_path(str(Path(__file__).parents[2] / "certbody" / "settings.py"))
    assert settings["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is expected
