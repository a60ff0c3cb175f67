"""The planning calendar's URLs, included at ``/staff/calendar/`` by ``certbody.urls`` (issue
#14)."""

from django.urls import path

from audits import calendar_views as views

app_name = "audits_calendar"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("block/", views.block_days, name="block_days"),
    path("blocks/<int:pk>/remove/", views.unblock_days, name="unblock_days"),
    path("audits/<int:pk>/schedule/", views.schedule, name="schedule"),
    path("audits/<int:pk>/check/", views.schedule_check, name="schedule_check"),
]
