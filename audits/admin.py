from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from applications.admin import ApplicationAdmin
from applications.models import Application
from audits import services
from audits.models import Audit, AuditProgramme, AuditTeamMember
from certbody import roles
from certbody.admin_actions import DateInput, service_action


class AuditInline(admin.TabularInline):
    model = Audit
    extra = 0
    fields = ("kind", "sequence", "state", "due_on", "planned_start", "planned_end", "planned_days")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AuditProgramme)
class AuditProgrammeAdmin(SimpleHistoryAdmin):
    list_display = ("organization", "cycle", "scheme", "state", "created_at")
    list_filter = ("state", "scheme")
    search_fields = ("organization__name",)
    readonly_fields = ("organization", "application", "cycle", "scheme", "state")
    inlines = [AuditInline]

    def has_add_permission(self, request):
        return False


class TeamInline(admin.TabularInline):
    model = AuditTeamMember
    extra = 0
    readonly_fields = ("user", "role")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ScheduleForm(forms.Form):
    planned_start = forms.DateField(label=_("planned start"), widget=DateInput)
    planned_end = forms.DateField(label=_("planned end"), widget=DateInput)
    planned_days = forms.DecimalField(
        label=_("audit time (auditor-days)"), min_value=0.5, decimal_places=1
    )


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("member"), queryset=None)
    role = forms.ChoiceField(label=_("role"), choices=AuditTeamMember.Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(is_staff=True, is_active=True, groups__name=roles.AUDITOR)
            .order_by("username")
        )


class StartForm(forms.Form):
    started_on = forms.DateField(label=_("actual start"), widget=DateInput)


class CompleteForm(forms.Form):
    ended_on = forms.DateField(label=_("actual end"), widget=DateInput)
    findings = forms.CharField(label=_("findings"), required=False, widget=forms.Textarea)
    recommendation_positive = forms.TypedChoiceField(
        label=_("team recommendation"),
        choices=[("1", _("Recommend certification / maintenance")), ("0", _("Do not recommend"))],
        coerce=lambda v: v == "1",
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("termination reason"), widget=forms.Textarea)


AUDIT_ACTIONS = [
    service_action(
        services.audit_schedule,
        name="schedule",
        label=_("Schedule dates and time"),
        target="audit",
        form_class=ScheduleForm,
    ),
    service_action(
        services.audit_team_add,
        name="add_team_member",
        label=_("Add a team member"),
        target="audit",
        form_class=TeamMemberForm,
    ),
    service_action(
        services.audit_start, name="start", label=_("Start"), target="audit", form_class=StartForm
    ),
    service_action(
        services.audit_complete,
        name="complete",
        label=_("Complete (team leader)"),
        target="audit",
        form_class=CompleteForm,
    ),
    service_action(services.audit_close, name="close", label=_("Close"), target="audit"),
    service_action(
        services.audit_terminate,
        name="terminate",
        label=_("Terminate"),
        target="audit",
        form_class=TerminateForm,
    ),
]


@admin.register(Audit)
class AuditAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "kind",
        "sequence",
        "state",
        "due_on",
        "planned_start",
        "planned_days",
    )
    list_filter = ("state", "kind")
    search_fields = ("programme__organization__name",)
    date_hierarchy = "due_on"
    readonly_fields = (
        "programme",
        "kind",
        "sequence",
        "state",
        "due_on",
        "planned_start",
        "planned_end",
        "planned_days",
        "actual_start",
        "actual_end",
        "findings_summary",
        "recommendation_positive",
        "termination_reason",
    )
    exclude = ("reason",)
    inlines = [TeamInline]
    actions = AUDIT_ACTIONS

    def has_add_permission(self, request):
        return False


# Creating the programme is an audit-department action on an accepted application.
admin.site.unregister(Application)


@admin.register(Application)
class ApplicationWithProgrammeAdmin(ApplicationAdmin):
    actions = [
        *ApplicationAdmin.actions,
        service_action(
            services.programme_create,
            name="create_programme",
            label=_("Create the audit programme"),
            target="application",
        ),
    ]
