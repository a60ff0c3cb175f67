from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CertbodyConfig(AppConfig):
    name = "certbody"
    verbose_name = "certbody"

    def ready(self):
        from certbody.permissions import sync_role_permissions

        post_migrate.connect(sync_role_permissions, dispatch_uid="certbody-role-permissions")
