"""Client portal pages for applications, mounted at ``portal/applications/``."""

from django.urls import path

from applications import portal

app_name = "applications_portal"

urlpatterns = [
    path("", portal.application_list, name="list"),
    path("new/", portal.application_new, name="new"),
    path("<int:pk>/", portal.application_detail, name="detail"),
    path("<int:pk>/documents/", portal.documents_add, name="documents"),
    path(
        "document-requests/<int:pk>/",
        portal.document_request_answer,
        name="document_request",
    ),
    path("<int:pk>/contract/sign/", portal.contract_sign, name="sign"),
    path("documents/<int:pk>/", portal.document_download, name="document"),
    path("rejection-notices/<int:pk>/", portal.rejection_notice_download, name="rejection_notice"),
    path("<int:pk>/quotation/", portal.quotation_download, name="quotation"),
    path("register/<str:token>/", portal.register, name="register"),
]
