"""Loads the reference data shipped in certbody/data (copied from the shared rulebook data).

Used by the data migration and by ``manage.py load_reference``; idempotent (update or create).
"""

import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_json(name: str) -> dict:
    """Return the parsed JSON file ``name`` from certbody/data."""
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return json.load(fh)


def cnca_code_rows() -> list[tuple[str, str, str]]:
    """All (table, code, label) rows of cnca_codes.json; scalar entries become one-row tables."""
    rows = []
    for table, entries in read_json("cnca_codes.json").items():
        if table.startswith("_"):
            continue
        if isinstance(entries, dict):
            rows.extend((table, code, label) for code, label in entries.items())
        else:
            rows.append((table, str(entries), str(entries)))
    return rows


def load_reference_data(business_scope_model, cnca_code_model) -> tuple[int, int]:
    """Upsert business scopes and CNCA codes (one statement per table: insert the new rows,
    update the names and labels of existing ones); returns (scopes, codes) counts. The models
    are the real ones or a migration's historical versions."""
    scopes = read_json("business_scopes.json")
    risk = scopes.get("risk", "low")
    business_scope_model.objects.bulk_create(
        [
            business_scope_model(code=item["code"], name=item["name"], risk=risk)
            for item in scopes["categories"]
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "risk"],
    )
    rows = cnca_code_rows()
    cnca_code_model.objects.bulk_create(
        [cnca_code_model(table=table, code=code, label=label) for table, code, label in rows],
        update_conflicts=True,
        unique_fields=["table", "code"],
        update_fields=["label"],
    )
    return len(scopes["categories"]), len(rows)


def cnca_label(table: str, code: str) -> str:
    """Label of a CNCA code straight from the shipped file (no database), '' if unknown."""
    return _codes().get(table, {}).get(code, "")


_CACHE: dict = {}


def _codes() -> dict:
    if not _CACHE:
        _CACHE.update(read_json("cnca_codes.json"))
    return _CACHE


def ensure_base_data() -> None:
    """Reference data, the holiday calendar, role groups and the system user exist (idempotent).

    Migrations create them; this restores them after a database flush (transactional tests)
    and backs ``manage.py load_reference``.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from certbody.models import BusinessScope, CalendarDay, CalendarYear, CncaCode
    from certbody.roles import STAFF_ROLES, SYSTEM_USERNAME
    from certbody.workdays import load_package_calendar

    if BusinessScope.objects.count() < 60 or not CncaCode.objects.exists():
        load_reference_data(BusinessScope, CncaCode)
    if not CalendarYear.objects.exists():
        load_package_calendar(CalendarDay, CalendarYear)
    for name in STAFF_ROLES:
        Group.objects.get_or_create(name=name)
    get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"display_name": "系统", "is_active": False, "password": "!"},
    )
