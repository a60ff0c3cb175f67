"""The certificates app's sections of the staff home page (``certbody.home``), registered from
``CertificatesConfig.ready``: decisions to make, open appeals and complaints."""

from __future__ import annotations

from datetime import date

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from audits.models import Audit, AuditTeamMember
from certbody import roles
from certbody.home import Row, Section, list_url, object_url, register_section, role_names, section
from certificates.models import Appeal

DECISION_KINDS = ("stage2", "surveillance", "recertification", "special")


def decisions_to_make(user, today: date) -> Section:
    """Decision maker: completed audits awaiting a decision on which I was not on the team
    (004 §5.12.1). Oldest audit end first."""
    on_team = AuditTeamMember.objects.filter(audit_id=OuterRef("pk"), user_id=user.pk)
    queryset = (
        Audit.objects.filter(state=Audit.State.COMPLETED, kind__in=DECISION_KINDS)
        .exclude(Exists(on_team))
        .select_related("programme__organization")
    )
    return section(
        "decisions-to-make",
        _("Decisions to make"),
        queryset,
        due_field=None,
        today=today,
        order_by=("actual_end", "pk"),
        row=lambda a: Row(
            label=a.get_kind_display(),
            detail=a.programme.organization.name,
            url=object_url("decisions", a),
            day=a.actual_end,
        ),
        day_label=_("audit ended on"),
        more_url=list_url("decisions", "not_on_team=on"),
    )


def open_appeals(user, today: date) -> Section:
    """Technical manager: every open appeal and complaint; anyone else: those assigned to
    them as handler. Written result due 60 days after receipt (004 §8.3)."""
    queryset = Appeal.objects.exclude(state=Appeal.State.DECIDED)
    query = ""
    if roles.TECHNICAL_MANAGER not in role_names(user):
        queryset = queryset.filter(handler_id=user.pk)
        query = "mine=on"
    queryset = queryset.select_related("organization")
    return section(
        "appeals",
        _("Appeals and complaints"),
        queryset,
        due_field="due_on",
        today=today,
        order_by=("due_on", "pk"),
        row=lambda appeal: Row(
            label=f"{appeal.reference} {appeal.subject}",
            detail=appeal.organization.name if appeal.organization else appeal.name,
            url=object_url("appeals", appeal),
            day=appeal.due_on,
        ),
        detail_label=_("from"),
        more_url=list_url("appeals", query),
    )


def _is_handler(user) -> bool:
    return Appeal.objects.filter(handler_id=user.pk).exclude(state=Appeal.State.DECIDED).exists()


def register() -> None:
    """Contribute the sections (called from ``CertificatesConfig.ready``). An appeal's handler is
    assigned per case (004 §8.2): they see their cases whatever their role."""
    register_section("decisions-to-make", decisions_to_make, roles=[roles.DECISION_MAKER], order=60)
    register_section(
        "appeals", open_appeals, roles=[roles.TECHNICAL_MANAGER], order=80, also_for=_is_handler
    )
