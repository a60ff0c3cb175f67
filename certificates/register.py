"""The public register of certified organisations (004 §9.4; 002 §4.1.2): what the register
page, its CSV download and the monthly list of status changes read.

Only public fields leave this module: what the certificate itself and the verification page
show (number, organisation name and USCC, registered address, province, business scope
categories, scope, star grade, status with its dates and public reason, issue and expiry
dates). Contact persons, phones and ID numbers are never selected (``REGISTER_FIELDS``).

Filters and sorting come from the query string and are read through ``RegisterFilter``: a value
that is not one of the offered choices is ignored (and named on the page), never an error.
Every query here is constant in the number of rows (select_related / prefetch_related).
"""

from dataclasses import dataclass, field
from datetime import date

from django import forms
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES
from certbody import spreadsheets
from certbody.dates import add_months
from certbody.models import BusinessScope
from certbody.regions import PROVINCES
from certificates.models import Certificate, CertificateEvent
from certificates.public import EVENT_LABELS, STATUS_TEXT, event_text, organization_name

Status = Certificate.Status

PAGE_SIZE = 50
# Certificates an organisation holds today: a suspended one is still on the register, marked.
CURRENT_STATUSES = (Status.VALID, Status.SUSPENDED)
ALL_STATUSES = "all"
EARLIEST_YEAR = 2000

# The columns read from the database: public fields only (no contact person, phone, e-mail,
# legal representative or headcount of the organisation).
REGISTER_FIELDS = (
    "number",
    "organization_name",
    "registered_address",
    "head__number",
    "organization__name",
    "organization__uscc",
    "organization__registered_address",
    "organization__division_code",
    "scope_text",
    "star_grade",
    "standard",
    "issued_on",
    "expires_on",
    "status",
    "status_changed_on",
    "status_reason",
    "suspended_from",
    "suspended_until",
    "token",
)

# Sort key offered in the query string → the ORDER BY (the number breaks ties, so pages are
# stable). Anything else falls back to DEFAULT_SORT.
SORTS = {
    "organization": ("organization_name", "number"),
    "-organization": ("-organization_name", "-number"),
    "number": ("number",),
    "-number": ("-number",),
    "issued": ("issued_on", "number"),
    "-issued": ("-issued_on", "-number"),
    "expires": ("expires_on", "number"),
    "-expires": ("-expires_on", "-number"),
}
DEFAULT_SORT = "organization"
SORT_LABELS = {
    "organization": _("Organisation (A–Z)"),
    "-organization": _("Organisation (Z–A)"),
    "number": _("Certificate number (ascending)"),
    "-number": _("Certificate number (descending)"),
    "issued": _("Issue date (oldest first)"),
    "-issued": _("Issue date (newest first)"),
    "expires": _("Expiry date (soonest first)"),
    "-expires": _("Expiry date (latest first)"),
}

# 004 §9.4: the status changes the CB publishes, month by month.
CHANGE_KINDS = (
    CertificateEvent.Kind.SUSPENDED,
    CertificateEvent.Kind.RESTORED,
    CertificateEvent.Kind.WITHDRAWN,
    CertificateEvent.Kind.CANCELLED,
)


def province_name(division_code: str) -> str:
    """The province of a six-digit division code (``certbody.regions``), "" when unknown."""
    return PROVINCES.get((division_code or "")[:2], "")


def status_choices() -> list[tuple[str, str]]:
    """The status filter's choices: "" (current: valid or suspended), each status, "all"."""
    return [
        ("", gettext("Current (valid or suspended)")),
        *[(s.value, str(STATUS_TEXT[s][0])) for s in Status],
        (ALL_STATUSES, gettext("All statuses")),
    ]


class RegisterFilter(forms.Form):
    """The register's query string: ``region`` (2-digit province code), ``scope`` (business
    scope category code), ``grade``, ``status``, ``year`` (of issue), ``sort``.

    Bound to ``request.GET``; ``filters()`` keeps the valid values and ``ignored()`` names the
    others, which are then left out (a bad link never fails the page)."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    scope = forms.TypedChoiceField(
        label=_("Business scope"), required=False, coerce=int, empty_value=None
    )
    grade = forms.ChoiceField(label=_("Star grade"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    year = forms.IntegerField(label=_("Year of issue"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, data=None, *, scopes=None):
        super().__init__(data)
        f = self.fields
        f["region"].choices = [("", gettext("All regions")), *sorted(PROVINCES.items())]
        if scopes is None:
            scopes = BusinessScope.objects.values_list("code", "name")
        f["scope"].choices = [("", gettext("All business scopes"))] + [
            (code, f"{code:02d} {name}") for code, name in scopes
        ]
        f["grade"].choices = [("", gettext("All grades")), *GRADE_CHOICES]
        f["status"].choices = status_choices()
        this_year = timezone.localdate().year
        f["year"].validators = [*f["year"].validators, _year_validator(this_year)]
        f["year"].widget.attrs.update({"min": EARLIEST_YEAR, "max": this_year + 1})
        f["sort"].choices = list(SORT_LABELS.items())

    def filters(self) -> dict:
        """The valid values given (empty ones left out), e.g. ``{"region": "32", "year": 2025}``."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            name: value
            for name, value in cleaned.items()
            if name not in self.errors and value not in (None, "")
        }

    def ignored(self) -> list[str]:
        """The labels of the parameters whose value was not valid (and is ignored)."""
        self.is_valid()
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]


def _year_validator(this_year: int):
    def validate(value):
        if value is not None and not EARLIEST_YEAR <= value <= this_year + 1:
            raise forms.ValidationError(gettext("Not a year of issue."))

    return validate


def filtered_certificates(filters: dict) -> QuerySet:
    """Certificates on the register for ``filters`` (``RegisterFilter.filters()``), unsorted.

    No status filter: valid and suspended certificates; ``"all"``: every status. The region is
    the province of the organisation's division code (its first two digits).
    """
    status = filters.get("status", "")
    qs = Certificate.objects.all()
    if status == ALL_STATUSES:
        pass
    elif status:
        qs = qs.filter(status=status)
    else:
        qs = qs.filter(status__in=CURRENT_STATUSES)
    if region := filters.get("region"):
        qs = qs.filter(organization__division_code__startswith=region)
    if (scope := filters.get("scope")) is not None:
        qs = qs.filter(business_scopes__code=scope)
    if grade := filters.get("grade"):
        qs = qs.filter(star_grade=grade)
    if year := filters.get("year"):
        qs = qs.filter(issued_on__gte=date(year, 1, 1), issued_on__lt=date(year + 1, 1, 1))
    return qs


def ordering(filters: dict) -> tuple[str, ...]:
    """The ORDER BY of the whitelisted ``filters["sort"]`` (``DEFAULT_SORT`` otherwise)."""
    return SORTS.get(filters.get("sort", ""), SORTS[DEFAULT_SORT])


def register_queryset(filters: dict) -> QuerySet:
    """``filtered_certificates`` sorted, carrying the public fields only (``REGISTER_FIELDS``)
    and their business scopes, prefetched: the rows of the register page."""
    return (
        filtered_certificates(filters)
        .select_related("organization", "head")
        .only(*REGISTER_FIELDS)
        .prefetch_related(
            Prefetch("business_scopes", queryset=BusinessScope.objects.only("code", "name"))
        )
        .order_by(*ordering(filters))
    )


@dataclass
class RegisterRow:
    """One certificate as the register shows it (public fields only)."""

    certificate: Certificate
    organization: str
    province: str
    scopes: list[str] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return str(STATUS_TEXT[self.certificate.status][0])


def register_rows(certificates) -> list[RegisterRow]:
    """``register_queryset`` rows (or a page of them) as ``RegisterRow`` values."""
    return [
        RegisterRow(
            certificate=c,
            organization=organization_name(c),
            province=province_name(c.organization.division_code),
            scopes=[f"{s.code:02d} {s.name}" for s in c.business_scopes.all()],
        )
        for c in certificates
    ]


# The CSV's columns, in the platform's Chinese names like every other export of the CB.
CSV_COLUMNS = [
    "证书编号",
    "主证书编号",
    "获证组织名称",
    "统一社会信用代码",
    "注册地址",
    "所在省份",
    "业务范围类别",
    "认证范围",
    "认证标准",
    "星级",
    "证书状态",
    "状态变更日期",
    "状态原因",
    "暂停开始日期",
    "暂停截止日期",
    "颁证日期",
    "有效期至",
]


# The CSV reads plain values (no model instances: 100,000 rows stay a matter of seconds).
_CSV_VALUES = (
    "pk",
    "number",
    "head__number",
    "organization_name",
    "organization__name",
    "organization__uscc",
    "registered_address",
    "organization__registered_address",
    "organization__division_code",
    "scope_text",
    "standard",
    "star_grade",
    "status",
    "status_changed_on",
    "status_reason",
    "suspended_from",
    "suspended_until",
    "issued_on",
    "expires_on",
)


def register_report(filters: dict) -> spreadsheets.Report:
    """The filtered register as a spreadsheet report (``certbody.spreadsheets``: CSV as UTF-8
    with BOM, formula-looking cells neutralised), public fields only, labels in Chinese like
    the certificate (004 §6.2.4). Two queries whatever the number of rows."""
    sheet = spreadsheets.Sheet(title="获证组织名录", columns=list(CSV_COLUMNS))
    certificates = filtered_certificates(filters)
    scopes: dict[int, list[str]] = {}
    through = Certificate.business_scopes.through.objects.filter(
        certificate__in=certificates.values("pk")
    ).order_by("businessscope__code")
    for pk, code, name in through.values_list(
        "certificate_id", "businessscope__code", "businessscope__name"
    ):
        scopes.setdefault(pk, []).append(f"{code:02d} {name}")
    grades = {code: str(label) for code, label in GRADE_CHOICES}
    statuses = {status: str(STATUS_TEXT[status][0]) for status in Status}
    values = certificates.order_by(*ordering(filters)).values_list(*_CSV_VALUES)
    for row in values.iterator(chunk_size=5000):
        (pk, number, head, name, current_name, uscc, address, current_address, division) = row[:9]
        (scope_text, standard, grade, status, changed_on, reason) = row[9:15]
        (suspended_from, suspended_until, issued_on, expires_on) = row[15:]
        invalid = status != Status.VALID
        suspended = status == Status.SUSPENDED
        sheet.rows.append(
            [
                number,
                head or "",
                name or current_name,
                uscc,
                address or current_address,
                province_name(division),
                "；".join(scopes.get(pk, [])),
                scope_text,
                standard,
                grades.get(grade, grade),
                statuses[status],
                changed_on if invalid else None,
                reason if invalid else "",
                suspended_from if suspended else None,
                suspended_until if suspended else None,
                issued_on,
                expires_on,
            ]
        )
    return spreadsheets.Report(title="获证组织名录", sheets=[sheet])


# --- the monthly list of status changes (004 §9.4) --------------------------------------------


def parse_month(text: str) -> date | None:
    """``"2025-07"`` → ``date(2025, 7, 1)``; None for anything else (or a year before 2000)."""
    if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
        return None
    year, month = text[:4], text[5:]
    if not (year.isdigit() and month.isdigit()):
        return None
    if not (EARLIEST_YEAR <= int(year) <= 9998 and 1 <= int(month) <= 12):
        return None
    return date(int(year), int(month), 1)


def monthly_changes(month: date) -> list[dict]:
    """Suspensions, restorations, withdrawals and cancellations that took effect in the month
    starting on ``month`` (a local date, the 1st), in date order, each with its public wording
    (``public.event_text``): ``{"date", "kind", "label", "text", "certificate",
    "organization"}``."""
    events = (
        CertificateEvent.objects.filter(
            kind__in=CHANGE_KINDS,
            occurred_on__gte=month,
            occurred_on__lt=add_months(month, 1),
        )
        .select_related("certificate__organization", "certificate__programme")
        .order_by("occurred_on", "certificate__number", "pk")
    )
    return [
        {
            "date": event.occurred_on,
            "kind": event.kind,
            "label": str(EVENT_LABELS[event.kind]),
            "text": event_text(event),
            "certificate": event.certificate,
            "organization": organization_name(event.certificate),
        }
        for event in events
    ]
