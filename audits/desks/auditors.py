"""The auditors desk: registrations, competences, training, witnessed audits, declarations of
interest (004 §3.5, §4)."""

from datetime import date, timedelta
from decimal import Decimal

import django_filters
import django_tables2 as tables
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy as _

from audits import forms, services
from audits.desks._common import _yes_no
from audits.models import (
    Auditor,
    AuditorCompetence,
    AuditTeamMember,
)
from audits.selectors.auditors import EXPIRING_DAYS, REGISTRATION_STATES, registration_q
from certbody import dates, masking
from certbody.workspace import Action, Create, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn


def _current_codes(auditor: Auditor, today: date) -> str:
    """The competence codes valid today, from the prefetched competences (no query)."""
    return "、".join(
        f"{c.business_scope.code:02d}" for c in auditor.competences.all() if c.covers(today)
    )


class AuditorTable(BaseTable):
    name = ObjectLinkColumn(
        "auditors",
        accessor="user",
        verbose_name=_("name"),
        order_by=("user__display_name", "user__username"),
    )
    registration_number = tables.Column(verbose_name=_("registration number"))
    registration_type = tables.Column(verbose_name=_("registration type"))
    qualification = tables.Column(verbose_name=_("qualification"))
    registration_valid_until = tables.DateColumn(verbose_name=_("registration valid until"))
    is_full_time = tables.BooleanColumn(verbose_name=_("full-time"))
    competences = tables.Column(
        empty_values=(), orderable=False, accessor="pk", verbose_name=_("competence codes")
    )
    active = tables.BooleanColumn(verbose_name=_("active"))

    class Meta:
        model = Auditor
        fields = (
            "name",
            "registration_number",
            "registration_type",
            "qualification",
            "registration_valid_until",
            "is_full_time",
            "competences",
            "active",
        )
        attrs = BaseTable.Meta.attrs
        order_by = ("name",)

    def render_competences(self, record):
        return _current_codes(record, dates.today()) or "—"

    def value_competences(self, record):
        return _current_codes(record, dates.today())


class AuditorFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    registration = django_filters.ChoiceFilter(
        method="filter_registration", choices=REGISTRATION_STATES, label=_("registration")
    )
    qualification = django_filters.ChoiceFilter(
        choices=Auditor.Qualification.choices, label=_("qualification")
    )
    scope = django_filters.NumberFilter(method="filter_scope", label=_("competent for scope code"))
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Auditor
        fields = ["q", "registration", "qualification", "scope", "active"]

    def filter_registration(self, queryset, name, value):
        return queryset.filter(registration_q(value, dates.today()))

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(user__display_name__icontains=value)
            | Q(user__username__icontains=value)
            | Q(registration_number__icontains=value)
        )

    def filter_scope(self, queryset, name, value):
        today = dates.today()
        return queryset.filter(
            Q(competences__valid_until__isnull=True) | Q(competences__valid_until__gte=today),
            competences__business_scope__code=value,
            competences__granted_on__lte=today,
        ).distinct()


def _auditors(request):
    return Auditor.objects.select_related("user").prefetch_related(
        Prefetch(
            "competences",
            queryset=AuditorCompetence.objects.select_related("business_scope"),
        )
    )


def _auditor_summary(auditor: Auditor, user):
    phone = auditor.user.phone
    # The ID number is kept with the personnel data of the CNCA annual report (reporting's
    # PersonnelRecord); read through the reverse relation, never imported (layering).
    record = getattr(auditor, "personnel_record", None)
    id_number = getattr(record, "id_number", "")
    if not masking.can_see_personal_data(user):
        phone, id_number = masking.mask_phone(phone), masking.mask_id_number(id_number)
    return [
        (_("name"), str(auditor.user)),
        (_("user"), auditor.user.username),
        (_("ID number"), id_number),
        (_("phone"), phone),
        (_("registration number"), auditor.registration_number),
        (_("registration type"), auditor.get_registration_type_display()),
        (_("registration issued on"), auditor.registration_issued_on),
        (_("registration valid until"), auditor.registration_valid_until),
        (_("registration"), _registration_state(auditor, dates.today())),
        (_("qualification"), auditor.get_qualification_display()),
        (_("full-time"), _yes_no(auditor.is_full_time)),
        (_("active"), _yes_no(auditor.active)),
        (_("competence codes"), _current_codes(auditor, dates.today())),
        (_("notes"), auditor.notes),
    ]


def _registration_state(auditor: Auditor, today: date) -> str:
    if not auditor.needs_registration:
        return str(_("not needed (technical expert)"))
    gap = auditor.registration_gap(today, today)
    if gap == "missing":
        return str(_("no registration number"))
    if gap == "expired":
        return str(_("expired"))
    if gap == "not_yet":
        return str(_("not yet valid"))
    if auditor.registration_incomplete:
        return str(_("to complete (type, issue or expiry date missing)"))
    if auditor.registration_valid_until <= today + timedelta(days=EXPIRING_DAYS):
        return str(_("expiring within 60 days"))
    return str(_("valid"))


def _auditor_sections(auditor: Auditor, request) -> dict:
    today = dates.today()
    competences = list(auditor.competences.all())
    for competence in competences:
        competence.current = competence.covers(today)
    return {
        "competences": competences,
        "declarations": list(auditor.declarations.select_related("organization")),
        "trainings": list(auditor.trainings.all()),
        "training_hours": sum((t.hours for t in auditor.trainings.all()), start=Decimal("0")),
        "witnessed_audits": list(
            auditor.witnessed_audits.select_related("audit__programme__organization")
        ),
        "memberships": list(
            AuditTeamMember.objects.filter(user_id=auditor.user_id)
            .select_related("audit__programme__organization")
            .order_by("-audit__planned_start", "-pk")[:20]
        ),
    }


register(
    Desk(
        key="auditors",
        model=Auditor,
        title=_("Auditors"),
        permission="audits.view_desk",
        queryset=_auditors,
        table_class=AuditorTable,
        filterset_class=AuditorFilter,
        summary=_auditor_summary,
        sections_template="audits/desk_auditor.html",
        sections_context=_auditor_sections,
        order=23,
        create=Create(
            _("Register an auditor"),
            services.auditor_register,
            "audits.manage_auditors",
            forms.AuditorRegisterForm,
        ),
        actions=[
            Action(
                "update-registration",
                _("Update the registration"),
                services.auditor_registration_update,
                "audits.manage_auditors",
                "auditor",
                form_class=forms.RegistrationUpdateForm,
            ),
            Action(
                "grant-competence",
                _("Grant a competence"),
                services.auditor_competence_grant,
                "audits.manage_auditors",
                "auditor",
                form_class=forms.CompetenceGrantForm,
            ),
            Action(
                "declare-conflict",
                _("Record a conflict-of-interest declaration"),
                services.conflict_declare,
                "audits.declare_conflict",
                "auditor",
                form_class=forms.ConflictDeclareForm,
            ),
            Action(
                "record-training",
                _("Record training or CPD"),
                services.auditor_training_record,
                "audits.manage_auditors",
                "auditor",
                form_class=forms.TrainingRecordForm,
            ),
            Action(
                "record-witnessed-audit",
                _("Record a witnessed audit"),
                services.auditor_witnessed_audit_record,
                "audits.manage_auditors",
                "auditor",
                form_class=forms.WitnessedAuditForm,
            ),
        ],
    )
)
