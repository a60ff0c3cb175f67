"""Certificates and their status changes (004 §6, §7, Appendix C)."""

from datetime import timedelta

import django_filters
import django_tables2 as tables
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import can_proceed

from applications.models import Organization
from certbody.lifecycle import refusal
from certbody.models import BusinessScope
from certbody.workspace import Action, Desk, add_filters, register
from certbody.workspace.tables import (
    BaseTable,
    ObjectLinkColumn,
    SearchFilter,
    StateColumn,
    text_search,
)
from certificates import forms, guards, services
from certificates.desks.common import EXPIRING_DAYS, Status
from certificates.models import Certificate

IN_FORCE = (Status.VALID, Status.SUSPENDED)


class CertificateTable(BaseTable):
    number = ObjectLinkColumn("certificates", verbose_name=_("certificate number"))
    organization_name = tables.Column(verbose_name=_("organisation"))
    star_grade = tables.Column(verbose_name=_("star grade"))
    status = StateColumn(verbose_name=_("status"))
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
    search_fields = ("number", "organization_name")
    ascii_search_fields = ("number",)
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
        # The category's code (as on the public register and the auditors desk), not its
        # primary key, which differs between databases loaded at different times.
        to_field_name="code",
        distinct=True,
        label=_("business scope category"),
    )
    head = django_filters.BooleanFilter(
        field_name="head", lookup_expr="isnull", label=_("head certificates only")
    )
    in_force = django_filters.BooleanFilter(
        method="filter_in_force", label=_("in force (valid or suspended)")
    )

    class Meta:
        model = Certificate
        fields = ["q", "status", "star_grade", "expiring", "scope", "head", "in_force"]

    def search(self, queryset, name, value):
        # Also the organisation's current name and USCC, through a sub-select of the small
        # organisations table rather than a join of every certificate row (issue #16).
        organizations = Organization.objects.filter(
            text_search(value, ("name", "uscc"), ascii_fields=("uscc",))
        ).values("pk")
        return queryset.filter(
            text_search(value, self.search_fields, ascii_fields=self.ascii_search_fields)
            | Q(organization__in=organizations)
        )

    def filter_in_force(self, queryset, name, value):
        if value is None:
            return queryset
        in_force = Q(status__in=IN_FORCE)
        return queryset.filter(in_force) if value else queryset.exclude(in_force)

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


def _status_precheck(transition: str):
    """The service's own state guard, as the button's reason (issue #14)."""
    return lambda c, user: refusal(guards.status_change_open, c, transition)


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
        date_filters=(
            ("expires_on", _("expires on")),
            ("suspended_until", _("suspended until")),
        ),
        actions=[
            Action(
                "suspend",
                _("Suspend"),
                services.certificate_suspend,
                "certificates.change_status",
                "certificate",
                form_class=forms.SuspendForm,
                available=_head_can("suspend"),
                precheck=_status_precheck("suspend"),
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
                precheck=_status_precheck("restore"),
            ),
            Action(
                "withdraw",
                pgettext_lazy("certificate", "Withdraw"),
                services.certificate_withdraw,
                "certificates.change_status",
                "certificate",
                form_class=forms.WithdrawForm,
                available=_head_can("withdraw"),
                precheck=_status_precheck("withdraw"),
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
                precheck=_status_precheck("cancel"),
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
                precheck=lambda c, user: refusal(guards.reissuable, c),
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


def _audits_with_certificate_in_force(queryset, name, value):
    # The audits list filtered by certificates (issue #14: the dashboard's "surveillance
    # audits overdue" counts only programmes whose head certificate is in force).
    if value is None:
        return queryset
    in_force = Exists(
        Certificate.objects.filter(
            programme_id=OuterRef("programme_id"), head__isnull=True, status__in=IN_FORCE
        )
    )
    return queryset.filter(in_force) if value else queryset.exclude(in_force)


add_filters(
    "audits",
    in_force=django_filters.BooleanFilter(
        method=_audits_with_certificate_in_force, label=_("certificate in force")
    ),
)
