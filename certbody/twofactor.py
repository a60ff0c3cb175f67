"""Two-factor authentication for staff (django-two-factor-auth on django-otp, TOTP devices).

- ``accounts/login/`` is django-two-factor-auth's log-in wizard (:class:`StaffLoginView`):
  user name and password, then the authenticator's token for users with a device. It keeps
  the log-in throttling of ``certbody.security`` (per address and per user name; token posts
  count against the user being logged in).
- ``account/two_factor/…``: setting up a TOTP device (QR code as inline SVG, segno), backup
  tokens, the profile page (``urlpatterns`` below, namespace ``two_factor``).
- :class:`StaffTwoFactorMiddleware` enforces it when ``settings.STAFF_REQUIRE_2FA`` is on (the
  default when DEBUG is off): an active staff member whose session is not OTP-verified is sent
  to the set-up (no device yet) or back to the log-in (a device exists) from every page but
  the log-in, the log-out, static files and the public pages; the set-up only while they have
  no device. The admin's log-in page (:func:`admin_login`) sends to the same two-step log-in.
  Client users are never asked for a second factor.

Templates live in ``templates/two_factor/`` and extend ``base.html`` with no inline script or
style (the Content Security Policy refuses them).
"""

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.http import urlencode
from two_factor import views as tf_views
from two_factor.utils import default_device, get_otpauth_url, totp_digits

from certbody.security import login_username, throttle

# The wizard's name: its management field is "login-current_step" and its session storage
# "wizard_login" (formtools). The user name and password fields keep their plain names
# (``username``/``password``) so the log-in form, the throttle and the browser tests see
# the fields Django's own log-in form has.
LOGIN_WIZARD = "login"
LOGIN_STORAGE_KEY = f"wizard_{LOGIN_WIZARD}"


class StaffLoginView(tf_views.LoginView):
    """django-two-factor-auth's log-in wizard with unprefixed credentials fields.

    A POST without the wizard's management field (a plain ``username``/``password`` post, as
    Django's own log-in form sends) is taken as the first step rather than refused.
    """

    def get_prefix(self, request, *args, **kwargs):
        return LOGIN_WIZARD

    def get_form_prefix(self, step=None, form=None):
        if (step or self.steps.current) == self.AUTH_STEP:
            return None
        return super().get_form_prefix(step, form)

    def post(self, *args, **kwargs):
        field = f"{self.prefix}-current_step"
        if field not in self.request.POST and "username" in self.request.POST:
            data = self.request.POST.copy()
            data[field] = self.AUTH_STEP
            self.request.POST = data
            self.storage.current_step = self.AUTH_STEP
        return super().post(*args, **kwargs)


def issuer_name(request) -> str:
    """The name authenticator apps show next to the account: the CB's, else the host."""
    from certbody.models import CertificationBody

    try:
        return CertificationBody.get().name
    except CertificationBody.DoesNotExist:
        return request.get_host()


class StaffSetupView(tf_views.SetupView):
    """The set-up wizard with the QR code as an inline SVG element and the CB as issuer.

    Refused, whatever the method, to a user who already has a device: otherwise a session
    logged in with the password only could enrol a second device and so become verified
    without ever giving the first one's token (django-two-factor-auth refuses only GET).
    Adding or replacing a device goes through the profile, after a verified log-in.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and default_device(request.user) is not None:
            return redirect("two_factor:profile")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, form, **kwargs):
        import segno

        context = super().get_context_data(form, **kwargs)
        if self.steps.current == "generator":
            issuer = issuer_name(self.request)
            url = get_otpauth_url(
                self.request.user.get_username(),
                context["secret_key"],
                issuer,
                digits=totp_digits(),
            )
            context.update(
                issuer=issuer,
                otpauth_url=url,
                qr_svg=segno.make(url, error="m").svg_inline(scale=4, border=4, light="#fff"),
            )
        return context


class StaffQRGeneratorView(tf_views.QRGeneratorView):
    def get_issuer(self):
        return issuer_name(self.request)


# Same paths and names as two_factor.urls (its views and templates reverse "two_factor:…").
urlpatterns = [
    path("account/two_factor/setup/", StaffSetupView.as_view(), name="setup"),
    path("account/two_factor/qrcode/", StaffQRGeneratorView.as_view(), name="qr"),
    path(
        "account/two_factor/setup/complete/",
        tf_views.SetupCompleteView.as_view(),
        name="setup_complete",
    ),
    path(
        "account/two_factor/backup/tokens/",
        tf_views.BackupTokensView.as_view(),
        name="backup_tokens",
    ),
    path("account/two_factor/", tf_views.ProfileView.as_view(), name="profile"),
    path("account/two_factor/disable/", tf_views.DisableView.as_view(), name="disable"),
]


# --- log-in throttling ----------------------------------------------------------------------


def _login_user_key(group, request) -> str:
    """The user name posted; for the token step (no user name), the user being logged in."""
    username = login_username(request.POST.get("username", ""))
    if username:
        return username
    pending = request.session.get(LOGIN_STORAGE_KEY, {}).get("user_pk")
    return f"pending-user:{pending}" if pending else ""


def throttle_staff_login(view):
    """Log-in throttling for the two-step log-in (``certbody.security.throttle``): budgets per
    address and per user (the password step by user name, the token step by the user)."""
    view = throttle("login-user", "RATELIMIT_LOGIN_USER", key=_login_user_key, methods="POST")(view)
    return throttle("login-ip", "RATELIMIT_LOGIN_IP", methods="POST")(view)


login_view = throttle_staff_login(StaffLoginView.as_view())


# --- enforcement ----------------------------------------------------------------------------

# Pages anyone may see (certificates.urls): verification, its API, the complaint form; the
# password reset pages (certbody.password_reset.PREFIX: they never log anyone in).
PUBLIC_PREFIXES = ("/verify/", "/api/", "/complaints/", "/i18n/", "/accounts/password_reset/")


def _exempt_paths() -> tuple[str, ...]:
    return (reverse("login"), reverse("logout"))


def _setup_paths() -> tuple[str, ...]:
    """Open to unverified staff only while they have no device (the first enrolment)."""
    return (reverse("two_factor:setup"), reverse("two_factor:qr"))


def admin_login(request):
    """The admin's log-in page: the two-factor log-in, never a password-only form of its own.

    A user the admin already accepts goes on to the page asked for; a signed-in user it does
    not accept (staff who are not superusers, or clients) is refused; anyone else is sent to
    ``login`` with ``next`` (the admin's index by default), so a superuser reaches the admin
    only through the token step.
    """
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect(target)
        raise PermissionDenied
    return redirect(f"{reverse('login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")


def needs_second_factor(user) -> bool:
    """An active staff member whose session has not been verified with a device."""
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and not (hasattr(user, "is_verified") and user.is_verified())
    )


class StaffTwoFactorMiddleware:
    """Send unverified staff to the 2FA set-up or log-in (``settings.STAFF_REQUIRE_2FA``).

    Must come after ``django_otp.middleware.OTPMiddleware`` (which gives ``is_verified``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "STAFF_REQUIRE_2FA", False) and not self._exempt(request.path_info):
            user = request.user
            if needs_second_factor(user):
                if default_device(user) is None:
                    if request.path_info in _setup_paths():
                        return self.get_response(request)
                    return self._redirect(request, reverse("two_factor:setup"))
                query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
                return self._redirect(request, f"{reverse('login')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _redirect(request, url: str) -> HttpResponse:
        # htmx would follow a 302 and swap the log-in page into a fragment: tell it to load
        # the whole page instead.
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)

    @staticmethod
    def _exempt(path_info: str) -> bool:
        if path_info == "/" or path_info.startswith(PUBLIC_PREFIXES):
            return True
        static = "/" + settings.STATIC_URL.lstrip("/")
        if path_info.startswith(static):
            return True
        return path_info in _exempt_paths()
