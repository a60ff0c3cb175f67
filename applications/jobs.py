"""The applications app's periodic jobs (``certbody.jobs``), registered from
``ApplicationsConfig.ready``.

- ``rejection_notices``: a rejected application whose written notice has not been sent, the day
  before its deadline and once it is overdue (001 §6.1.5: notified within 5 days), to the market
  department.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from applications.models import Application
from certbody import roles
from certbody.jobs import Daily, Reminder, overdue_or_soon, register

REJECTION_NOTICE_WARNING_DAYS = 1

rejection_notices = Reminder(
    name="rejection_notices",
    label="不予受理通知期限",
    schedule=Daily(8, 40),
    note="before office hours: written notices of rejected applications due tomorrow or overdue",
    order=125,
    due=lambda today: Application.objects.filter(
        rejection_notice_sent_on__isnull=True,
        rejection_notice_due__lte=today + timedelta(days=REJECTION_NOTICE_WARNING_DAYS),
        state=Application.State.REJECTED,
    ).select_related("organization"),
    field="rejection_notice_due",
    threshold=lambda today: overdue_or_soon("rejection_notice_due", today),
    roles=lambda application: (roles.MARKET,),
    template="rejection_notice_due",
    context=lambda application, today: {
        "application": application,
        "decided_on": timezone.localdate(application.decided_at)
        if application.decided_at
        else None,
        "overdue": application.threshold == "overdue",
    },
)

register(rejection_notices.job())
