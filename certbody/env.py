"""Typed readers for settings taken from environment variables.

Each helper returns the default when the variable is unset or empty and raises
``ImproperlyConfigured`` with the variable's name when the value cannot be parsed,
so a typo in production configuration stops start-up instead of being ignored.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    """Return the variable as a string, or ``default`` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off).

    Raises ImproperlyConfigured for any other value.
    """
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    """Return the variable as an integer; raises ImproperlyConfigured when not one."""
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Return a comma-separated variable as a list of non-empty, stripped strings."""
    value = os.environ.get(name, "")
    if value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


_RATE = re.compile(r"[1-9]\d*/\d*[smhd]")


def env_rate(name: str, default: str) -> str:
    """Return a django-ratelimit rate such as ``60/m`` or ``10/10m`` (count / [n]s|m|h|d).

    Raises ImproperlyConfigured for anything else (a typo must not switch a limit off).
    """
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate like 60/m or 10/10m (count/[n]s|m|h|d), got {value!r}"
        )
    return value
