"""Staff home and small project-wide views."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from certbody import home as home_sections

NOTIFICATIONS_SHOWN = 8


@login_required
def home(request):
    """Staff land on what is due and overdue for their roles (``certbody.home``), the
    dashboard figures and their notifications; client users on the portal."""
    if not request.user.is_staff:
        return redirect("certificates:portal")
    # The project package ties the apps together; reporting computes the dashboard figures.
    from certbody.models import Notification
    from reporting.dashboard import dashboard_figures

    notifications = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    sections = home_sections.sections_for(request.user)
    figures = dashboard_figures()
    return render(
        request,
        "home.html",
        {
            "sections": sections,
            "overdue_for_me": sum(s.overdue for s in sections),
            "figures": figures,
            # (label, count) of head certificates by status, as the dashboard's first chart
            "certificate_counts": [(bar.label, bar.value) for bar in figures.certificates],
            "notifications": list(notifications[:NOTIFICATIONS_SHOWN]),
            "unread_count": notifications.count(),
        },
    )


def index(request):
    return redirect("certificates:verify")
