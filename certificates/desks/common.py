"""What the certificates desks share: the audit kinds and certificate statuses, the window of
"expiring soon", object links and grade labels."""

from django.urls import reverse

from audits import scoring
from audits.models import Audit
from certificates.models import Certificate

Kind = Audit.Kind
Status = Certificate.Status
EXPIRING_DAYS = 90


def object_url(key: str, pk: int) -> str:
    return reverse("workspace:object", args=[key, pk])


def grade_label(code: str) -> str:
    return scoring.GRADES.get(code, code or "")
