"""``manage.py generate_data --certificates N [--seed S] [--batch B]``: benchmark data.

Fast and deterministic (``random.Random(seed)``) bulk data for benchmarks (10,000 to 100,000
certificates). **This is the one place that bypasses the services**: rows of Organization,
Site, Application (+ review, contract), AuditProgramme, Audit (+ team), Decision, Certificate
(+ business scopes) and CertificateEvent are inserted directly, state columns included. No
history rows, no PDFs, no notices. Use ``seed_demo`` for demo data.

The rows are written with ``executemany`` through Django's connection, primary keys given here
(``Table``), which is several times faster than ``bulk_create`` with model instances (that works
too: django-fsm's ``protected`` only refuses re-assigning a state after load, so
``Certificate(status="suspended")`` in a ``bulk_create`` is fine). Because ids are given here,
run it with no other writer; on PostgreSQL the id sequences are reset at the end.

What is generated:

- ``N`` is the number of **certificate rows**, sub-certificates included: the database ends up
  with exactly N more certificates.
- Each organisation has one certificate per certification cycle (R0, R1 …) plus, for ~5 % of
  them (multi-site), one sub-certificate per extra site and cycle. Valid USCCs built with
  ``build_uscc`` from real division codes, serials from 700,000,000 up, continuing after the
  largest one already present (seed_demo uses 300,000,000 + n, the test factories 10,000 + n).
- Status of each organisation's current certificate: ~85 % valid (5 % of them with a past
  suspension and restoration), 5 % suspended (the period running over the anchor date), 4 %
  withdrawn (often after a suspension), 3 % cancelled, 3 % expired; earlier cycles are superseded.
  Star grades mixed. Expiry = issue + 3 years − 1 day (R0) or the previous expiry + 3 years (R1 …),
  as ``certificate_issue`` does. Every date is on or before the anchor date, 2026-11-15 (or today
  if earlier); valid and suspended certificates are issued so that they expire after it.
- Numbers come from ``numbering.format_number`` with the CB's prefix; sequences are given per
  issue year in date order, continuing after ``CertificateSequence.last``, and the sequence rows
  are raised to the highest number used, so later real issues continue after them.

The 4-digit sequence allows at most 9,999 head certificates a year (004 Appendix C). Up to
about 27,000 certificates fit in the three years a valid certificate can have been issued in,
with the mix above and issue dates 2022–2026 (the expired ones were issued in 2022–23). Above
that, organisations get recertification histories (superseded R0, R1 … going back as many years
as the numbers need, at most 80 % of a year's numbers used by current certificates), so at
100,000 most rows are superseded predecessors and about a fifth belong to current cycles: the
CB's yearly numbering capacity, not the generator, is the limit. When no number is left in a
year a current certificate needs, the command stops before writing anything.

Running it again adds another N certificates with new USCCs and numbers (it never refuses).
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from functools import partial

from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.db.models.functions import Substr
from django.utils import timezone

from applications.models import Application, ApplicationReview, Contract, Organization, Site
from applications.validators import build_uscc
from audits import rules
from audits.models import Audit, AuditProgramme, AuditTeamMember
from certbody import roles
from certbody.lifecycle import system_user
from certbody.models import BusinessScope, User
from certificates import numbering
from certificates.models import Certificate, CertificateEvent, CertificateSequence, Decision
from certificates.public_rows import public_rows_refresh
from demo.build import register_auditors
from demo.generate_plan import (
    ANCHOR,
    POOL_AUDITORS,
    POOL_DECIDERS,
    SERIAL_BASE,
    Cycle,
    OrgSpec,
    Planner,
    assign_sequences,
)
from demo.plan import (
    GIVEN_NAMES,
    SURNAMES,
    ensure_certification_body,
)

# --- pass 3: rows -------------------------------------------------------------------------


@dataclass(slots=True)
class Client:
    """Ids and texts of one generated organisation that its cycles' rows refer to."""

    org: int
    name: str
    address: str
    legal: str
    sites: list[int]
    site_scope: str
    scopes: list[int]
    head_ids: list[int]


def _aware(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, dtime(hour, 0)))


class Table:
    """Rows of one model with primary keys given here, inserted with ``executemany``.

    Every concrete field gets a value: the one passed to ``add``, else its default (callables
    such as Certificate.token's are called per row; ``auto_now_add`` fields get ``now``).
    Dates, datetimes and decimals are adapted with the backend's own ``connection.ops``.
    """

    def __init__(self, model, now: datetime):
        self.model = model
        ops = connection.ops
        self.spec = []
        for f in model._meta.concrete_fields:
            factory, default, convert = None, None, None
            if getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                default = now
            elif f.has_default():
                if callable(f.default):
                    factory = f.default
                else:
                    default = f.default
            elif f.empty_strings_allowed and not f.null:
                default = ""
            internal = f.get_internal_type()
            if internal == "DateTimeField":
                convert = ops.adapt_datetimefield_value
            elif internal == "DateField":
                convert = ops.adapt_datefield_value
            elif internal == "DecimalField":
                convert = partial(
                    ops.adapt_decimalfield_value,
                    max_digits=f.max_digits,
                    decimal_places=f.decimal_places,
                )
            self.spec.append((f.attname, default, factory, convert))
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
        marks = ", ".join(["%s"] * len(self.spec))
        self.sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
        self.next_id = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.rows: list[tuple] = []
        self.written = 0

    def reserve(self) -> int:
        """An id for a row added later with ``add(id=…)`` (to point at it before)."""
        self.next_id += 1
        return self.next_id - 1

    def add(self, **values) -> int:
        if "id" not in values:
            values["id"] = self.reserve()
        pk = values["id"]
        row = []
        for attname, default, factory, convert in self.spec:
            value = values[attname] if attname in values else (factory() if factory else default)
            if convert is not None and value is not None:
                value = convert(value)
            row.append(value)
        self.rows.append(tuple(row))
        return pk

    def flush(self, cursor) -> None:
        for start in range(0, len(self.rows), 5000):
            cursor.executemany(self.sql, self.rows[start : start + 5000])
        self.written += len(self.rows)
        self.rows.clear()


class Writer:
    """Pass 3: planned organisations → rows, inserted one transaction per chunk."""

    # Parents before children (foreign keys).
    MODELS = (
        Organization,
        Organization.business_scopes.through,
        Site,
        Application,
        Application.business_scopes.through,
        ApplicationReview,
        Contract,
        AuditProgramme,
        Audit,
        AuditTeamMember,
        Decision,
        Certificate,
        Certificate.business_scopes.through,
        CertificateEvent,
    )

    def __init__(self, *, seed: int, anchor: date, cb, scopes: dict[int, int], people):
        self.rng = random.Random(seed + 1)
        self.anchor = anchor
        self.cb = cb
        self.scopes = scopes  # code → pk
        self.market, self.auditors, self.deciders, self.system = people
        now = timezone.now()
        self.tables = {model: Table(model, now) for model in self.MODELS}
        self.days_cache: dict[tuple[int, str], Decimal] = {}

    @property
    def counts(self) -> Counter:
        return Counter({m._meta.label: t.written for m, t in self.tables.items()})

    def add(self, model, **values) -> int:
        return self.tables[model].add(**values)

    def days(self, headcount: int, audit_type: str) -> Decimal:
        key = (headcount, audit_type)
        if key not in self.days_cache:
            self.days_cache[key] = rules.table_days(headcount, audit_type)
        return self.days_cache[key]

    def write(self, specs: list[OrgSpec]) -> None:
        for spec in specs:
            self._organisation(spec)
        last = defaultdict(int)
        for spec in specs:
            for cycle in spec.cycles:
                last[cycle.issued_on.year] = max(last[cycle.issued_on.year], cycle.sequence)
        with transaction.atomic(), connection.cursor() as cursor:
            for model in self.MODELS:
                self.tables[model].flush(cursor)
            for year, highest in last.items():
                CertificateSequence.objects.bulk_create(
                    [CertificateSequence(year=year, last=0)], ignore_conflicts=True
                )
                CertificateSequence.objects.filter(year=year, last__lt=highest).update(last=highest)

    def finish(self) -> None:
        """Move the database's id sequences past the ids given here (PostgreSQL)."""
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.MODELS))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def _organisation(self, spec: OrgSpec) -> None:
        rng = self.rng
        code, city, prefix, postcode, area, streets = spec.division
        address = f"{prefix}{spec.street}{rng.randint(1, 1500)}号"
        legal = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        org = self.add(
            Organization,
            name=spec.name,
            uscc=build_uscc(code, spec.serial),
            registered_address=address,
            postcode=postcode,
            division_code=code,
            industry="批发和零售业",
            legal_representative=legal,
            contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
            contact_phone=f"{area}-{rng.randint(10_000_000, 89_999_999)}",
            contact_email=f"service@c{spec.serial}.example.cn",
            headcount=spec.headcount,
        )
        scope_codes, _, scope_text = spec.industry
        scopes = [self.scopes[c] for c in scope_codes if c in self.scopes]
        for scope in scopes:
            self.add(
                Organization.business_scopes.through, organization_id=org, businessscope_id=scope
            )
        short = spec.name.removesuffix("有限公司").removeprefix(city)
        site_scope = scope_text.replace("的销售", "的零售", 1)
        sites = [
            self.add(
                Site,
                organization_id=org,
                name=f"{short}总部",
                address=address,
                division_code=code,
                headcount=spec.headcount,
                is_head_office=True,
            )
        ]
        for k in range(1, spec.extra_sites + 1):
            street = rng.choice(streets)
            sites.append(
                self.add(
                    Site,
                    organization_id=org,
                    name=f"{short}{street}第{k}门店",
                    address=f"{prefix}{street}{rng.randint(1, 900)}号",
                    division_code=code,
                    headcount=rng.randint(8, 60),
                    scope_text=site_scope,
                )
            )
        client = Client(
            org=org,
            name=spec.name,
            address=address,
            legal=legal,
            sites=sites,
            site_scope=site_scope,
            scopes=scopes,
            # Ids of each cycle's head certificate, so a superseded one can point at its successor.
            head_ids=[self.tables[Certificate].reserve() for _ in spec.cycles],
        )
        for j, cycle in enumerate(spec.cycles):
            self._cycle(spec, client, j, cycle)

    def _cycle(self, spec: OrgSpec, client: Client, j: int, cycle: Cycle) -> None:
        org, legal, scopes = client.org, client.legal, client.scopes
        rng = self.rng
        d = cycle.issued_on
        last = j == len(spec.cycles) - 1
        kind = Application.Kind.INITIAL if j == 0 else Application.Kind.RECERTIFICATION
        applied = d - timedelta(days=rng.randint(80, 120))
        application = self.add(
            Application,
            organization_id=org,
            reference=f"SQ{applied.year}G{spec.serial:09d}{j}",
            kind=kind,
            scope_text=spec.industry[2],
            requested_grade=spec.grade,
            headcount=spec.headcount,
            state=Application.State.ACCEPTED,
            submitted_at=_aware(applied),
            decided_at=_aware(applied + timedelta(days=5)),
            created_by_id=self.market,
        )
        for scope in scopes:
            self.add(
                Application.business_scopes.through,
                application_id=application,
                businessscope_id=scope,
            )
        self.add(
            ApplicationReview,
            application_id=application,
            reviewer_id=self.market,
            reviewed_at=_aware(applied + timedelta(days=4)),
            **dict.fromkeys(ApplicationReview.CHECKS, True),
        )
        self.add(
            Contract,
            application_id=application,
            number=f"HT{applied.year}G{spec.serial:09d}{j}",
            fee=Decimal(rng.choice((18000, 22000, 26000, 32000, 45000))),
            state=Contract.State.SIGNED,
            signed_on=applied + timedelta(days=8),
            signed_by_client=legal,
        )
        ended = cycle.status in ("superseded", "withdrawn", "cancelled", "expired")
        programme = self.add(
            AuditProgramme,
            organization_id=org,
            application_id=application,
            cycle=j,
            state=AuditProgramme.State.CLOSED if ended else AuditProgramme.State.ACTIVE,
            # as programme_create / programme_plan_cycle record them
            headcount=spec.headcount,
            decided_on=d,
            expires_on=cycle.expires_on,
            recert_application_due=rules.recertification_application_due(cycle.expires_on),
        )
        leader, member = rng.sample(self.auditors, 2)
        decider = rng.choice(self.deciders)
        start = d - timedelta(days=rng.randint(12, 25))
        end = start + timedelta(days=1)
        if j == 0:
            review_on = d - timedelta(days=rng.randint(40, 60))
            self._audit(
                programme,
                Audit.Kind.DOCUMENT_REVIEW,
                review_on,
                review_on,
                Decimal("0.5"),
                [leader],
            )
            days = self.days(spec.headcount, "initial")
            main = self._audit(programme, Audit.Kind.STAGE2, start, end, days, [leader, member])
        else:
            days = self.days(spec.headcount, "recertification")
            main = self._audit(
                programme, Audit.Kind.RECERTIFICATION, start, end, days, [leader, member]
            )
        decision = self.add(
            Decision,
            audit_id=main,
            outcome=Decision.Outcome.GRANT,
            decided_by_id=decider,
            decided_on=d,
            star_grade=spec.grade,
            reasons="审核组推荐，材料齐全，批准认证。",
        )
        # Surveillance 1 and 2 as programme_plan_cycle plans them (004 §5.7.3, §5.4.1.5).
        s1_due = rules.next_surveillance_due(d)
        s2_due = min(rules.next_surveillance_due(d, s1_due), cycle.expires_on)
        stop = cycle.ends_on or self.anchor
        surveillance_days = self.days(spec.headcount, "surveillance")
        for sequence, due in ((1, s1_due), (2, s2_due)):
            start = due - timedelta(days=rng.randint(15, 45))
            decided_on = start + timedelta(days=rng.randint(6, 14))
            if decided_on < stop and decided_on <= self.anchor:
                audit = self._audit(
                    programme,
                    Audit.Kind.SURVEILLANCE,
                    start,
                    start + timedelta(days=1),
                    surveillance_days,
                    [rng.choice(self.auditors)],
                    sequence=sequence,
                    due_on=due,
                )
                self.add(
                    Decision,
                    audit_id=audit,
                    outcome=Decision.Outcome.MAINTAIN,
                    decided_by_id=decider,
                    decided_on=decided_on,
                )
            elif not ended:
                self._planned(programme, Audit.Kind.SURVEILLANCE, due, surveillance_days, sequence)
            elif cycle.status != "superseded":
                self._planned(
                    programme,
                    Audit.Kind.SURVEILLANCE,
                    due,
                    surveillance_days,
                    sequence,
                    terminated=cycle.status_reason,
                )
        if last:
            # The next cycle's recertification, planned as programme_plan_cycle does.
            recert_days = self.days(spec.headcount, "recertification")
            due = cycle.expires_on - timedelta(days=1)
            reason = ""
            if ended:
                reason = (
                    "获证组织未申请再认证" if cycle.status == "expired" else cycle.status_reason
                )
            self._planned(
                programme, Audit.Kind.RECERTIFICATION, due, recert_days, 1, terminated=reason
            )
        self._certificates(spec, client, programme, decision, decider, j, cycle)

    def _audit(self, programme, kind, start, end, days, team, *, sequence=1, due_on=None) -> int:
        audit = self.add(
            Audit,
            programme_id=programme,
            kind=kind,
            sequence=sequence,
            due_on=due_on,
            planned_start=start,
            planned_end=end,
            actual_start=start,
            actual_end=end,
            planned_days=days,
            plan_report_due=rules.plan_report_due(start),
            decision_due_on=rules.initial_decision_due(end) if kind == Audit.Kind.STAGE2 else None,
            state=Audit.State.CLOSED,
            findings_summary="未发现严重不符合项。",
            recommendation_positive=True,
        )
        for user, role in zip(
            team, (AuditTeamMember.Role.LEADER, AuditTeamMember.Role.AUDITOR), strict=False
        ):
            self.add(AuditTeamMember, audit_id=audit, user_id=user, role=role)
        return audit

    def _planned(self, programme, kind, due, days, sequence, *, terminated: str = "") -> None:
        self.add(
            Audit,
            programme_id=programme,
            kind=kind,
            sequence=sequence,
            due_on=due,
            planned_days=days,
            state=Audit.State.TERMINATED if terminated else Audit.State.PLANNED,
            termination_reason=terminated,
        )

    def _certificates(self, spec, client: Client, programme, decision, decider, j, cycle) -> None:
        cb = self.cb
        successor = client.head_ids[j + 1] if j + 1 < len(client.head_ids) else None
        common = {
            "organization_id": client.org,
            "organization_name": client.name,
            "registered_address": client.address,
            "programme_id": programme,
            "decision_id": decision,
            "year": cycle.issued_on.year,
            "sequence": cycle.sequence,
            "cycle": j,
            "accreditation": cb.accreditation,
            "star_grade": spec.grade,
            "standard": cb.standard,
            "issued_on": cycle.issued_on,
            "expires_on": cycle.expires_on,
            "status": cycle.status,
            "status_changed_on": cycle.status_changed_on,
            "status_reason": cycle.status_reason,
            "suspended_from": cycle.suspended_from,
            "suspended_until": cycle.suspended_until,
        }
        number = numbering.format_number(
            cb.number_prefix, cycle.issued_on.year, cycle.sequence, j, cb.accreditation
        )
        head = self.add(
            Certificate,
            id=client.head_ids[j],
            number=number,
            scope_text=spec.industry[2],
            superseded_by_id=successor,
            **common,
        )
        certificates = [head]
        for k, site in enumerate(client.sites[1:], start=1):
            certificates.append(
                self.add(
                    Certificate,
                    number=f"{number}-{k}",
                    head_id=head,
                    site_id=site,
                    scope_text=client.site_scope,
                    **common,
                )
            )
        for certificate in certificates:
            for scope in client.scopes:
                self.add(
                    Certificate.business_scopes.through,
                    certificate_id=certificate,
                    businessscope_id=scope,
                )
            for event in cycle.events:
                self.add(
                    CertificateEvent,
                    certificate_id=certificate,
                    kind=event.kind,
                    occurred_on=event.on,
                    status_code=event.status_code,
                    change_code=event.change_code,
                    reason_code=event.reason_code,
                    reason=event.reason,
                    cause=event.cause,
                    ends_on=event.ends_on,
                    actor_id=self.system if event.kind == "expired" else decider,
                )


# --- command ------------------------------------------------------------------------------


def _pool_user(username: str, display_name: str, role: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, display_name=display_name, is_staff=True)
        user.set_unusable_password()
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def people(rng: random.Random):
    """The users generated rows refer to: one market clerk, auditors, decision makers, system."""
    market = _pool_user("gen-market", "市场部（生成数据）", roles.MARKET)
    planner = _pool_user("gen-planner", "审核部（生成数据）", roles.AUDIT_DEPARTMENT)
    auditors = [
        _pool_user(
            f"gen-auditor{n:02d}", rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), roles.AUDITOR
        )
        for n in range(1, POOL_AUDITORS + 1)
    ]
    deciders = [
        _pool_user(
            f"gen-decider{n:02d}",
            rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
            roles.DECISION_MAKER,
        )
        for n in range(1, POOL_DECIDERS + 1)
    ]
    register_auditors(auditors, actor=planner, first_number=70001)
    return market.pk, [u.pk for u in auditors], [u.pk for u in deciders], system_user().pk


def next_serial() -> int:
    """The first USCC serial (organisation code part) after every generated one present."""
    highest = (
        Organization.objects.annotate(serial=Substr("uscc", 9, 9))
        .filter(serial__gte=f"{SERIAL_BASE:09d}")
        .aggregate(m=Max("serial"))["m"]
    )
    return max(SERIAL_BASE, int(highest) + 1) if highest and highest.isdigit() else SERIAL_BASE


def generate(*, certificates: int, seed: int = 2026, batch: int = 5000, log=print) -> Counter:
    """Generate ``certificates`` certificate rows (see the module docstring); returns row counts."""
    if certificates < 1:
        raise CommandError("--certificates must be at least 1")
    scopes = dict(BusinessScope.objects.values_list("code", "pk"))
    if not scopes:
        raise CommandError(
            "no business scope categories: run `manage.py migrate` / `load_reference`"
        )
    cb = ensure_certification_body()
    anchor = min(ANCHOR, timezone.localdate())
    used = dict(CertificateSequence.objects.values_list("year", "last"))
    before = Certificate.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    started = time.monotonic()
    specs = Planner(
        n=certificates, seed=seed, anchor=anchor, first_serial=next_serial(), used=used
    ).plan()
    assign_sequences(specs, used)
    log(f"planned {len(specs)} organisations in {time.monotonic() - started:.1f} s")
    writer = Writer(
        seed=seed, anchor=anchor, cb=cb, scopes=scopes, people=people(random.Random(seed))
    )
    chunk, size = [], 0
    for spec in specs:
        chunk.append(spec)
        size += spec.certificate_count
        if size >= batch:
            writer.write(chunk)
            log(f"  {writer.counts['certificates.Certificate']} certificates written")
            chunk, size = [], 0
    if chunk:
        writer.write(chunk)
    writer.finish()
    # The rows went in without save(): build their public rows (certificates.public_rows).
    new = Certificate.objects.filter(pk__gt=before).values_list("pk", flat=True)
    started = time.monotonic()
    with transaction.atomic():
        for i in range(0, len(ids := list(new)), 500):
            public_rows_refresh(ids[i : i + 500])
    log(f"built {len(ids)} public certificate rows in {time.monotonic() - started:.1f} s")
    return writer.counts
