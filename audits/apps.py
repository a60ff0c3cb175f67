from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditsConfig(AppConfig):
    name = "audits"
    verbose_name = _("Audits")

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from audits import (
            desks,  # noqa: F401  (registers the workspace desks)
            home,
            jobs,  # noqa: F401  (registers the periodic jobs, certbody.jobs)
            permissions,
        )
        from certbody.context_processors import register_portal_link

        permissions.register()
        from applications.quotations import register_audit_time_source
        from audits.quotation import proposed_time

        register_audit_time_source(proposed_time)
        home.register()
        register_portal_link(30, _("Nonconformities"), "audits_portal:list")
        register_portal_link(25, _("Audit plans"), "audits_client:plans")
