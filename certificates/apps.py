from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self):
        from certbody.context_processors import register_portal_link
        from certificates import (
            desks,  # noqa: F401  (registers the workspace desks)
            home,
            jobs,  # noqa: F401  (registers the periodic jobs, certbody.jobs)
            permissions,
        )

        permissions.register()
        from certificates import public_rows

        public_rows.connect()
        from certbody.api import register_router
        from certificates import api

        register_router("/", api.public)
        register_router("/staff/", api.staff)
        from applications.eligibility import register_record_source
        from certificates.eligibility import certificate_records

        register_record_source(certificate_records)
        home.register()
        from certbody.pdf import register_warm_up_document
        from certificates.pdf import warm_up_document

        register_warm_up_document(warm_up_document)  # rendered at worker start (issue #16)
        from certificates.portal_todo import offers_requests

        register_portal_link(
            40, _("Requests"), "certificates:portal_requests", applies=offers_requests
        )
