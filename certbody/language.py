"""The interface language: the visitor's browser (Accept-Language, Django's LocaleMiddleware),
or for a signed-in person the language they chose, stored on their user (``User.language``).

- :class:`UserLanguageMiddleware` (after ``AuthenticationMiddleware``) activates the stored
  choice for the request, so it holds in every browser and after the session ends;
- :func:`set_language` is Django's ``set_language`` view that also stores the choice of a
  signed-in person (the footer's switch posts to it).

Certificates, notices and regulator files are Chinese whatever this says (004 §6.2.4).
"""

from django.conf import settings
from django.utils import translation
from django.views.i18n import set_language as django_set_language

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
        return self.get_response(request)


def set_language(request):
    """POST ``language`` (and ``next``): switch the language, and remember it for a signed-in
    person. An unknown code changes nothing (Django's view ignores it too)."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if (
        request.method == "POST"
        and user.is_authenticated
        and language in LANGUAGE_CODES
        and user.language != language
    ):
        user.language = language
        user.save(update_fields=["language"])
    return response
