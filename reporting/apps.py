from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "reporting"
    verbose_name = _("Reporting")

    def ready(self):
        # Imported for what they register: the workspace desks, and the periodic jobs
        # (certbody.jobs), which beat's schedule and run_due_jobs read once the apps are ready.
        from reporting import desks, home, jobs, obligation_desks  # noqa: F401

        home.register()  # the home page's section and dashboard panel (certbody.home)
