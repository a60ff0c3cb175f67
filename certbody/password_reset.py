"""Password reset by e-mail, for client users and staff (Django's PasswordResetView & co.).

- ``accounts/password_reset/``: the form asks for an e-mail address. Whether or not an active
  user with a usable password has that address, the answer is the same "check your mail" page,
  so the form never tells who has an account. POSTs are throttled per client address and per
  e-mail address (``settings.RATELIMIT_PASSWORD_RESET`` each): no guessing in bulk, no mailbox
  flooding.
- The mail (``templates/emails/password_reset.txt`` or its English twin) is in the user's
  language (``User.language``; when they never chose one, the language of the page the reset
  was asked on, as the browser decides for them) and links to ``settings.SITE_URL`` — never
  to the request's Host header, which a visitor chooses.
- The link's page sets the new password (Django's one-time token, valid
  ``PASSWORD_RESET_TIMEOUT``) and does **not** log in: the user logs in afterwards, and staff
  then still give their second factor (``certbody.twofactor``).

All pages live under ``PREFIX`` so the staff 2FA middleware can leave them open to a browser
holding an unverified staff session (they grant nothing an anonymous visitor does not get).
"""

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.urls import path, reverse, reverse_lazy
from django.utils import translation

from certbody import notifications
from certbody.security import throttle

PREFIX = "/accounts/password_reset/"


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form with the mail rendered by ``certbody.notifications`` (the user's
    language, SITE_URL)."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        user = context["user"]
        notifications.notify_addresses(
            [to_email],
            template="password_reset",
            context={
                "user": user,
                "reset_url": settings.SITE_URL
                + reverse(
                    "password_reset_confirm",
                    kwargs={"uidb64": context["uid"], "token": context["token"]},
                ),
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
                "second_factor": user.is_staff,
            },
            language=notifications.recipient_language(
                user, fallback=translation.get_language() or ""
            ),
        )


def _email_key(group, request) -> str:
    # Hashed into the cache key by django-ratelimit: the address is not stored in clear.
    return request.POST.get("email", "").strip().casefold()


def throttle_reset(view):
    view = throttle(
        "password-reset-email", "RATELIMIT_PASSWORD_RESET", key=_email_key, methods="POST"
    )(view)
    return throttle("password-reset-ip", "RATELIMIT_PASSWORD_RESET", methods="POST")(view)


urlpatterns = [
    path(
        PREFIX.lstrip("/"),
        throttle_reset(
            auth_views.PasswordResetView.as_view(
                form_class=PasswordResetForm,
                template_name="registration/password_reset_form.html",
                success_url=reverse_lazy("password_reset_done"),
            )
        ),
        name="password_reset",
    ),
    path(
        f"{PREFIX.lstrip('/')}done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        f"{PREFIX.lstrip('/')}<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html",
            success_url=reverse_lazy("password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        f"{PREFIX.lstrip('/')}complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
