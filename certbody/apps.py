from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_delete, post_save


class CertbodyConfig(AppConfig):
    name = "certbody"
    verbose_name = "certbody"

    def ready(self):
        from certbody import fsm, history_manager, policy
        from certbody.checks import (
            CALENDAR_TAG,
            calendar_published_check,
            ratelimit_cache_shared_check,
        )
        from certbody.models import CalendarDay, CalendarYear
        from certbody.workdays import calendar_changed
        from certbody.workspace.tables import cache_render_signatures

        fsm.install()
        history_manager.install()
        cache_render_signatures()
        policy.register()
        checks.register(calendar_published_check, CALENDAR_TAG)
        checks.register(ratelimit_cache_shared_check, checks.Tags.caches, checks.Tags.security)
        # The in-process working-day cache must not outlive an edit of the calendar.
        for model in (CalendarDay, CalendarYear):
            for event, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(
                    calendar_changed,
                    sender=model,
                    dispatch_uid=f"certbody-workdays-{model.__name__}-{event}",
                )
