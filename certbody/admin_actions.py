"""Admin actions that call a service, with an optional confirm form for its arguments.

The admin offers every lifecycle transition as an action; the service decides whether it is
allowed and its refusal is shown as an error message (style.md "one write path").
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.response import TemplateResponse

from certbody.lifecycle import RuleViolation


def service_action(service, *, name: str, label: str, target: str, form_class=None, extra=None):
    """Build an admin action applying ``service(<target>=obj, actor=user, **form data)``.

    ``extra(obj)`` may add keyword arguments per object. With a form, the first call renders
    a confirm page (admin/service_action.html) and the submit applies it.
    """

    def action(modeladmin, request, queryset):
        form = None
        if form_class is not None:
            if "apply" not in request.POST:
                form = form_class()
                return _confirm(modeladmin, request, queryset, form, name, label)
            form = form_class(request.POST)
            if not form.is_valid():
                return _confirm(modeladmin, request, queryset, form, name, label)
        data = form.cleaned_data if form is not None else {}
        done = 0
        for obj in queryset:
            kwargs = {target: obj, "actor": request.user, **data}
            if extra:
                kwargs.update(extra(obj))
            try:
                with transaction.atomic():
                    service(**kwargs)
            except (RuleViolation, ValidationError) as exc:
                modeladmin.message_user(request, f"{obj}：{_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(request, f"{label}：{done} 项已完成", messages.SUCCESS)
        return None

    action.__name__ = name
    return admin.action(description=label)(action)


def _text(exc) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return str(exc)


def _confirm(modeladmin, request, queryset, form, name, label):
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": label,
        "form": form,
        "queryset": queryset,
        "opts": modeladmin.model._meta,
        "action_name": name,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/service_action.html", context)


class DateInput(forms.DateInput):
    """A browser date picker; its value must be ISO (yyyy-mm-dd) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format=format)
