from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("Clients and applications")

    def ready(self):
        from applications import (
            desks,  # noqa: F401  (registers the workspace desks)
            desks_fees,  # noqa: F401  (the invoices desk)
            home,
            jobs,  # noqa: F401  (registers the periodic jobs, certbody.jobs)
            organization_desks,  # noqa: F401  (sites and contact persons)
        )
        from certbody.context_processors import register_portal_link

        home.register()
        from applications import api
        from certbody.api import register_router

        register_router("/staff/", api.staff)
        register_portal_link(10, _("Applications"), "applications_portal:list")
