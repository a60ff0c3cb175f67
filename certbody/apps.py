from django.apps import AppConfig


class CertbodyConfig(AppConfig):
    name = "certbody"
    verbose_name = "certbody"
