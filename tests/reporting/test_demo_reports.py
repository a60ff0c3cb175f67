"""seed_demo's reports: one of each kind, generated through the services, one overdue, the
others submitted; the monthly report's team columns filled from the personnel records."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from certbody.models import CertificationBody
from reporting.models import PersonnelRecord, ReportRun
from tests.demo_snapshot import load_demo

# The worker that builds the demo for the browser tests restores it here (tests/demo_snapshot.py).
pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="module")
def seeded(django_db_setup, base_data_committed, django_db_blocker, tmp_path_factory):
    cache.delete(CertificationBody.CACHE_KEY)
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("demo-media")),
        transaction.atomic(),
    ):
        load_demo()
        yield
        transaction.set_rollback(True)
    cache.delete(CertificationBody.CACHE_KEY)


@pytest.fixture
def demo(seeded, db):
    return seeded


def test_one_report_of_each_kind(demo):
    # every kind but the platform upload, which is generated on request only (issue #17)
    assert set(ReportRun.objects.values_list("kind", flat=True)) == set(ReportRun.Kind.values) - {
        ReportRun.Kind.PLATFORM_UPLOAD
    }
    for run in ReportRun.objects.all():
        assert run.file and run.csv_file


def test_one_overdue_and_the_others_submitted(demo):
    overdue = [run for run in ReportRun.objects.all() if run.is_overdue()]
    assert [run.kind for run in overdue] == [ReportRun.Kind.ORGANISATIONS_MONTHLY]
    submitted = ReportRun.objects.filter(state=ReportRun.State.SUBMITTED)
    assert submitted.count() == ReportRun.objects.count() - 1
    assert all(run.receipt_number and run.submitted_by.username == "reporting" for run in submitted)


def test_periodic_reports_come_from_the_job_as_the_system_user(demo):
    monthly = ReportRun.objects.get(kind=ReportRun.Kind.ORGANISATIONS_MONTHLY)
    assert monthly.generated_by.username == "system"
    assert monthly.period_label == "2026年10月"


def test_auditors_have_personnel_records(demo):
    assert PersonnelRecord.objects.exclude(id_number="").count() >= 4
