"""The Django admin: for active superusers only, and only for users and reference data (the CB's
profile, business scopes, CNCA codes, the working-day calendar), plus one read-only view of the
history of any lifecycle record, and the staff API's tokens (``certbody.api``). Lifecycle work
happens in the workspace (``certbody.workspace``); no lifecycle model is registered here.

Nothing evidence rests on is deleted here: users are deactivated, the CB's
profile, business scopes and CNCA codes cannot be deleted. The admin has no log-in form of its
own: its log-in page is the two-factor log-in (``certbody.twofactor.admin_login``).
"""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import registered_models
from simple_history.utils import get_history_model_for_model

from certbody import api, policy, twofactor
from certbody.models import (
    ApiToken,
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


def admin_login(request, extra_context=None):
    return twofactor.admin_login(request)


admin.site.has_permission = superuser_only
# Also served by certbody.urls ahead of the admin's own URLs; set here too so no path to the
# admin leads to a password-only log-in.
admin.site.login = admin_login


def _cb_name() -> str:
    try:
        return CertificationBody.get().display_name
    except CertificationBody.DoesNotExist:
        return "certbody"


# The admin carries the CB's name (in the reader's language) like every other page.
admin.site.site_header = lazy(_cb_name, str)()
admin.site.site_title = lazy(_cb_name, str)()
admin.site.index_title = _("Users and reference data")

# django-otp ships neither translations nor translatable labels: name its apps, models and
# fields here so a Chinese superuser reads the two-factor devices in Chinese.
TWO_FACTOR_APPS = {
    "otp_totp": _("Authenticator apps"),
    "otp_static": _("Backup codes"),
}
TWO_FACTOR_MODELS = {
    "otp_totp.totpdevice": (_("authenticator app"), _("authenticator apps")),
    "otp_static.staticdevice": (_("backup code set"), _("backup code sets")),
    "otp_static.statictoken": (_("backup code"), _("backup codes")),
}
TWO_FACTOR_FIELDS = {
    "user": _("user"),
    "name": _("name"),
    "confirmed": _("confirmed"),
    "throttling_failure_timestamp": _("last failed attempt"),
    "throttling_failure_count": _("failed attempts"),
    "created_at": _("created at"),
    "last_used_at": _("last used at"),
    "key": _("secret key"),
    "step": _("time step (seconds)"),
    "t0": _("start time (t0)"),
    "digits": _("digits"),
    "tolerance": _("tolerance (steps)"),
    "drift": _("clock drift (steps)"),
    "last_t": _("last time step used"),
    "device": _("device"),
    "token": _("code"),
}


def label_two_factor_models() -> None:
    """Give django-otp's apps, models and fields translatable labels (idempotent)."""
    for label, name in TWO_FACTOR_APPS.items():
        if apps.is_installed(f"django_otp.plugins.{label}"):
            apps.get_app_config(label).verbose_name = name
    for model_label, (singular, plural) in TWO_FACTOR_MODELS.items():
        try:
            model = apps.get_model(model_label)
        except LookupError:
            continue
        model._meta.verbose_name = singular
        model._meta.verbose_name_plural = plural
        for field in model._meta.get_fields():
            if field.name in TWO_FACTOR_FIELDS and hasattr(field, "verbose_name"):
                field.verbose_name = TWO_FACTOR_FIELDS[field.name]


label_two_factor_models()

# Roles are defined in code (certbody.roles) and given on the user's page, where the change is
# recorded in the user's history; a group's own page would let a role be renamed or deleted.
admin.site.unregister(Group)


class NoDeleteMixin:
    """Records that evidence points at (certificates, decisions, reports) are never deleted."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(NoDeleteMixin, SimpleHistoryAdmin, BaseUserAdmin):
    """Users are deactivated, never deleted: records and history name them as the actor."""

    list_display = ("username", "display_name", "organization", "is_staff", "is_active")
    list_filter = ("is_staff", "is_active", "groups")
    search_fields = ("username", "display_name", "organization__name")
    raw_id_fields = ("organization",)
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (_("certbody"), {"fields": ("display_name", "phone", "organization")}),
    )


class ApiTokenForm(forms.ModelForm):
    """The client's name and the scopes, each a row of the permission matrix."""

    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=lambda: [(k, v) for k, v in policy.API_SCOPE_LABELS.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ApiToken
        fields = ("name", "scopes", "revoked_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens of the staff read API (certbody.api, issue #17): the secret is shown once, on
    creation; only its hash is kept. A token is revoked, never deleted."""

    form = ApiTokenForm
    list_display = ("name", "prefix", "scopes", "created_by", "created_at", "last_used_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        token, secret = api.token_create(
            name=obj.name, scopes=form.cleaned_data["scopes"], actor=request.user
        )
        obj.pk, obj.prefix = token.pk, token.prefix
        obj._state.adding = False
        messages.warning(
            request,
            _("The token for %(name)s, shown only now: %(secret)s")
            % {"name": token.name, "secret": secret},
        )


@admin.register(CertificationBody)
class CertificationBodyAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ("name", "cnca_approval_number", "number_prefix", "accreditation", "scheme")

    def has_add_permission(self, request):
        return not CertificationBody.objects.exists() and super().has_add_permission(request)


@admin.register(BusinessScope)
class BusinessScopeAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Applications and certificates name their scopes: a scope is never deleted."""

    list_display = ("code", "name", "risk")
    search_fields = ("name", "code")


@admin.register(CncaCode)
class CncaCodeAdmin(NoDeleteMixin, admin.ModelAdmin):
    """Certificate events and regulator reports carry these codes: never deleted."""

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


# --- one read-only view of the history of any record ------------------------------------------

HISTORY_PAGE_SIZE = 50


def history_models() -> dict[str, type]:
    """The simple-history models by label (``"certificates.historicalcertificate"``), sorted;
    each has ``instance_type``, the tracked model. Many-to-many snapshots are shown with
    their owner's rows, not on their own."""
    found = {}
    for model in registered_models.values():
        if model._meta.auto_created or not apps.is_installed(model._meta.app_config.name):
            continue
        historical = get_history_model_for_model(model)
        found[historical._meta.label_lower] = historical
    return dict(sorted(found.items()))


def _history_model(label: str):
    model = history_models().get(label)
    if model is None:
        raise Http404("No history for this model.")
    return model


def history_view(request, label: str | None = None, history_id: int | None = None):
    """The history rows of one model (newest first, ``?object=<pk>`` for one record), or one
    row with every stored value. Read-only: it writes nothing and offers no revert."""
    if not superuser_only(request):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Record history"),
        "models": [
            (key, model.instance_type._meta.verbose_name, model.instance_type._meta.app_config)
            for key, model in history_models().items()
        ],
        "label": label,
    }
    if label is not None:
        model = _history_model(label)
        tracked = model.instance_type._meta
        context["tracked"] = tracked
        if history_id is None:
            rows = model.objects.select_related("history_user").order_by("-history_id")
            object_id = request.GET.get("object", "").strip()
            if object_id:
                try:
                    rows = rows.filter(**{tracked.pk.attname: object_id})
                except (TypeError, ValueError) as exc:
                    raise Http404("Bad object id.") from exc
            page = Paginator(rows, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
            context["object_id"] = object_id
            context["page"] = page
            context["rows"] = [
                {
                    "history_id": row.history_id,
                    "date": row.history_date,
                    "type": row.get_history_type_display(),
                    "object_id": getattr(row, tracked.pk.attname),
                    "object": str(row.instance),
                    "user": row.history_user,
                    "reason": getattr(row, "history_change_reason", ""),
                }
                for row in page
            ]
        else:
            row = model.objects.select_related("history_user").filter(pk=history_id).first()
            if row is None:
                raise Http404("No such history row.")
            context["row"] = row
            context["values"] = [
                (field.verbose_name, field.value_from_object(row))
                for field in model._meta.concrete_fields
            ]
    return TemplateResponse(request, "certbody/admin_history.html", context)


_site_get_urls = admin.site.get_urls


def _get_urls():
    view = admin.site.admin_view
    return [
        path("history/", view(history_view), name="history"),
        path("history/<str:label>/", view(history_view), name="history_list"),
        path("history/<str:label>/<int:history_id>/", view(history_view), name="history_row"),
        *_site_get_urls(),
    ]


_site_get_app_list = admin.site.get_app_list


def _get_app_list(request, app_label=None):
    """The registered reference data, plus the history view as its own entry."""
    app_list = _site_get_app_list(request, app_label)
    if app_label is None:
        url = reverse("admin:history", current_app=admin.site.name)
        app_list.append(
            {
                "name": _("History"),
                "app_label": "history",
                "app_url": url,
                "has_module_perms": True,
                "models": [
                    {
                        "name": _("Record history"),
                        "object_name": "history",
                        "admin_url": url,
                        "add_url": None,
                        "view_only": True,
                        "perms": {"view": True},
                    }
                ],
            }
        )
    return app_list


admin.site.get_urls = _get_urls
admin.site.get_app_list = _get_app_list
