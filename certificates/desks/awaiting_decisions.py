"""Decisions to make (004 §5.12): completed audits awaiting a decision or the team leader's
surveillance conclusion."""

import django_filters
import django_tables2 as tables
from django import forms as django_forms
from django.db.models import Count, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from audits import selectors as audit_selectors
from audits import services as audit_services
from audits.models import Audit
from certbody.badges import state_badge
from certbody.lifecycle import refusal
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
)
from certificates import forms, guards, selectors, services
from certificates.desks.common import Kind, Status, grade_label, object_url
from certificates.models import (
    Certificate,
    Decision,
    Proposal,
)

DECISION_KINDS = (Kind.STAGE2, Kind.SURVEILLANCE, Kind.RECERTIFICATION, Kind.SPECIAL)
GRANT_KINDS = (Kind.STAGE2, Kind.RECERTIFICATION)
MAINTAIN_KINDS = (Kind.SURVEILLANCE, Kind.SPECIAL)


def awaiting_decision():
    """Completed audits a decision (or a surveillance conclusion) is owed on, with the count of
    their own unsettled nonconformities and the expiry of the organisation's current head
    certificate (the recertification deadline, 004 §5.8.4), as annotations."""
    current_expiry = (
        Certificate.objects.filter(
            organization_id=OuterRef("programme__organization_id"),
            head__isnull=True,
            status__in=[Status.VALID, Status.SUSPENDED],
        )
        .order_by("-expires_on")
        .values("expires_on")[:1]
    )
    return (
        Audit.objects.filter(state=Audit.State.COMPLETED, kind__in=DECISION_KINDS)
        .select_related("programme__organization", "score_sheet")
        .annotate(
            unsettled_ncs=Count(
                "nonconformities",
                filter=audit_selectors.unsettled_q("nonconformities__"),
                distinct=True,
            ),
            current_expiry=Subquery(current_expiry),
        )
    )


def decision_deadline(audit):
    """The last day of the decision: 6 months after stage 2 (004 §5.12.3), the current
    certificate's expiry for a recertification (004 §5.8.4); None for other audits."""
    if audit.kind == Kind.STAGE2:
        return audit.decision_due_on
    if audit.kind == Kind.RECERTIFICATION:
        return getattr(audit, "current_expiry", None)
    return None


def _audit_label(audit) -> str:
    label = audit.get_kind_display()
    return f"{label} {audit.sequence}" if audit.kind == Kind.SURVEILLANCE else str(label)


def _sheet(audit):
    return getattr(audit, "score_sheet", None)


class AwaitingDecisionTable(BaseTable):
    organization = ObjectLinkColumn(
        "decisions", accessor="programme__organization__name", verbose_name=_("organisation")
    )
    kind = tables.Column(verbose_name=_("kind"))
    actual_end = tables.DateColumn(verbose_name=_("end date"), format="Y-m-d")
    score = tables.Column(accessor="score_sheet__score", verbose_name=_("score"))
    grade = tables.Column(accessor="score_sheet__grade", verbose_name=_("grade"))
    unsettled_ncs = tables.Column(verbose_name=_("unsettled NCs"))
    deadline = tables.Column(empty_values=(), orderable=False, verbose_name=_("decision due by"))

    class Meta:
        model = Audit
        fields = ("organization", "kind", "actual_end", "score", "grade", "unsettled_ncs")
        sequence = (*fields, "deadline")
        attrs = BaseTable.Meta.attrs
        order_by = ("actual_end",)

    def render_kind(self, record):
        return _audit_label(record)

    def value_kind(self, record):
        return _audit_label(record)

    def render_grade(self, value):
        return grade_label(value)

    def render_deadline(self, record):
        day = decision_deadline(record)
        return day.isoformat() if day else "—"

    def value_deadline(self, record):
        day = decision_deadline(record)
        return day.isoformat() if day else ""


class AwaitingDecisionFilter(SearchFilter):
    search_fields = ("programme__organization__name", "programme__organization__uscc")
    kind = django_filters.ChoiceFilter(
        choices=[(k, Kind(k).label) for k in DECISION_KINDS], label=_("kind")
    )

    not_on_team = django_filters.BooleanFilter(
        method="filter_not_on_team",
        label=_("mine to decide (not on the audit team)"),
        widget=django_forms.CheckboxInput,
    )

    class Meta:
        model = Audit
        fields = ["q", "kind", "not_on_team"]

    def filter_not_on_team(self, queryset, name, value):
        # 004 §5.12.1: a decision maker never decides on an audit they were on.
        if not value or self.request is None:
            return queryset
        return queryset.exclude(team__user=self.request.user)


def _audit_summary(audit, user):
    sheet = _sheet(audit)
    if sheet is None:
        evaluation = _("no score sheet")
    else:
        evaluation = (
            f"{sheet.score} · {grade_label(sheet.grade)} · "
            f"{_('passed') if sheet.passed else _('failed')} · {sheet.get_state_display()}"
        )
    recommendation = {True: _("yes"), False: _("no"), None: "—"}[audit.recommendation_positive]
    return [
        (_("organisation"), audit.programme.organization.name),
        (_("audit"), str(audit)),
        (_("state"), state_badge(audit)),
        (_("dates"), f"{audit.actual_start or '—'} – {audit.actual_end or '—'}"),
        (_("evaluation"), evaluation),
        (_("team recommends certification / maintenance"), recommendation),
        (_("unsettled NCs"), audit.unsettled_ncs),
        (_("decision due by"), decision_deadline(audit)),
        (_("findings"), audit.findings_summary),
    ]


def _audit_sections(audit, request):
    sheet = _sheet(audit)
    user = request.user
    checks = []
    if user.has_perm("certificates.decide"):
        # A decision maker sees why he may not decide here (004 §5.12.1, §4.3).
        checks = audit_services.decision_maker_check(audit=audit, user=user)
    return {
        "audit": audit,
        "sheet": sheet,
        "deductions": list(sheet.deductions.all()) if sheet else [],
        "grade_label": grade_label(sheet.grade) if sheet else "",
        "team": list(audit.team.select_related("user")),
        "nonconformities": list(audit.nonconformities.order_by("number")),
        "unsettled": selectors.nonconformities_blocking_decision(audit),
        "reports": list(audit.reports.select_related("signed_by").order_by("-version")),
        "decider_checks": checks,
    }


def _after_decision(result, audit):
    if isinstance(result, Decision):
        return object_url("decided", result.pk)
    if isinstance(result, Proposal):
        return object_url("proposals", result.pk)
    return object_url("decisions", audit.pk)


def _outcome(outcome: str):
    return lambda audit, user: {"outcome": outcome}


def _decision_page(audit) -> str | None:
    """An audit whose decision is made lives on as that decision's page."""
    decision = Decision.objects.filter(audit=audit).order_by("-pk").first()
    return object_url("decided", decision.pk) if decision else None


register(
    Desk(
        key="decisions",
        model=Audit,
        title=_("Decisions to make"),
        permission="certificates.view_desk",
        queryset=lambda request: awaiting_decision(),
        table_class=AwaitingDecisionTable,
        filterset_class=AwaitingDecisionFilter,
        summary=_audit_summary,
        sections_template="certificates/desk_decision_audit.html",
        sections_context=_audit_sections,
        moved_on=_decision_page,
        order=50,
        date_filters=(("decision_due_on", _("initial decision due")),),
        actions=[
            Action(
                "grant",
                _("Grant"),
                services.decision_make,
                "certificates.decide",
                "audit",
                form_class=forms.GrantForm,
                available=lambda audit: audit.kind in GRANT_KINDS,
                precheck=lambda audit, user: refusal(guards.grant_possible, audit, user),
                extra=_outcome(Decision.Outcome.GRANT),
                next_url=_after_decision,
            ),
            Action(
                "refuse",
                _("Refuse"),
                services.decision_make,
                "certificates.decide",
                "audit",
                form_class=forms.RefuseForm,
                available=lambda audit: audit.kind in GRANT_KINDS,
                extra=_outcome(Decision.Outcome.REFUSE),
                next_url=_after_decision,
                danger=True,
            ),
            Action(
                "maintain",
                _("Maintain"),
                services.decision_make,
                "certificates.decide",
                "audit",
                form_class=forms.MaintainForm,
                available=lambda audit: audit.kind in MAINTAIN_KINDS,
                precheck=lambda audit, user: refusal(
                    guards.decision_allowed, audit, actor=user, outcome=Decision.Outcome.MAINTAIN
                ),
                extra=_outcome(Decision.Outcome.MAINTAIN),
                next_url=_after_decision,
            ),
            Action(
                "conclude",
                _("Surveillance conclusion (team leader)"),
                services.surveillance_conclude,
                "certificates.conclude_surveillance",
                "audit",
                form_class=forms.SurveillanceConclusionForm,
                available=lambda audit: audit.kind == Kind.SURVEILLANCE,
                next_url=_after_decision,
            ),
        ],
    )
)
