"""generate_data: exactly N certificates, valid numbers and USCCs, sequences that real issues
continue, a realistic status mix, and the 9,999-a-year limit of the 4-digit sequence."""

import io
from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Max
from stdnum.cn import uscc

from applications.models import Organization
from audits.models import Audit, AuditProgramme
from certbody.dates import add_months
from certbody.models import CertificationBody
from certificates.models import Certificate, CertificateEvent, CertificateSequence
from certificates.numbering import parse_number
from demo.generate_plan import (
    ANCHOR,
    MAX_SEQUENCE,
    Planner,
    assign_sequences,
)
from demo.plan import CB_PROFILE
from tests.certificates.factories import issued_certificate

N = 200


def generate(n=N, **options):
    out = io.StringIO()
    call_command("generate_data", certificates=n, stdout=out, **options)
    return out.getvalue()


@pytest.fixture(scope="module")
def generated_once(django_db_setup, base_data_committed, django_db_blocker):
    """N certificates generated once for the module, rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        cache.delete(CertificationBody.CACHE_KEY)
        CertificationBody.objects.create(**CB_PROFILE)
        yield generate()
        transaction.set_rollback(True)
    cache.delete(CertificationBody.CACHE_KEY)


@pytest.fixture
def generated(generated_once, db):
    return generated_once


def test_creates_exactly_n_certificates_with_unique_valid_numbers(generated):
    numbers = list(Certificate.objects.values_list("number", flat=True))
    assert len(numbers) == N == len(set(numbers))
    for certificate in Certificate.objects.select_related("head"):
        parsed = parse_number(certificate.number)
        assert str(parsed) == certificate.number
        assert (parsed.year, parsed.sequence, parsed.cycle) == (
            certificate.year,
            certificate.sequence,
            certificate.cycle,
        )
        assert parsed.approval_no == "0123" and parsed.accreditation == "C"
        if certificate.head_id:
            assert parsed.head == certificate.head.number
    heads = Certificate.objects.filter(head__isnull=True)
    assert heads.values("year", "sequence").distinct().count() == heads.count()
    assert f"{N} certificates" in generated


def test_usccs_are_valid_and_unique(generated):
    codes = list(Organization.objects.values_list("uscc", "division_code"))
    assert len({code for code, _ in codes}) == len(codes)
    for code, division in codes:
        assert uscc.is_valid(code)
        assert code[2:8] == division


def test_status_mix_and_multi_site_clients(generated):
    heads = Certificate.objects.filter(head__isnull=True)
    counts = Counter(heads.values_list("status", flat=True))
    assert set(counts) == {"valid", "suspended", "withdrawn", "cancelled", "expired"}
    assert counts["valid"] / heads.count() > 0.75
    assert Certificate.objects.filter(head__isnull=False).exists()
    assert len(set(heads.values_list("star_grade", flat=True))) == 4


def test_dates_are_consistent(generated):
    assert not Certificate.objects.filter(issued_on__gt=ANCHOR).exists()
    assert not CertificateEvent.objects.filter(occurred_on__gt=ANCHOR).exists()
    in_force = Certificate.objects.filter(status__in=["valid", "suspended"])
    assert not in_force.filter(expires_on__lt=ANCHOR).exists()
    assert not Certificate.objects.filter(status="expired", expires_on__gte=ANCHOR).exists()
    for c in Certificate.objects.filter(status="suspended"):
        assert c.suspended_from <= ANCHOR < c.suspended_until
    for c in Certificate.objects.filter(cycle=0, head__isnull=True)[:50]:
        assert c.expires_on == add_months(c.issued_on, 36) - timedelta(days=1)
    assert Certificate.objects.order_by("issued_on").first().issued_on.year >= 2022


def test_lifecycle_rows_match_the_certificates(generated):
    heads = Certificate.objects.filter(head__isnull=True)
    assert AuditProgramme.objects.count() == heads.count()
    issued = CertificateEvent.objects.filter(kind="issued").count()
    assert issued == Certificate.objects.count()
    assert set(Audit.objects.values_list("state", flat=True)) >= {"closed", "planned"}
    for certificate in heads.select_related("decision__audit", "programme")[:20]:
        assert certificate.decision.outcome == "grant"
        assert certificate.decision.audit.programme_id == certificate.programme_id
        assert certificate.programme.expires_on == certificate.expires_on
        assert certificate.programme.decided_on == certificate.issued_on


def test_protected_state_can_be_set_in_the_constructor_but_not_after_load(generated):
    source = Certificate.objects.filter(head__isnull=True).first()
    built = Certificate(
        number="012399FW9999R0C",
        organization=source.organization,
        year=2099,
        sequence=9999,
        accreditation="C",
        scope_text=source.scope_text,
        star_grade="standard",
        standard=source.standard,
        issued_on=source.issued_on,
        expires_on=source.expires_on,
        status=Certificate.Status.SUSPENDED,
    )
    Certificate.objects.bulk_create([built])
    loaded = Certificate.objects.get(number="012399FW9999R0C")
    assert loaded.status == Certificate.Status.SUSPENDED
    with pytest.raises(AttributeError):
        loaded.status = Certificate.Status.VALID


def test_sequences_are_raised_so_a_real_issue_continues_them(generated):
    for year, highest in (
        Certificate.objects.filter(head__isnull=True)
        .values_list("year")
        .annotate(m=Max("sequence"))
        .values_list("year", "m")
    ):
        assert CertificateSequence.objects.get(year=year).last == highest
    last_2025 = CertificateSequence.objects.get(year=2025).last
    certificate = issued_certificate(decided_on=date(2025, 3, 20))
    assert (certificate.year, certificate.sequence) == (2025, last_2025 + 1)


def test_certificates_carry_the_name_and_address_printed_on_them(generated):
    for certificate in Certificate.objects.select_related("organization")[:50]:
        assert certificate.organization_name == certificate.organization.name
        assert certificate.registered_address == certificate.organization.registered_address


def test_short_of_numbers_organisations_get_superseded_histories(generated):
    for year in range(2001, 2027):
        CertificateSequence.objects.update_or_create(
            year=year, defaults={"last": MAX_SEQUENCE - 100}
        )
    before = Certificate.objects.aggregate(m=Max("pk"))["m"]
    generate(300)
    new = Certificate.objects.filter(pk__gt=before)
    assert new.count() == 300
    superseded = new.filter(status="superseded", head__isnull=True)
    assert superseded.exists()
    for old in superseded:
        assert old.superseded_by.organization_id == old.organization_id
        assert old.superseded_by.cycle == old.cycle + 1
        assert old.superseded_by.issued_on <= old.expires_on
    assert not new.filter(sequence__lte=MAX_SEQUENCE - 100).exists()
    assert new.aggregate(m=Max("sequence"))["m"] <= MAX_SEQUENCE


def test_second_run_adds_new_organisations_and_numbers(generated):
    first = set(Organization.objects.values_list("uscc", flat=True))
    generate(50, seed=7)
    assert Certificate.objects.count() == N + 50
    assert len(set(Organization.objects.values_list("uscc", flat=True)) - first) > 0
    dupes = (
        Certificate.objects.filter(head__isnull=True)
        .values("year", "sequence")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not dupes.exists()


def test_same_seed_same_plan():
    def plan():
        specs = Planner(n=300, seed=11, anchor=ANCHOR, first_serial=700_000_000, used={}).plan()
        assign_sequences(specs, {})
        return [
            (s.name, s.serial, [(c.issued_on, c.status, c.sequence) for c in s.cycles])
            for s in specs
        ]

    assert plan() == plan()


def test_beyond_the_live_years_capacity_organisations_get_recertification_histories():
    # Leave only 300 numbers a year: 2,000 certificates need earlier cycles.
    used = dict.fromkeys(range(2000, 2027), MAX_SEQUENCE - 300)
    specs = Planner(n=2000, seed=1, anchor=ANCHOR, first_serial=700_000_000, used=used).plan()
    last = assign_sequences(specs, used)
    assert sum(s.certificate_count for s in specs) == 2000
    assert max(last.values()) <= MAX_SEQUENCE
    statuses = Counter(c.status for s in specs for c in s.cycles)
    assert statuses["superseded"] > 0
    for spec in specs:
        for previous, current in zip(spec.cycles, spec.cycles[1:], strict=False):
            assert previous.status == "superseded"
            assert current.issued_on <= previous.expires_on < current.expires_on


def test_refuses_when_no_number_is_left():
    used = dict.fromkeys(range(2000, 2030), MAX_SEQUENCE)
    with pytest.raises(CommandError, match="9999"):
        Planner(n=10, seed=1, anchor=ANCHOR, first_serial=700_000_000, used=used).plan()
