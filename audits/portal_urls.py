"""Client portal pages: nonconformities (``urlpatterns``, mounted at ``portal/nonconformities/``)
and audit plans and reports (``client_urls``, mounted at ``portal/audits/``)."""

from django.urls import path

from audits import portal

app_name = "audits_portal"

urlpatterns = [
    path("", portal.nonconformity_list, name="list"),
    path("<int:pk>/", portal.nonconformity_detail, name="detail"),
    path("<int:pk>/answer/", portal.nonconformity_answer, name="answer"),
    path("attachments/<int:pk>/", portal.attachment_download, name="attachment"),
]

# ``include(client_urls)`` in certbody/urls.py: namespace "audits_client".
client_urls = (
    [
        path("plans/", portal.plan_list, name="plans"),
        path("plans/<int:pk>/", portal.plan_detail, name="plan"),
        path("plans/<int:pk>/confirm/", portal.plan_confirm, name="plan_confirm"),
        path("reports/<int:pk>/", portal.report_download, name="report"),
    ],
    "audits_client",
)
