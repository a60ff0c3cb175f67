"""Workspace desks for certificates (certbody.workspace): decisions to make and made,
certificates and their status changes, proposals, appeals and complaints, regulatory events,
the reports owed after a major accident and the clients' requests from the portal.

Lists keep a constant number of queries (``select_related`` for every column shown, counts as
annotations); actions call ``certificates.services`` (and ``certificates.client_requests``)
through the confirm forms of ``certificates.forms``, offered by the permissions of
``certbody.policy`` and only in the states the services allow.
"""

from datetime import timedelta

import django_filters
import django_tables2 as tables
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import can_proceed

from audits import scoring
from audits import selectors as nonconformities
from audits import services as audit_services
from audits.models import Audit
from certbody.dates import add_months
from certbody.masking import can_see_personal_data, mask_phone
from certbody.models import BusinessScope
from certbody.workspace import Action, Create, Desk, register
from certbody.workspace.tables import (
    BaseTable,
    LocalDateTimeColumn,
    ObjectLinkColumn,
    SearchFilter,
)
from certificates import client_requests, forms, services
from certificates.models import (
    Appeal,
    Certificate,
    ClientRequest,
    Decision,
    Proposal,
    RegulatoryEvent,
    ReportingObligation,
)

Kind = Audit.Kind
Status = Certificate.Status
EXPIRING_DAYS = 90


def _object_url(key: str, pk: int) -> str:
    return reverse("workspace:object", args=[key, pk])


def _grade(code: str) -> str:
    return scoring.GRADES.get(code, code or "")


# --- decisions to make (004 §5.12) -----------------------------------------------------------

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
                filter=nonconformities.unsettled_q("nonconformities__"),
                distinct=True,
            ),
            current_expiry=Subquery(current_expiry),
        )
    )


def decision_deadline(audit):
    """The last day of the decision: 6 months after stage 2 (004 §5.12.3), the current
    certificate's expiry for a recertification (004 §5.8.4); None for other audits."""
    if audit.kind == Kind.STAGE2 and audit.actual_end:
        return add_months(audit.actual_end, 6)
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
        return _grade(value)

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

    class Meta:
        model = Audit
        fields = ["q", "kind"]


def _audit_summary(audit, user):
    sheet = _sheet(audit)
    if sheet is None:
        evaluation = _("no score sheet")
    else:
        evaluation = (
            f"{sheet.score} · {_grade(sheet.grade)} · "
            f"{_('passed') if sheet.passed else _('failed')} · {sheet.get_state_display()}"
        )
    recommendation = {True: _("yes"), False: _("no"), None: "—"}[audit.recommendation_positive]
    return [
        (_("organisation"), audit.programme.organization.name),
        (_("audit"), str(audit)),
        (_("state"), audit.get_state_display()),
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
        "grade_label": _grade(sheet.grade) if sheet else "",
        "team": list(audit.team.select_related("user")),
        "nonconformities": list(audit.nonconformities.order_by("number")),
        "unsettled": services.unsettled_nonconformities(audit),
        "reports": list(audit.reports.select_related("signed_by").order_by("-version")),
        "decider_checks": checks,
    }


def _after_decision(result, audit):
    if isinstance(result, Decision):
        return _object_url("decided", result.pk)
    if isinstance(result, Proposal):
        return _object_url("proposals", result.pk)
    return _object_url("decisions", audit.pk)


def _outcome(outcome: str):
    return lambda audit, user: {"outcome": outcome}


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
        order=50,
        actions=[
            Action(
                "grant",
                _("Grant"),
                services.decision_make,
                "certificates.decide",
                "audit",
                form_class=forms.GrantForm,
                available=lambda audit: audit.kind in GRANT_KINDS,
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


# --- decisions made ------------------------------------------------------------------------


class DecisionTable(BaseTable):
    organization = ObjectLinkColumn(
        "decided", accessor="audit__programme__organization__name", verbose_name=_("organisation")
    )
    audit_kind = tables.Column(accessor="audit__kind", verbose_name=_("audit"))
    outcome = tables.Column(verbose_name=_("outcome"))
    star_grade = tables.Column(verbose_name=_("star grade"))
    basis = tables.Column(verbose_name=_("basis"))
    decided_by = tables.Column(verbose_name=_("decided by"))
    decided_on = tables.DateColumn(verbose_name=_("decided on"), format="Y-m-d")

    class Meta:
        model = Decision
        fields = (
            "organization",
            "audit_kind",
            "outcome",
            "star_grade",
            "basis",
            "decided_by",
            "decided_on",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-decided_on",)

    def render_audit_kind(self, record):
        return record.audit.get_kind_display()

    def value_audit_kind(self, record):
        return record.audit.get_kind_display()


class DecisionFilter(SearchFilter):
    search_fields = ("audit__programme__organization__name",)
    outcome = django_filters.ChoiceFilter(choices=Decision.Outcome.choices, label=_("outcome"))
    basis = django_filters.ChoiceFilter(choices=Decision.Basis.choices, label=_("basis"))

    class Meta:
        model = Decision
        fields = ["q", "outcome", "basis"]


def _decision_summary(decision, user):
    return [
        (_("organisation"), decision.audit.programme.organization.name),
        (_("audit"), str(decision.audit)),
        (_("outcome"), decision.get_outcome_display()),
        (_("basis"), decision.get_basis_display()),
        (_("star grade"), decision.get_star_grade_display()),
        (_("decided by"), decision.decided_by),
        (_("decided on"), decision.decided_on),
        (_("reasons"), decision.reasons),
    ]


def _decision_sections(decision, request):
    return {
        "documents": list(decision.documents.all()),
        "issued": list(decision.certificates.order_by("number")),
    }


register(
    Desk(
        key="decided",
        model=Decision,
        title=_("Decisions made"),
        permission="certificates.view_desk",
        queryset=lambda request: Decision.objects.select_related(
            "audit__programme__organization", "decided_by"
        ),
        table_class=DecisionTable,
        filterset_class=DecisionFilter,
        summary=_decision_summary,
        sections_template="certificates/desk_decision.html",
        sections_context=_decision_sections,
        order=51,
    )
)


# --- certificates (004 §6, §7, Appendix C) -------------------------------------------------


class CertificateTable(BaseTable):
    number = ObjectLinkColumn("certificates", verbose_name=_("certificate number"))
    organization_name = tables.Column(verbose_name=_("organisation"))
    star_grade = tables.Column(verbose_name=_("star grade"))
    status = tables.Column(verbose_name=_("status"))
    issued_on = tables.DateColumn(verbose_name=_("issued on"), format="Y-m-d")
    expires_on = tables.DateColumn(verbose_name=_("expires on"), format="Y-m-d")
    head = tables.Column(accessor="head__number", verbose_name=_("head certificate"))

    class Meta:
        model = Certificate
        fields = (
            "number",
            "organization_name",
            "star_grade",
            "status",
            "issued_on",
            "expires_on",
            "head",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-issued_on", "number")


class CertificateFilter(SearchFilter):
    search_fields = ("number", "organization_name", "organization__name", "organization__uscc")
    status = django_filters.ChoiceFilter(choices=Status.choices, label=_("status"))
    star_grade = django_filters.ChoiceFilter(
        choices=Certificate._meta.get_field("star_grade").choices, label=_("star grade")
    )
    expiring = django_filters.BooleanFilter(
        method="filter_expiring", label=_("expires within 90 days")
    )
    scope = django_filters.ModelChoiceFilter(
        field_name="business_scopes",
        queryset=BusinessScope.objects.all(),
        distinct=True,
        label=_("business scope category"),
    )
    head = django_filters.BooleanFilter(
        field_name="head", lookup_expr="isnull", label=_("head certificates only")
    )

    class Meta:
        model = Certificate
        fields = ["q", "status", "star_grade", "expiring", "scope", "head"]

    def filter_expiring(self, queryset, name, value):
        today = timezone.localdate()
        soon = Q(expires_on__gte=today, expires_on__lte=today + timedelta(days=EXPIRING_DAYS))
        if value is None:
            return queryset
        return queryset.filter(soon) if value else queryset.exclude(soon)


def _certificate_summary(certificate, user):
    suspension = ""
    if certificate.suspended_from:
        suspension = f"{certificate.suspended_from} – {certificate.suspended_until}"
    return [
        (_("organisation"), certificate.organization_name),
        (_("registered address on the certificate"), certificate.registered_address),
        (_("status"), f"{certificate.get_status_display()} ({certificate.status_code})"),
        (_("reason for the status"), certificate.status_reason),
        (_("suspended"), suspension),
        (_("star grade"), certificate.get_star_grade_display()),
        (_("scope"), certificate.scope_text),
        (_("issued on"), certificate.issued_on),
        (_("expires on"), certificate.expires_on),
        (_("reissued on"), certificate.reissued_on),
        (_("reissue reason"), certificate.reissue_reason),
        (_("head certificate"), certificate.head.number if certificate.head_id else ""),
        (_("site"), certificate.site),
    ]


def _certificate_sections(certificate, request):
    return {
        "certificate": certificate,
        "scopes": list(certificate.business_scopes.all()),
        "events": list(certificate.events.select_related("actor")),
        "documents": list(certificate.documents.all()),
        "proposals": list(certificate.proposals.all()),
        "sub_certificates": list(certificate.sub_certificates.order_by("number")),
        "requests": list(certificate.client_requests.all()),
    }


def _head_can(transition: str):
    """The transition is allowed on a head certificate in its current status (sub-certificates
    follow their head, 004 Appendix C.2)."""
    return lambda c: c.head_id is None and can_proceed(getattr(c, transition))


def _head_valid(certificate) -> bool:
    return certificate.head_id is None and certificate.status == Status.VALID


def _can_expire(certificate) -> bool:
    return _head_can("expire")(certificate) and certificate.expires_on < timezone.localdate()


register(
    Desk(
        key="certificates",
        model=Certificate,
        title=_("Certificates"),
        permission="certificates.view_desk",
        queryset=lambda request: Certificate.objects.select_related("head", "organization", "site"),
        table_class=CertificateTable,
        filterset_class=CertificateFilter,
        summary=_certificate_summary,
        sections_template="certificates/desk_certificate.html",
        sections_context=_certificate_sections,
        order=55,
        actions=[
            Action(
                "suspend",
                _("Suspend"),
                services.certificate_suspend,
                "certificates.change_status",
                "certificate",
                form_class=forms.SuspendForm,
                available=_head_can("suspend"),
                danger=True,
            ),
            Action(
                "restore",
                _("Restore"),
                services.certificate_restore,
                "certificates.change_status",
                "certificate",
                form_class=forms.RestoreForm,
                available=_head_can("restore"),
            ),
            Action(
                "withdraw",
                pgettext_lazy("certificate", "Withdraw"),
                services.certificate_withdraw,
                "certificates.change_status",
                "certificate",
                form_class=forms.WithdrawForm,
                available=_head_can("withdraw"),
                danger=True,
            ),
            Action(
                "cancel",
                _("Cancel (at the client's request)"),
                services.certificate_cancel,
                "certificates.change_status",
                "certificate",
                form_class=forms.CancelForm,
                available=_head_can("cancel"),
                danger=True,
            ),
            Action(
                "reissue",
                _("Reissue within validity"),
                services.certificate_reissue,
                "certificates.change_status",
                "certificate",
                form_class=forms.ReissueActionForm,
                available=_head_valid,
            ),
            Action(
                "reduce-scope",
                _("Reduce the scope instead of suspending"),
                services.certificate_reduce_scope,
                "certificates.change_status",
                "certificate",
                form_class=forms.ReduceScopeForm,
                available=_head_valid,
            ),
            Action(
                "expire",
                _("Mark expired"),
                services.certificate_expire,
                "certificates.change_status",
                "certificate",
                available=_can_expire,
            ),
        ],
    )
)


# --- proposals (003 §4.6; 001 §7.5; 004 §7.3.1(7)) -----------------------------------------


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
    state = tables.Column(verbose_name=_("state"))
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
        (_("state"), proposal.get_state_display()),
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


# --- appeals and complaints (004 §8; 001 §10) ----------------------------------------------


class AppealTable(BaseTable):
    reference = ObjectLinkColumn("appeals", verbose_name=_("reference"))
    kind = tables.Column(verbose_name=_("kind"))
    subject = tables.Column(verbose_name=_("subject"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    received_on = tables.DateColumn(verbose_name=_("received on"), format="Y-m-d")
    due_on = tables.DateColumn(verbose_name=_("written result due"), format="Y-m-d")
    state = tables.Column(verbose_name=_("state"))
    handler = tables.Column(verbose_name=_("handler"))
    overdue = tables.BooleanColumn(
        accessor="is_overdue", orderable=False, verbose_name=_("overdue"), yesno="✔,"
    )

    class Meta:
        model = Appeal
        fields = (
            "reference",
            "kind",
            "subject",
            "organization",
            "received_on",
            "due_on",
            "state",
            "handler",
            "overdue",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)


class AppealFilter(SearchFilter):
    search_fields = ("reference", "subject", "organization__name", "about_organization")
    kind = django_filters.ChoiceFilter(choices=Appeal.Kind.choices, label=_("kind"))
    state = django_filters.ChoiceFilter(choices=Appeal.State.choices, label=_("state"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = Appeal
        fields = ["q", "kind", "state", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = Q(decided_on__isnull=True, due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


def _appeal_summary(appeal, user):
    contact = appeal.contact if can_see_personal_data(user) else mask_phone(appeal.contact)
    return [
        (_("kind"), appeal.get_kind_display()),
        (_("channel"), appeal.get_channel_display()),
        (_("state"), appeal.get_state_display()),
        (_("from organisation"), appeal.organization),
        (_("name"), appeal.name),
        (_("contact"), contact),
        (_("about the organisation"), appeal.about_organization),
        (_("subject"), appeal.subject),
        (_("description"), appeal.description),
        (_("received on"), appeal.received_on),
        (_("acknowledged on"), appeal.acknowledged_on),
        (_("written result due"), appeal.due_on),
        (_("overdue"), _("yes") if appeal.is_overdue else _("no")),
        (_("handler"), appeal.handler),
        (_("outcome"), appeal.get_outcome_display()),
        (_("written decision"), appeal.decision_text),
        (_("decided on"), appeal.decided_on),
    ]


def _appeal_sections(appeal, request):
    return {"appeal": appeal, "documents": list(appeal.documents.all())}


def _appeal_in(*states):
    return lambda appeal: appeal.state in states


register(
    Desk(
        key="appeals",
        model=Appeal,
        title=_("Appeals and complaints"),
        permission="certificates.view_desk",
        queryset=lambda request: Appeal.objects.select_related(
            "organization", "handler", "certificate", "decision__audit__programme__organization"
        ),
        table_class=AppealTable,
        filterset_class=AppealFilter,
        summary=_appeal_summary,
        sections_template="certificates/desk_appeal.html",
        sections_context=_appeal_sections,
        order=60,
        create=Create(
            _("Record an appeal or complaint"),
            services.appeal_receive,
            "certificates.handle_appeal",
            forms.StaffAppealForm,
        ),
        actions=[
            Action(
                "acknowledge",
                _("Acknowledge receipt"),
                services.appeal_acknowledge,
                "certificates.handle_appeal",
                "appeal",
                form_class=forms.AppealAcknowledgeForm,
                available=_appeal_in(Appeal.State.RECEIVED),
            ),
            Action(
                "assign",
                _("Assign a handler"),
                services.appeal_assign,
                "certificates.assign_appeal",
                "appeal",
                form_class=forms.AppealAssignForm,
                available=_appeal_in(Appeal.State.ACKNOWLEDGED, Appeal.State.UNDER_INVESTIGATION),
            ),
            Action(
                "decide",
                _("Decide in writing"),
                services.appeal_decide,
                "certificates.handle_appeal",
                "appeal",
                form_class=forms.AppealDecideForm,
                available=_appeal_in(Appeal.State.UNDER_INVESTIGATION),
            ),
        ],
    )
)


# --- regulatory events (004 §5.9.2, §9.5; 002 §4.3.8.2; 003 §4.6) --------------------------


class RegulatoryEventTable(BaseTable):
    occurred_on = ObjectLinkColumn("regulatory-events", verbose_name=_("occurred on"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    kind = tables.Column(verbose_name=_("kind"))
    level = tables.Column(verbose_name=_("level"))
    result = tables.Column(verbose_name=_("result"))
    source = tables.Column(verbose_name=_("source"))

    class Meta:
        model = RegulatoryEvent
        fields = ("occurred_on", "organization", "certificate", "kind", "level", "result", "source")
        attrs = BaseTable.Meta.attrs
        order_by = ("-occurred_on",)

    def render_occurred_on(self, value):
        return value.isoformat()


class RegulatoryEventFilter(SearchFilter):
    search_fields = ("organization__name", "certificate__number", "source")
    kind = django_filters.ChoiceFilter(choices=RegulatoryEvent.Kind.choices, label=_("kind"))
    level = django_filters.ChoiceFilter(choices=RegulatoryEvent.Level.choices, label=_("level"))
    result = django_filters.ChoiceFilter(choices=RegulatoryEvent.Result.choices, label=_("result"))

    class Meta:
        model = RegulatoryEvent
        fields = ["q", "kind", "level", "result"]


def _event_summary(event, user):
    return [
        (_("organisation"), event.organization.name),
        (_("certificate"), event.certificate.number if event.certificate_id else ""),
        (_("kind"), event.get_kind_display()),
        (_("occurred on"), event.occurred_on),
        (_("notified on"), event.notified_on),
        (_("source"), event.source),
        (_("description"), event.description),
        (_("level"), event.get_level_display()),
        (_("result"), event.get_result_display()),
        (_("written nonconformity"), _("yes") if event.written_finding else _("no")),
        (_("major accident"), _("yes") if event.major else _("no")),
        (_("short-notice audit"), event.special_audit),
    ]


def _event_sections(event, request):
    return {
        "regulatory_event": event,
        "proposals": list(event.proposals.select_related("certificate")),
        "obligations": list(event.reporting_obligations.all()),
    }


register(
    Desk(
        key="regulatory-events",
        model=RegulatoryEvent,
        title=_("Regulatory events"),
        permission="certificates.view_desk",
        queryset=lambda request: RegulatoryEvent.objects.select_related(
            "organization", "certificate", "special_audit__programme__organization"
        ),
        table_class=RegulatoryEventTable,
        filterset_class=RegulatoryEventFilter,
        summary=_event_summary,
        sections_template="certificates/desk_regulatory_event.html",
        sections_context=_event_sections,
        order=62,
        create=Create(
            _("Record a regulatory event"),
            services.regulatory_event_record,
            "certificates.record_regulatory_event",
            forms.RegulatoryEventCreateForm,
        ),
    )
)


# --- reports owed after a major accident (002 §4.3.8.2; 004 §9.5) ---------------------------


class ReportingObligationTable(BaseTable):
    due_on = ObjectLinkColumn("obligations", verbose_name=_("due on"))
    recipient = tables.Column(verbose_name=_("recipient"))
    subject = tables.Column(verbose_name=_("subject"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    rule = tables.Column(verbose_name=_("rule"))
    provisional = tables.BooleanColumn(verbose_name=_("deadline provisional"), yesno="✔,")
    done_on = tables.DateColumn(verbose_name=_("reported on"), format="Y-m-d")
    overdue = tables.Column(
        empty_values=(), accessor="pk", orderable=False, verbose_name=_("overdue")
    )

    class Meta:
        model = ReportingObligation
        fields = (
            "due_on",
            "recipient",
            "subject",
            "organization",
            "certificate",
            "rule",
            "provisional",
            "done_on",
            "overdue",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("due_on",)

    def render_due_on(self, value):
        return value.isoformat()

    def render_overdue(self, record):
        return "✔" if _obligation_overdue(record) else ""

    def value_overdue(self, record):
        return "✔" if _obligation_overdue(record) else ""


def _obligation_overdue(obligation) -> bool:
    return obligation.done_on is None and obligation.due_on < timezone.localdate()


class ReportingObligationFilter(SearchFilter):
    search_fields = ("subject", "organization__name", "certificate__number")
    recipient = django_filters.ChoiceFilter(
        choices=ReportingObligation.Recipient.choices, label=_("recipient")
    )
    reported = django_filters.BooleanFilter(
        field_name="done_on", lookup_expr="isnull", exclude=True, label=_("reported")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))

    class Meta:
        model = ReportingObligation
        fields = ["q", "recipient", "reported", "overdue"]

    def filter_overdue(self, queryset, name, value):
        late = Q(done_on__isnull=True, due_on__lt=timezone.localdate())
        if value is None:
            return queryset
        return queryset.filter(late) if value else queryset.exclude(late)


def _obligation_summary(obligation, user):
    due = f"{obligation.due_on}{' *' if obligation.provisional else ''}"
    return [
        (_("recipient"), obligation.get_recipient_display()),
        (_("subject"), obligation.subject),
        (_("organisation"), obligation.organization.name),
        (_("certificate"), obligation.certificate.number if obligation.certificate_id else ""),
        (_("rule"), obligation.rule),
        (_("due on"), due),
        (_("overdue"), _("yes") if _obligation_overdue(obligation) else _("no")),
        (_("reported on"), obligation.done_on),
    ]


def _obligation_sections(obligation, request):
    return {"obligation": obligation}


register(
    Desk(
        key="obligations",
        model=ReportingObligation,
        title=_("Reporting obligations"),
        permission="certificates.view_desk",
        queryset=lambda request: ReportingObligation.objects.select_related(
            "organization", "certificate", "regulatory_event"
        ),
        table_class=ReportingObligationTable,
        filterset_class=ReportingObligationFilter,
        summary=_obligation_summary,
        sections_template="certificates/desk_obligation.html",
        sections_context=_obligation_sections,
        order=63,
        actions=[
            Action(
                "done",
                _("Mark as reported"),
                services.reporting_obligation_done,
                "certificates.report_obligation",
                "obligation",
                form_class=forms.ObligationDoneForm,
                available=lambda o: o.done_on is None,
            )
        ],
    )
)


# --- clients' requests from the portal ----------------------------------------------------


class ClientRequestTable(BaseTable):
    kind = ObjectLinkColumn("requests", verbose_name=_("request"))
    organization = tables.Column(accessor="organization__name", verbose_name=_("organisation"))
    certificate = tables.Column(accessor="certificate__number", verbose_name=_("certificate"))
    submitted_at = LocalDateTimeColumn(verbose_name=_("submitted at"))
    state = tables.Column(verbose_name=_("state"))
    handled_by = tables.Column(verbose_name=_("handled by"))
    handled_at = LocalDateTimeColumn(verbose_name=_("handled at"))

    class Meta:
        model = ClientRequest
        fields = (
            "kind",
            "organization",
            "certificate",
            "submitted_at",
            "state",
            "handled_by",
            "handled_at",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("-submitted_at",)


class ClientRequestFilter(SearchFilter):
    search_fields = ("organization__name", "certificate__number", "details")
    state = django_filters.ChoiceFilter(choices=ClientRequest.State.choices, label=_("state"))
    kind = django_filters.ChoiceFilter(choices=ClientRequest.Kind.choices, label=_("request"))

    class Meta:
        model = ClientRequest
        fields = ["q", "state", "kind"]


def _request_summary(client_request, user):
    certificate = client_request.certificate
    return [
        (_("organisation"), client_request.organization.name),
        (_("request"), client_request.get_kind_display()),
        (
            _("certificate"),
            f"{certificate.number}（{certificate.get_status_display()}）" if certificate else "",
        ),
        (_("details"), client_request.details),
        (_("submitted by"), client_request.submitted_by),
        (_("submitted at"), timezone.localtime(client_request.submitted_at)),
        (_("state"), client_request.get_state_display()),
        (_("handled by"), client_request.handled_by),
        (
            _("handled at"),
            timezone.localtime(client_request.handled_at) if client_request.handled_at else "",
        ),
        (_("outcome"), client_request.outcome_note),
    ]


def _request_sections(client_request, request):
    return {"client_request": client_request}


register(
    Desk(
        key="requests",
        model=ClientRequest,
        title=_("Client requests"),
        permission="certificates.view_desk",
        queryset=lambda request: ClientRequest.objects.select_related(
            "organization", "certificate", "submitted_by", "handled_by"
        ),
        table_class=ClientRequestTable,
        filterset_class=ClientRequestFilter,
        summary=_request_summary,
        sections_template="certificates/desk_client_request.html",
        sections_context=_request_sections,
        order=65,
        actions=[
            Action(
                "handle",
                _("Answer the request"),
                client_requests.client_request_handle,
                "certificates.handle_client_request",
                "client_request",
                form_class=forms.ClientRequestHandleForm,
                available=lambda r: r.state == ClientRequest.State.RECEIVED,
            )
        ],
    )
)
