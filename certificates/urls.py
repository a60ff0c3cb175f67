from django.urls import path

from certificates import badge, portal, register_views, views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/invalid/", views.verify_invalid, name="verify_invalid"),
    path("verify/<str:token>/", views.verify_token, name="verify_token"),
    # The public register (issue #17) and the live badge, served with the QR token.
    path("register/", register_views.register_list, name="register"),
    path("register/download.csv", register_views.register_csv, name="register_csv"),
    path("register/changes/", register_views.register_changes, name="register_changes"),
    path("badge/<str:token>.svg", badge.badge, name="badge"),
    path("complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/thanks/", views.complaint_thanks, name="complaint_thanks"),
    path("portal/", portal.home, name="portal"),
    path("portal/documents/<int:pk>/", portal.download, name="portal_download"),
    path("portal/appeals/new/", portal.appeal_new, name="portal_appeal_new"),
    path("portal/requests/", portal.requests_list, name="portal_requests"),
    path("portal/requests/new/", portal.request_new, name="portal_request_new"),
]
