"""The applications app's section of the staff home page (``certbody.home``), registered from
``ApplicationsConfig.ready``: applications to review."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from certbody import roles
from certbody.home import Row, Section, list_url, object_url, register_section, section


def applications_to_review(user, today: date) -> Section:
    """Market: applications submitted or under review (domain §3–§4), oldest first."""
    queryset = Application.objects.filter(
        state__in=[Application.State.SUBMITTED, Application.State.UNDER_REVIEW]
    ).select_related("organization")
    return section(
        "applications-to-review",
        _("Applications to review"),
        queryset,
        due_field=None,
        today=today,
        order_by=("submitted_at", "pk"),
        row=lambda a: Row(
            label=f"{a.reference} · {a.get_state_display()}",
            detail=a.organization.name,
            url=object_url("applications", a),
            day=timezone.localdate(a.submitted_at) if a.submitted_at else None,
        ),
        day_label=_("submitted on"),
        more_url=list_url("applications", "to_review=true"),
    )


def register() -> None:
    """Contribute the section (called from ``ApplicationsConfig.ready``)."""
    register_section(
        "applications-to-review", applications_to_review, roles=[roles.MARKET], order=10
    )
