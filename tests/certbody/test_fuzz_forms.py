"""Bounded junk never breaks a page (issue 11 item 15): every workspace list gets junk query
parameters, every staff confirm/create form and every portal and public form gets junk in its
fields, and no answer is a 500.

The walker reads the desks from ``certbody.workspace.DESKS`` and each page's form from the GET
response, so a desk, action or field added later is walked too. The junk is a fixed list
(huge, negative, empty, over-long, malformed dates, odd Unicode), applied per field type over a
valid baseline of the other fields; every POST runs inside a savepoint rolled back afterwards,
so the world stays the same for the next one. A failure lists the URL and the payload.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django import forms
from django.db import transaction
from django.test import Client
from django.urls import reverse

from certbody.workspace.desks import DESKS, _available
from tests.certbody.world import World, desk_request
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

HUGE = "99999999999999999999999"
INT64 = "9223372036854775808"  # 2**63
LONG_TEXT = "长" * 5001
ODD = "\u202e\U0001f4a9\ufeff\u0301é\x00"

# Query parameters: every value is tried in every parameter of a list at once.
QUERY_JUNK = [
    "-1",
    "0",
    HUGE,
    INT64,
    "",
    "1e400",
    "NaN",
    "2025-02-30",
    "99999-01-01",
    LONG_TEXT[:600],
    ODD,
    "-",
]

# name → {field kind → value}; kinds missing keep the field's valid baseline.
CATEGORIES = {
    "huge": {"int": INT64, "num": HUGE, "date": "9999-12-31", "choice": HUGE, "text": HUGE},
    "negative": {
        "int": "-" + INT64,
        "num": "-" + HUGE,
        "date": "0001-01-01",
        "choice": "-1",
        "text": "-" + HUGE,
    },
    "empty": {"int": "", "num": "", "date": "", "choice": "", "text": "", "bool": ""},
    "over-long": {"int": "1" * 400, "num": "9" * 400, "date": "2025-01-01" * 50, "text": LONG_TEXT},
    "malformed": {"int": "1e400", "num": "NaN", "date": "2025-02-30", "choice": "<x>"},
    "odd unicode": {"int": ODD, "num": ODD, "date": ODD, "choice": ODD, "text": ODD},
}


def kind_of(field: forms.Field) -> str:
    if isinstance(field, forms.FileField):
        return "file"
    if isinstance(field, forms.BooleanField):
        return "bool"
    if isinstance(field, forms.DecimalField | forms.FloatField):
        return "num"
    if isinstance(field, forms.IntegerField):
        return "int"
    if isinstance(field, forms.DateField):
        return "date"
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        return "choice"
    return "text"


def baseline(form: forms.BaseForm) -> dict:
    """A plausible value for every field: its initial value, else one by type."""
    data = {}
    for name, field in form.fields.items():
        kind = kind_of(field)
        if kind == "file":
            continue
        initial = form[name].value()
        if isinstance(initial, list | tuple):
            initial = [str(v) for v in initial]
        if initial not in (None, "", []):
            data[name] = initial if isinstance(initial, list) else str(initial)
            continue
        if kind == "bool":
            data[name] = "on"
        elif kind == "num" or kind == "int":
            data[name] = "1"
        elif kind == "date":
            data[name] = "2025-06-02"
        elif kind == "choice":
            choices = [str(value) for value, _label in field.choices if str(value)]
            data[name] = choices[0] if choices else ""
        elif isinstance(field, forms.EmailField):
            data[name] = "someone@example.cn"
        else:
            data[name] = "测试"
    return data


def payloads(form: forms.BaseForm) -> list[tuple[str, dict]]:
    """(what, POST data): each junk category over the baseline, and each number or date field
    alone huge (other fields valid, so the value reaches the service)."""
    base = baseline(form)
    kinds = {name: kind_of(field) for name, field in form.fields.items()}
    out = []
    for category, values in CATEGORIES.items():
        data = dict(base)
        for name, kind in kinds.items():
            if kind in values:
                data[name] = values[kind]
        out.append((category, data))
    for name, kind in kinds.items():
        if kind in ("int", "num", "date"):
            value = {"int": INT64, "num": HUGE, "date": "9999-12-31"}[kind]
            out.append((f"{name} alone huge", {**base, name: value}))
            if kind in ("int", "num"):
                out.append((f"{name} alone negative", {**base, name: "-" + value}))
    return out


@contextmanager
def rolled_back():
    """Run a request inside a savepoint that is always rolled back."""

    class _Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


class Walker:
    def __init__(self):
        self.client = Client(raise_request_exception=False)
        self.failures: list[str] = []
        self.requests = 0

    def login(self, user):
        self.client.logout()
        if user is not None:
            self.client.force_login(user)

    def get(self, url, params=None):
        self.requests += 1
        with rolled_back():
            response = self.client.get(url, params or {})
        if response.status_code >= 500:
            self.failures.append(f"GET {url} {params!r:.300}: {response.status_code}")
        return response

    def post_junk(self, url, after=()):
        """GET the page; POST every junk payload to its form (if it has one). When a POST
        succeeds, the page it leads to and the ``after`` pages (e.g. the desk's list and export)
        are opened before the rollback: a value stored out of bounds breaks them."""
        response = self.get(url)
        if response.status_code != 200 or response.context is None:
            return 0
        form = response.context.get("form")
        if not isinstance(form, forms.BaseForm):
            return 0
        for what, data in payloads(form):
            self.requests += 1
            shown = {
                k: (v[:40] + "…" if isinstance(v, str) and len(v) > 40 else v)
                for k, v in data.items()
            }
            with rolled_back():
                answer = self.client.post(url, data)
                if answer.status_code in (301, 302):
                    for page in [answer["Location"], *after]:
                        opened = self.client.get(page)
                        if opened.status_code >= 500:
                            self.failures.append(
                                f"GET {page} after POST {url} [{what}] {shown!r:.400}: "
                                f"{opened.status_code}"
                            )
            if answer.status_code >= 500:
                self.failures.append(f"POST {url} [{what}] {shown!r:.400}: {answer.status_code}")
        return 1


@shared_fixture
def world(cb):
    """One world for the module: every junk request is rolled back, so none changes it."""
    return World()


def who_may(world, permission, obj=None):
    """A world user holding ``permission`` (on ``obj``), the superuser otherwise."""
    for role, user in world.users.items():
        if user is not None and role != "client" and user.has_perm(permission, obj):
            return user
    return world.superuser


def filter_params(desk, user) -> list[str]:
    if desk.filterset_class is None:
        return []
    filterset = desk.filterset_class(
        None, queryset=desk.model.objects.none(), request=desk_request(desk, user)
    )
    names = []
    for name, field in filterset.form.fields.items():
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            suffixes = getattr(widget, "suffixes", None) or [
                str(n) for n in range(len(widget.widgets))
            ]
            names += [f"{name}_{suffix}" if suffix else name for suffix in suffixes]
        else:
            names.append(name)
    return names


def test_junk_query_parameters_never_break_a_list(world):
    walker = Walker()
    for key, desk in DESKS.items():
        user = who_may(world, desk.permission)
        walker.login(user)
        url = reverse("workspace:list", args=[key])
        names = ["per_page", "page", "sort", *filter_params(desk, user)]
        for value in QUERY_JUNK:
            walker.get(url, dict.fromkeys(names, value))
        walker.get(url, {"export": "csv", "sort": "-", "per_page": "-1"})
        walker.get(url, {"export": ODD})
        walker.get(url, {"sort": ["-" + HUGE, "", ODD, *names]})

    walker.login(world.users["market"])
    for value in QUERY_JUNK:
        walker.get(reverse("notifications"), {"page": value, "unread": value})
    for value in [*QUERY_JUNK, "all"]:
        walker.get(reverse("notifications"), {"page": value})
        with rolled_back():
            response = walker.client.post(reverse("notifications"), {"read": value})
        if response.status_code >= 500:
            walker.failures.append(f"POST notifications read={value!r:.60}: {response.status_code}")

    walker.login(None)
    for value in QUERY_JUNK:
        walker.get(reverse("certificates:verify"), {"q": value, "page": value})
        walker.get(reverse("certificates:verify_invalid"), {"status": value, "page": value})

    assert not walker.failures, "\n".join(walker.failures)
    assert walker.requests > 12 * len(DESKS)


def test_junk_in_every_staff_form_never_gives_a_500(world):
    walker = Walker()
    forms_walked = 0
    for key, desk in DESKS.items():
        if desk.create is not None:
            walker.login(who_may(world, desk.create.permission))
            forms_walked += walker.post_junk(
                reverse("workspace:create", args=[key]), after=[desk.url()]
            )
        rows = list(desk.queryset(desk_request(desk, world.superuser)).order_by("pk")[:60])
        for action in desk.actions:
            if action.form_class is None:
                continue
            # The first row whose state allows the action, so its form reaches the service.
            obj = next((row for row in rows if _available(action, row)), None)
            if obj is None:
                continue
            walker.login(who_may(world, action.permission, obj))
            forms_walked += walker.post_junk(
                reverse("workspace:action", args=[key, obj.pk, action.name]),
                after=[desk.object_url(obj), desk.url(), desk.url() + "?export=csv"],
            )

    assert not walker.failures, "\n".join(walker.failures)
    assert forms_walked >= 20


def test_junk_in_every_portal_and_public_form_never_gives_a_500(world):
    from audits.models import AuditPlan

    walker = Walker()
    client_user = world.users["client"]
    organization = client_user.organization
    application = organization.applications.order_by("pk").first()
    nc_client = world.nc.audit.programme.organization.users.first()
    urls = [
        reverse("applications_portal:new"),
        reverse("certificates:portal_appeal_new"),
        reverse("certificates:portal_request_new"),
    ]
    if application is not None:
        urls += [
            reverse("applications_portal:documents", args=[application.pk]),
            reverse("applications_portal:sign", args=[application.pk]),
        ]
    walker.login(client_user)
    walked = sum(walker.post_junk(url) for url in urls)
    for url in [reverse("applications_portal:list"), reverse("certificates:portal_requests")]:
        for value in QUERY_JUNK:
            walker.get(url, {"page": value, "q": value, "status": value})
    plan = AuditPlan.objects.filter(audit__programme__organization=organization).first()
    if plan is not None:
        walked += walker.post_junk(reverse("audits_client:plan_confirm", args=[plan.pk]))

    walker.login(nc_client)
    walked += walker.post_junk(reverse("audits_portal:answer", args=[world.nc.pk]))

    walker.login(None)
    walked += walker.post_junk(reverse("certificates:complaint_new"))

    assert not walker.failures, "\n".join(walker.failures)
    assert walked >= 4
