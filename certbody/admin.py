"""The Django admin: for active superusers only, who keep users and reference data here
(issue 7). Staff do their work in the workspace (``certbody.workspace``); a staff member who
is not a superuser gets the admin's log-in page (403 for its actions), never its data, and its
log-in form refuses them. The admin's log-in stays throttled (``certbody.urls``)."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from certbody.models import (
    BusinessScope,
    CalendarDay,
    CalendarYear,
    CertificationBody,
    CncaCode,
    User,
)


def superuser_only(request) -> bool:
    """``AdminSite.has_permission``: an active superuser, not merely staff. Still staff too,
    as Django's own check asks: staff are the users the two-factor middleware holds to it."""
    user = request.user
    return bool(user.is_active and user.is_staff and user.is_superuser)


class SuperuserAuthenticationForm(AdminAuthenticationForm):
    """The admin's log-in form, for active superusers only."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct username and password of an administrator account. "
            "Staff work in the workspace."
        ),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)  # active staff
        if not user.is_superuser:
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


admin.site.has_permission = superuser_only
admin.site.login_form = SuperuserAuthenticationForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "organization", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("username", "display_name", "organization__name")
    autocomplete_fields = ("organization",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("certbody"), {"fields": ("display_name", "phone", "organization")}),
    )


@admin.register(CertificationBody)
class CertificationBodyAdmin(admin.ModelAdmin):
    list_display = ("name", "cnca_approval_number", "number_prefix", "accreditation", "scheme")

    def has_add_permission(self, request):
        return not CertificationBody.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BusinessScope)
class BusinessScopeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "risk")
    search_fields = ("name", "code")


@admin.register(CncaCode)
class CncaCodeAdmin(admin.ModelAdmin):
    list_display = ("table", "code", "label")
    list_filter = ("table",)
    search_fields = ("code", "label")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Exceptions to Monday–Friday; an edit here survives ``manage.py load_calendar``."""

    list_display = ("date", "weekday", "is_working_day", "kind", "name", "source")
    list_filter = ("kind", "is_working_day", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    readonly_fields = ("source",)

    @admin.display(description=_("weekday"))
    def weekday(self, obj):
        return date_format(obj.date, "D")

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.SOURCE_STAFF
        super().save_model(request, obj, form, change)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """A row means the year's arrangement is complete; without one, Monday–Friday is assumed."""

    list_display = ("year", "source", "updated_at")
    readonly_fields = ("source", "updated_at")

    def save_model(self, request, obj, form, change):
        obj.source = CalendarDay.SOURCE_STAFF
        super().save_model(request, obj, form, change)
