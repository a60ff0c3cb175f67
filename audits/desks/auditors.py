"""The auditors desk: registrations, competences, declarations of interest (004 §4)."""

from datetime import date

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
    qualification = django_filters.ChoiceFilter(
        choices=Auditor.Qualification.choices, label=_("qualification")
    )
    scope = django_filters.NumberFilter(method="filter_scope", label=_("competent for scope code"))
    active = django_filters.BooleanFilter(label=_("active"))

    class Meta:
        model = Auditor
        fields = ["q", "qualification", "scope", "active"]

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
        (_("registration valid until"), auditor.registration_valid_until),
        (_("qualification"), auditor.get_qualification_display()),
        (_("full-time"), _yes_no(auditor.is_full_time)),
        (_("active"), _yes_no(auditor.active)),
        (_("competence codes"), _current_codes(auditor, dates.today())),
        (_("notes"), auditor.notes),
    ]


def _auditor_sections(auditor: Auditor, request) -> dict:
    today = dates.today()
    competences = list(auditor.competences.all())
    for competence in competences:
        competence.current = competence.covers(today)
    return {
        "competences": competences,
        "declarations": list(auditor.declarations.select_related("organization")),
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
        ],
    )
)
