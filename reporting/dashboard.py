"""Figures for the staff home page: what there is, what is due this month, what is overdue.

``dashboard_figures(today)`` runs a constant number of aggregate queries (tested) and returns
plain values the template shows as numbers and simple bar charts. Counts are of head
certificates (sub-certificates follow their head). Nonconformities count while unsettled (a
major not closed, a minor neither closed nor with its plan accepted; 004 §5.10.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from audits.models import Audit, AuditPlan, Nonconformity
from audits.selectors import unsettled_q
from certbody.dates import add_months
from certbody.home import list_url
from certificates.models import Appeal, Certificate, Proposal, ReportingObligation
from reporting import periods
from reporting.models import ReportRun

Status = Certificate.Status


@dataclass
class Bar:
    label: str
    value: int
    percent: int = 0  # of the largest value in its chart, for the bar's width
    url: str = ""  # the desk list it counts, filtered (issue #14); "" when no desk shows it


def _list(desk_key: str, query: str = "") -> str:
    return list_url(desk_key, query)


@dataclass
class Figures:
    today: date
    certificates: list[Bar]
    due_this_month: list[Bar]
    overdue: list[Bar]
    audits_per_month: list[Bar]
    overdue_reports: list[ReportRun] = field(default_factory=list)
    open_proposals: int = 0
    open_nonconformities: int = 0

    @property
    def overdue_total(self) -> int:
        return sum(bar.value for bar in self.overdue)


def _scaled(bars: list[Bar]) -> list[Bar]:
    top = max((bar.value for bar in bars), default=0)
    for bar in bars:
        bar.percent = round(100 * bar.value / top) if top else 0
    return bars


def dashboard_figures(today: date | None = None, *, months_ahead: int = 12) -> Figures:
    """The home page's figures on ``today`` (local date; default today)."""
    today = today or timezone.localdate()
    first, last = periods.month_end(today).replace(day=1), periods.month_end(today)

    by_status = dict(
        Certificate.objects.filter(head__isnull=True)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    certificates = [
        Bar(
            str(s.label),
            by_status.get(s.value, 0),
            url=_list("certificates", f"status={s.value}&head=true"),
        )
        for s in Status
    ]

    planned = Audit.objects.filter(state=Audit.State.PLANNED)
    in_force = Exists(
        Certificate.objects.filter(
            programme_id=OuterRef("programme_id"),
            head__isnull=True,
            status__in=[Status.VALID, Status.SUSPENDED],
        )
    )
    reported = AuditPlan.objects.filter(audit_id=OuterRef("pk"), cnca_reported_on__isnull=False)
    audits = planned.aggregate(
        surveillance_due=Count(
            "pk",
            filter=Q(kind=Audit.Kind.SURVEILLANCE, due_on__gte=first, due_on__lte=last),
        ),
        recertification_due=Count(
            "pk",
            filter=Q(kind=Audit.Kind.RECERTIFICATION, due_on__gte=first, due_on__lte=last),
        ),
    )
    surveillance_overdue = planned.filter(
        in_force, kind=Audit.Kind.SURVEILLANCE, due_on__lt=today
    ).count()
    plans_overdue = (
        planned.filter(plan_report_due__lt=today)
        .exclude(kind=Audit.Kind.DOCUMENT_REVIEW)
        .exclude(Exists(reported))
        .count()
    )
    decisions_overdue = Audit.objects.filter(
        kind=Audit.Kind.STAGE2, state=Audit.State.COMPLETED, decision_due_on__lt=today
    ).count()
    applications_due = Certificate.objects.filter(
        head__isnull=True,
        status__in=[Status.VALID, Status.SUSPENDED],
        expires_on__gte=add_months(first, 3),
        expires_on__lte=add_months(last, 3),
    ).count()
    runs = ReportRun.objects.filter(state=ReportRun.State.GENERATED)
    report_counts = runs.aggregate(
        due=Count("pk", filter=Q(due_on__gte=first, due_on__lte=last)),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
    )
    suspensions_ended = Certificate.objects.filter(
        head__isnull=True, status=Status.SUSPENDED, suspended_until__lt=today
    ).count()
    appeals_overdue = (
        Appeal.objects.filter(due_on__lt=today).exclude(state=Appeal.State.DECIDED).count()
    )
    obligations_overdue = ReportingObligation.objects.filter(
        done_on__isnull=True, due_on__lt=today
    ).count()
    ncs = Nonconformity.objects.filter(unsettled_q()).aggregate(
        open=Count("pk"),
        due=Count("pk", filter=Q(due_on__gte=first, due_on__lte=last)),
        overdue=Count("pk", filter=Q(due_on__lt=today)),
    )
    expired_pending = Certificate.objects.filter(
        head__isnull=True, status__in=[Status.VALID, Status.SUSPENDED], expires_on__lt=today
    ).count()

    # The lists' date ranges are inclusive: "before today" is "up to yesterday".
    month_range = f"due_on_after={first.isoformat()}&due_on_before={last.isoformat()}"
    yesterday = (today - timedelta(days=1)).isoformat()
    expiry_range = (
        f"expires_on_after={add_months(first, 3).isoformat()}"
        f"&expires_on_before={add_months(last, 3).isoformat()}"
    )
    due_this_month = [
        Bar(
            _("Surveillance audits"),
            audits["surveillance_due"],
            url=_list("audits", "kind=surveillance&state=planned&due=this_month"),
        ),
        Bar(
            _("Recertification audits"),
            audits["recertification_due"],
            url=_list("audits", "kind=recertification&state=planned&due=this_month"),
        ),
        Bar(
            _("Recertification applications due"),
            applications_due,
            url=_list("certificates", f"head=true&in_force=true&{expiry_range}"),
        ),
        Bar(
            _("Reports to submit"),
            report_counts["due"],
            url=_list("reports", f"state=generated&{month_range}"),
        ),
        Bar(
            _("NC verifications"),
            ncs["due"],
            url=_list("nonconformities", f"unsettled=on&{month_range}"),
        ),
    ]
    overdue = [
        Bar(
            _("Surveillance audits overdue"),
            surveillance_overdue,
            url=_list(
                "audits", f"kind=surveillance&state=planned&due_on_before={yesterday}&in_force=true"
            ),
        ),
        Bar(
            _("Suspensions ended, not yet handled"),
            suspensions_ended,
            url=_list(
                "certificates", f"status=suspended&head=true&suspended_until_before={yesterday}"
            ),
        ),
        Bar(
            _("Certificates past expiry not yet marked expired"),
            expired_pending,
            url=_list("certificates", f"head=true&in_force=true&expires_on_before={yesterday}"),
        ),
        Bar(
            _("Initial decisions over 6 months"),
            decisions_overdue,
            url=_list("decisions", f"kind=stage2&decision_due_on_before={yesterday}"),
        ),
        Bar(
            _("Audit plans not reported to CNCA in time"),
            plans_overdue,
            url=_list("audits", "plan_overdue=true"),
        ),
        Bar(_("Reports overdue"), report_counts["overdue"], url=_list("reports", "overdue=true")),
        Bar(
            _("Appeals and complaints overdue"),
            appeals_overdue,
            url=_list("appeals", "overdue=true"),
        ),
        Bar(
            _("Major accidents not reported in time"),
            obligations_overdue,
            url=_list("obligations", "overdue=true"),
        ),
        Bar(
            _("NCs overdue for verification"),
            ncs["overdue"],
            url=_list("nonconformities", "overdue=on"),
        ),
    ]

    horizon = add_months(first, months_ahead)
    per_month = dict(
        planned.annotate(month=TruncMonth(Coalesce("planned_start", "due_on")))
        .filter(month__gte=first, month__lt=horizon)
        .values_list("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    per_month = {(m.year, m.month): n for m, n in per_month.items() if m is not None}
    months = []
    month = first
    while month < horizon:
        key = f"{month.year}-{month.month:02d}"
        months.append(
            Bar(
                key,
                per_month.get((month.year, month.month), 0),
                url=_list("audits", f"state=planned&month={key}"),
            )
        )
        month = add_months(month, 1)

    return Figures(
        today=today,
        certificates=_scaled(certificates),
        due_this_month=_scaled(due_this_month),
        overdue=_scaled(overdue),
        audits_per_month=_scaled(months),
        overdue_reports=list(runs.filter(due_on__lt=today).order_by("due_on")[:10]),
        open_proposals=Proposal.objects.filter(state=Proposal.State.OPEN).count(),
        open_nonconformities=ncs["open"],
    )
