from django.urls import path

from certificates import portal, views

app_name = "certificates"

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("verify/<str:token>/", views.verify_token, name="verify_token"),
    path("api/v1/certificates/<str:number>", views.api_certificate, name="api_certificate"),
    path("portal/", portal.home, name="portal"),
    path("portal/documents/<int:pk>/", portal.download, name="portal_download"),
]
