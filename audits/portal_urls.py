"""Client portal pages for nonconformities, mounted at ``portal/nonconformities/``."""

from django.urls import path

from audits import portal

app_name = "audits_portal"

urlpatterns = [
    path("", portal.nonconformity_list, name="list"),
    path("<int:pk>/", portal.nonconformity_detail, name="detail"),
    path("<int:pk>/answer/", portal.nonconformity_answer, name="answer"),
    path("attachments/<int:pk>/", portal.attachment_download, name="attachment"),
]
