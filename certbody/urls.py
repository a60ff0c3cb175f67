from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from certbody import language, password_reset, twofactor, views
from certbody.api import api

urlpatterns = [
    path("", views.index, name="index"),
    path("home/", views.home, name="home"),
    path("notifications/", views.notifications, name="notifications"),
    # Password, then the authenticator's token (django-two-factor-auth), throttled.
    path("accounts/login/", twofactor.login_view, name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail (clients and staff; staff still give their second factor).
    path("", include(password_reset.urlpatterns)),
    # Django's language switch, remembering a signed-in person's choice (certbody.language).
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("accounts/profile/", language.profile, name="profile"),
    path("", include((twofactor.urlpatterns, "two_factor"))),
    # No password-only admin log-in: the admin's log-in page sends to the one above (2FA).
    path("admin/login/", twofactor.admin_login, name="admin_login"),
    # The audits app's planning calendar (issue #14), before the workspace's own staff/ URLs.
    path("staff/calendar/", include("audits.calendar_urls")),
    path("staff/", include("certbody.workspace.urls")),
    path("admin/", admin.site.urls),
    path("audits/", include("audits.urls")),
    path("portal/nonconformities/", include("audits.portal_urls")),
    path("portal/audits/", include("audits.client_urls")),
    path("reporting/", include("reporting.urls")),
    path("portal/applications/", include("applications.portal_urls")),
    # The JSON API (django-ninja; the apps add their routers, certbody.api): OpenAPI at
    # /api/v1/openapi.json, docs at /api/v1/docs.
    path("api/v1/", api.urls),
    path("", include("certificates.urls")),
]
