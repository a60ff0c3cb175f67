"""Staff home and small project-wide views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from certbody import bounds
from certbody import home as home_sections
from certbody.models import Notification
from certbody.notifications import mark_read
from certbody.workspace.tables import int_param
from certbody.workspace.views import staff_only

NOTIFICATIONS_SHOWN = 8
NOTIFICATIONS_PER_PAGE = 25


@login_required
def home(request):
    """Staff land on what is due and overdue for their roles and the dashboard panels (both
    contributed by the apps: ``certbody.home``) and their notifications; client users on the
    portal."""
    if not request.user.is_staff:
        return redirect("certificates:portal")
    notifications = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    sections = home_sections.sections_for(request.user)
    panels, panel_context = home_sections.panels_for(request.user)
    return render(
        request,
        "home.html",
        {
            **panel_context,
            "sections": sections,
            "overdue_for_me": sum(s.overdue for s in sections),
            "panels": panels,
            "notifications": list(notifications[:NOTIFICATIONS_SHOWN]),
            "unread_count": notifications.count(),
        },
    )


@staff_only
@require_http_methods(["GET", "POST"])
def notifications(request):
    """The signed-in staff member's own notifications, newest first, paginated (``?unread=1``:
    unread only). POST ``read=<id>`` marks one read, ``read=all`` all of them; then back to
    the same page."""
    if request.method == "POST":
        which = request.POST.get("read", "")
        # An id beyond the column's range (or not a number) marks nothing; it never reaches
        # the database, which would refuse it with an error.
        _low, highest = bounds.INTEGER_RANGES[Notification._meta.pk.get_internal_type()]
        one = int_param(which, default=0, low=1, high=highest)
        if which == "all":
            done = mark_read(user=request.user)
        elif one:
            done = mark_read(user=request.user, ids=[one])
        else:
            done = 0
        messages.success(request, _("%(count)d marked as read.") % {"count": done})
        keep = {k: request.GET[k] for k in ("page", "unread") if request.GET.get(k)}
        return redirect(f"{request.path}?{urlencode(keep)}" if keep else request.path)
    mine = Notification.objects.filter(recipient=request.user)
    unread_only = request.GET.get("unread") == "1"
    rows = mine.filter(read_at__isnull=True) if unread_only else mine
    page = Paginator(rows.order_by("-created_at", "-pk"), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "home/notifications.html",
        {
            "page": page,
            "unread_only": unread_only,
            "unread_count": mine.filter(read_at__isnull=True).count(),
            "query": urlencode({"unread": "1"}) if unread_only else "",
        },
    )


def index(request):
    return redirect("certificates:verify")
