"""Proposals to suspend, withdraw or reissue (003 §4.6; 001 §7.5; 004 §7.3.1(7))."""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from certbody.badges import state_badge
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    LocalDateTimeColumn,
    ObjectLinkColumn,
    SearchFilter,
    StateColumn,
)
from certificates import forms, services
from certificates.models import Proposal


class ProposalTable(BaseTable):
    certificate = ObjectLinkColumn(
        "proposals", accessor="certificate__number", verbose_name=_("certificate")
    )
    organization = tables.Column(
        accessor="certificate__organization_name", verbose_name=_("organisation")
    )
    action = tables.Column(verbose_name=_("proposed action"))
    cause = tables.Column(verbose_name=_("cause"))
    reason = tables.Column(verbose_name=_("reason"))
    state = StateColumn(verbose_name=_("state"))
    created_at = LocalDateTimeColumn(verbose_name=_("created at"))

    class Meta:
        model = Proposal
        fields = ("certificate", "organization", "action", "cause", "reason", "state", "created_at")
        attrs = BaseTable.Meta.attrs
        order_by = ("-created_at",)


class ProposalFilter(SearchFilter):
    search_fields = ("certificate__number", "certificate__organization_name")
    state = django_filters.ChoiceFilter(choices=Proposal.State.choices, label=_("state"))
    action = django_filters.ChoiceFilter(
        choices=Proposal.Action.choices, label=_("proposed action")
    )

    class Meta:
        model = Proposal
        fields = ["q", "state", "action"]


def _proposal_summary(proposal, user):
    return [
        (_("certificate"), proposal.certificate.number),
        (_("organisation"), proposal.certificate.organization_name),
        (_("certificate status"), proposal.certificate.get_status_display()),
        (_("proposed action"), proposal.get_action_display()),
        (_("cause"), proposal.cause),
        (_("proposed star grade"), proposal.get_star_grade_display()),
        (_("reason"), proposal.reason),
        (_("state"), state_badge(proposal)),
        (_("closed on"), proposal.closed_on),
        (_("closing note"), proposal.closing_note),
    ]


def _proposal_sections(proposal, request):
    return {"proposal": proposal}


def _open(obj) -> bool:
    return obj.state == Proposal.State.OPEN


register(
    Desk(
        key="proposals",
        model=Proposal,
        title=_("Status change proposals"),
        permission="certificates.view_desk",
        queryset=lambda request: Proposal.objects.select_related(
            "certificate", "regulatory_event", "audit__programme__organization"
        ),
        table_class=ProposalTable,
        filterset_class=ProposalFilter,
        summary=_proposal_summary,
        sections_template="certificates/desk_proposal.html",
        sections_context=_proposal_sections,
        order=56,
        needs_action=lambda: Q(state=Proposal.State.OPEN),
        newest="created_at",
        actions=[
            Action(
                "accept",
                _("Accept: withdraw the certificate"),
                services.proposal_accept,
                "certificates.handle_proposal",
                "proposal",
                form_class=forms.ProposalAcceptForm,
                available=lambda p: _open(p) and p.action == Proposal.Action.WITHDRAW,
                danger=True,
            ),
            Action(
                "dismiss",
                _("Dismiss"),
                services.proposal_dismiss,
                "certificates.handle_proposal",
                "proposal",
                form_class=forms.ProposalDismissForm,
                available=_open,
            ),
        ],
    )
)
