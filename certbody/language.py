"""The interface language: the visitor's browser (Accept-Language, Django's LocaleMiddleware),
or for a signed-in person the language they chose, stored on their user (``User.language``).

- :class:`UserLanguageMiddleware` (after ``AuthenticationMiddleware``) activates the stored
  choice for the request, so it holds in every browser and after the session ends;
- :func:`set_language` is Django's ``set_language`` view that also stores the choice of a
  signed-in person (the footer's switch posts to it).

Certificates, notices and regulator files are Chinese whatever this says (004 §6.2.4).
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language as django_set_language

from certbody.roles import STAFF_ROLES

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


class UserLanguageMiddleware:
    """Activate the signed-in person's stored language (``User.language``) for the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language in LANGUAGE_CODES and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        if user is not None and user.is_authenticated and user.is_staff:
            # Every matrix question asks the user's groups (certbody.roles.has_role): one
            # query for the request instead of one per question (a list page asked a dozen;
            # issue #16). ``groups.add``/``set`` on this user drop the prefetched list.
            prefetch_related_objects([user], "groups")
        return self.get_response(request)


@csrf_exempt
def set_language(request):
    """POST ``language`` (and ``next``): switch the language, and remember it for a signed-in
    person. An unknown code changes nothing (Django's view ignores it too).

    For a visitor who is not signed in the switch only sets the language cookie, as their
    browser's Accept-Language would: their form carries no CSRF token, so the public pages'
    layout is the same for every anonymous reader (``certbody.public_layout``; issue #16). A
    signed-in person's choice changes their account, so their form carries the token and it is
    checked here (403 without it)."""
    user = request.user
    if request.method == "POST" and user.is_authenticated:
        refused = CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {})
        if refused is not None:
            return refused
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and user.is_authenticated
        and language in LANGUAGE_CODES
        and user.language != language
    ):
        user.language = language
        user.save(update_fields=["language"])
    return response


class ProfileForm(forms.Form):
    """The person's own settings kept on their user: the interface language."""

    language = forms.ChoiceField(
        label=_("Interface language"),
        choices=[("", _("As my browser asks")), *settings.LANGUAGES],
        required=False,
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    """The signed-in person's profile: who they are, their roles or organisation, their stored
    interface language (also switched in the footer) and links to two-factor authentication and
    the password change. POST saves the language and shows the page in it."""
    user = request.user
    form = ProfileForm(request.POST or None, initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        user.language = form.cleaned_data["language"]
        user.save(update_fields=["language"])
        if user.language:
            translation.activate(user.language)
        messages.success(request, _("Your settings are saved."))
        response = redirect("profile")
        if user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language)
        return response
    roles = [label for code, label in STAFF_ROLES.items() if user.groups.filter(name=code).exists()]
    return render(
        request,
        "registration/profile.html",
        {"form": form, "roles": roles, "organization": user.organization},
    )
