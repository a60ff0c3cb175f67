"""Staff home and small project-wide views."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render

from applications.models import Application
from certificates.models import Certificate


@login_required
def home(request):
    """Staff land on their overview; client users on the portal."""
    if not request.user.is_staff:
        return redirect("certificates:portal")
    by_status = dict(
        Certificate.objects.filter(head__isnull=True)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    applications = dict(
        Application.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    # The project package ties the apps together; reporting computes the dashboard figures.
    from certbody.models import Notification
    from reporting.dashboard import dashboard_figures

    notifications = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    return render(
        request,
        "home.html",
        {
            "certificate_counts": [
                (s.label, by_status.get(s.value, 0)) for s in Certificate.Status
            ],
            "application_counts": [
                (s.label, applications.get(s.value, 0)) for s in Application.State
            ],
            "figures": dashboard_figures(),
            "notifications": list(notifications[:8]),
            "unread_count": notifications.count(),
        },
    )


def index(request):
    return redirect("certificates:verify")
