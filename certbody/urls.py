from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from certbody import views
from certbody.security import throttle_login

urlpatterns = [
    path("", views.index, name="index"),
    path("home/", views.home, name="home"),
    path("accounts/login/", throttle_login(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The admin's own log-in form, throttled like the one above (matched before admin.site.urls).
    path("admin/login/", throttle_login(admin.site.login)),
    path("staff/", include("certbody.workspace_urls")),
    path("admin/", admin.site.urls),
    path("audits/", include("audits.urls")),
    path("portal/nonconformities/", include("audits.portal_urls")),
    path("", include("certificates.urls")),
]
