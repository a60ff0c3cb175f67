"""Client portal pages for audit plans and reports, mounted at ``portal/audits/`` by
``certbody/urls.py`` (namespace "audits_client"); the nonconformity pages are
``audits.portal_urls``."""

from django.urls import path

from audits import portal

app_name = "audits_client"

urlpatterns = [
    path("plans/", portal.plan_list, name="plans"),
    path("plans/<int:pk>/", portal.plan_detail, name="plan"),
    path("plans/<int:pk>/pdf/", portal.plan_pdf, name="plan_pdf"),
    path("plans/<int:pk>/confirm/", portal.plan_confirm, name="plan_confirm"),
    path("reports/<int:pk>/", portal.report_download, name="report"),
]
