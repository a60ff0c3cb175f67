"""The reporting app's contributions to the staff home page (``certbody.home``), registered
from ``ReportingConfig.ready``: reports to submit, and the dashboard figures panel
(``reporting.dashboard``)."""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext_lazy as _

from certbody import roles
from certbody.home import (
    Row,
    Section,
    list_url,
    object_url,
    register_panel,
    register_section,
    section,
)
from reporting.dashboard import dashboard_figures
from reporting.models import ReportRun


def reports_to_submit(user, today: date) -> Section:
    """Reporting officer: generated report runs not submitted yet, overdue first (002)."""
    queryset = ReportRun.objects.filter(state=ReportRun.State.GENERATED)
    return section(
        "reports-to-submit",
        _("Reports to submit"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "kind", "pk"),
        row=lambda run: Row(
            label=run.title,
            detail=run.period_label,
            url=object_url("reports", run),
            day=run.due_on,
        ),
        detail_label=_("period"),
        more_url=list_url("reports", "state=generated"),
    )


def dashboard_context(user) -> dict:
    """The dashboard's figures, and (label, count) of head certificates by status as its first
    chart."""
    figures = dashboard_figures()
    return {
        "figures": figures,
        "certificate_counts": [(bar.label, bar.value) for bar in figures.certificates],
    }


def register() -> None:
    """Contribute the section and the panel (called from ``ReportingConfig.ready``)."""
    register_section(
        "reports-to-submit", reports_to_submit, roles=[roles.REPORTING_OFFICER], order=70
    )
    register_panel("dashboard", "reporting/_dashboard.html", dashboard_context, order=10)
