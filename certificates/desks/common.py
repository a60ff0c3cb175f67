"""What the certificates desks share: the audit kinds and certificate statuses, the window of
"expiring soon", object links and grade labels."""

from django.urls import reverse

from audits.models import Audit
from audits.selectors import grade_label  # noqa: F401 (the desks' grade label)
from certificates.models import Certificate

Kind = Audit.Kind
Status = Certificate.Status
EXPIRING_DAYS = 90


def object_url(key: str, pk: int) -> str:
    return reverse("workspace:object", args=[key, pk])
