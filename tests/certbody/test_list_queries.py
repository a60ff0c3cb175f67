"""Every workspace list page (and its CSV export) runs the same number of queries with 10 rows
as with 60 (constant query count per page whatever the number of rows). 60 rows are more than
two pages, and the export writes every row: one query per row would add 50. (Speed at 100,000
rows is the benchmark's job, ``make bench``.)

Rows are copies of the world's record for the desk (tests.certbody.world), written with
``bulk_create``: the list pages only read them. Every registered desk must have a builder
here: a desk without one fails (never skips), so a new list cannot escape the test.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import (
    Application,
    ContactPerson,
    Contract,
    Invoice,
    Organization,
    Site,
)
from applications.validators import build_uscc
from audits.models import (
    AsrpProgramme,
    Audit,
    Auditor,
    AuditProgramme,
    IndicatorCatalogue,
    Nonconformity,
)
from certbody.models import OutgoingEmail, User
from certbody.workspace import DESKS
from certificates.models import (
    Appeal,
    Certificate,
    ClientRequest,
    Decision,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
    new_token,
)
from reporting.models import AccreditationObligation, CbChange, PersonnelRecord, ReportRun
from tests.certbody.world import World, desk_request
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

FEW, MANY = 10, 60


def copies(base, numbers, *, omit=(), **varying):
    """Unsaved copies of ``base``, one per number: every concrete field copied except the
    primary key and ``omit`` (left to their defaults); ``varying[name](n)`` sets the rest."""
    model = type(base)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in omit]
    rows = []
    for n in numbers:
        values = {f.attname: getattr(base, f.attname) for f in fields}
        values.update({name: make(n) for name, make in varying.items()})
        rows.append(model(**values))
    return rows


def bulk(base, numbers, **kwargs):
    return type(base).objects.bulk_create(copies(base, numbers, **kwargs))


def applications(world, numbers):
    return bulk(world.application, numbers, reference=lambda n: f"SQ-BULK-{n:05d}")


def contracts(world, numbers):
    contract = Contract.objects.get(application=world.application)
    parents = iter(applications(world, numbers))
    return bulk(
        contract,
        numbers,
        application_id=lambda n: next(parents).pk,
        number=lambda n: f"HT-BULK-{n:05d}",
    )


def asrp_programmes(world, numbers):
    parents = iter(programmes(world, numbers))
    return bulk(world.asrp, numbers, programme_id=lambda n: next(parents).pk)


def catalogues(world, numbers):
    base = IndicatorCatalogue.objects.get(is_current=True)
    return bulk(base, numbers, version=lambda n: f"BULK-{n:05d}", is_current=lambda n: False)


def programmes(world, numbers):
    programme = world.certificate.programme
    parents = iter(applications(world, numbers))
    return bulk(
        programme,
        numbers,
        application_id=lambda n: next(parents).pk,
        cycle=lambda n: 100 + n,
    )


def auditors(world, numbers):
    auditor = Auditor.objects.get(user=world.staff.leader)
    users = iter(
        User.objects.bulk_create(
            User(username=f"bulk-auditor-{n}", display_name=f"审核员{n}", is_staff=True)
            for n in numbers
        )
    )
    return bulk(
        auditor,
        numbers,
        user_id=lambda n: next(users).pk,
        registration_number=lambda n: f"2024-FW-B{n:05d}",
    )


def personnel(world, numbers):
    """A personnel record each for as many new auditors (one record per auditor)."""
    numbers = list(numbers)
    new_auditors = iter(auditors(world, [10_000 + n for n in numbers]))
    return bulk(world.personnel, numbers, auditor_id=lambda n: next(new_auditors).pk)


# Desk key → how to add rows numbered ``numbers`` to the desk's list.
BUILDERS = {
    "asrp": asrp_programmes,
    "catalogues": catalogues,
    "organizations": lambda w, numbers: bulk(
        w.certificate.organization,
        numbers,
        name=lambda n: f"批量测试公司{n:05d}",
        uscc=lambda n: build_uscc("110105", 70_000 + n),
    ),
    "applications": applications,
    "contracts": contracts,
    "programmes": programmes,
    # Completed stage 2 audits: rows of the audits list and of the decisions to make.
    "audits": lambda w, numbers: bulk(w.stage2, numbers, sequence=lambda n: 10 + n),
    "decisions": lambda w, numbers: bulk(w.stage2, numbers, sequence=lambda n: 10 + n),
    "nonconformities": lambda w, numbers: bulk(w.nc, numbers, number=lambda n: 10 + n),
    "auditors": auditors,
    "decided": lambda w, numbers: bulk(w.certificate.decision, numbers),
    "certificates": lambda w, numbers: bulk(
        w.certificate,
        numbers,
        omit=("token",),
        number=lambda n: f"BULK{n:06d}",
        sequence=lambda n: 5_000 + n,
        token=lambda n: new_token(),
    ),
    # One open proposal per certificate and action (a constraint): the copies are closed ones.
    "proposals": lambda w, numbers: bulk(w.proposal, numbers, state=lambda n: "dismissed"),
    "appeals": lambda w, numbers: bulk(w.appeal, numbers, reference=lambda n: f"SS-B{n:06d}"),
    "regulatory-events": lambda w, numbers: bulk(w.event, numbers),
    "requests": lambda w, numbers: bulk(w.request, numbers),
    "reports": lambda w, numbers: bulk(
        w.run, numbers, period_start=lambda n: w.run.period_start - timedelta(days=n + 1)
    ),
    "cb-changes": lambda w, numbers: bulk(w.cb_change, numbers),
    "personnel": personnel,
    "obligations": lambda w, numbers: bulk(w.obligation, numbers),
    "outbox": lambda w, numbers: bulk(w.outgoing_email, numbers),
    "invoices": lambda w, numbers: bulk(w.invoice, numbers, number=lambda n: f"FP-BULK-{n:05d}"),
    "sites": lambda w, numbers: bulk(w.site, numbers, name=lambda n: f"批量网点{n:05d}"),
    "contacts": lambda w, numbers: bulk(w.contact, numbers, is_primary=lambda n: False),
    "cnas-obligations": lambda w, numbers: bulk(w.cnas_obligation, numbers),
}
MODELS = {
    "asrp": AsrpProgramme,
    "catalogues": IndicatorCatalogue,
    "organizations": Organization,
    "applications": Application,
    "contracts": Contract,
    "programmes": AuditProgramme,
    "audits": Audit,
    "decisions": Audit,
    "nonconformities": Nonconformity,
    "auditors": Auditor,
    "decided": Decision,
    "certificates": Certificate,
    "proposals": Proposal,
    "appeals": Appeal,
    "regulatory-events": RegulatoryEvent,
    "requests": ClientRequest,
    "reports": ReportRun,
    "cb-changes": CbChange,
    "personnel": PersonnelRecord,
    "obligations": ReportingObligation,
    "outbox": OutgoingEmail,
    "invoices": Invoice,
    "sites": Site,
    "contacts": ContactPerson,
    "cnas-obligations": AccreditationObligation,
}


@shared_fixture
def world(cb):
    return World()


def test_every_desk_has_a_row_builder():
    """The list of desks this test walks is the registry itself: none is left out."""
    assert DESKS, "no desks registered"
    assert sorted(set(DESKS) - set(BUILDERS)) == []
    assert sorted(k for k in DESKS if MODELS.get(k) is not DESKS[k].model) == []


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize("key", sorted(DESKS))
def test_list_page_runs_as_many_queries_for_60_rows_as_for_10(
    client, world, key, django_assert_max_num_queries
):
    desk = DESKS[key]
    assert key in BUILDERS and MODELS.get(key) is desk.model, (
        f"desk {key!r} ({desk.model.__name__}): add a bulk row builder to BUILDERS and MODELS"
    )
    client.force_login(world.superuser)
    url = reverse("workspace:list", args=[key])
    rows = desk.queryset(desk_request(desk, world.superuser))
    have = rows.count()
    assert have >= 1, f"the world has no row for desk {key!r}"

    BUILDERS[key](world, range(FEW - have))
    assert rows.count() == FEW
    page, export = queries(client, url), queries(client, f"{url}?export=csv")

    BUILDERS[key](world, range(FEW, MANY))
    assert rows.count() >= MANY
    with django_assert_max_num_queries(page):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(export):
        assert client.get(f"{url}?export=csv").status_code == 200


# Searches and date ranges of the lists (issue #14), each matching every row of the world's
# copies: the team-member and contact-person searches are subqueries, not joins per row.
SEARCHES = {
    "applications": "q=有限公司&submitted_at_after=2000-01-01",
    "audits": "q=公司&planned_start_after=2000-01-01&planned_start_before=2100-01-01",
    "organizations": "q=公司",
    "nonconformities": "due_on_after=2000-01-01&raised_on_before=2100-01-01",
    "appeals": "received_on_after=2000-01-01",
    "reports": "due_on_before=2100-01-01",
}


@pytest.mark.parametrize("key", sorted(SEARCHES))
def test_searched_and_dated_lists_run_as_many_queries_for_60_rows_as_for_10(
    client, world, key, django_assert_max_num_queries
):
    desk = DESKS[key]
    client.force_login(world.superuser)
    url = f"{reverse('workspace:list', args=[key])}?{SEARCHES[key]}"
    rows = desk.queryset(desk_request(desk, world.superuser))
    BUILDERS[key](world, range(FEW - rows.count()))
    first = client.get(url)
    assert first.context["table"].paginator.count >= 1, url
    page = queries(client, url)

    BUILDERS[key](world, range(FEW, MANY))
    with django_assert_max_num_queries(page):
        response = client.get(url)
    assert response.context["table"].paginator.count > first.context["table"].paginator.count
