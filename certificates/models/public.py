"""The public face of a certificate, precomputed (issue #16): one row per certificate holding
the public API's JSON in each interface language, kept in step with the certificate inside the
same transaction (``certificates.public_rows``), so verification reads one indexed row and never
a stale status."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PublicCertificate(models.Model):
    """Denormalised, read-only copy of ``certificates.public.certificate_json``.

    Written only by ``certificates.public_rows.public_row_refresh`` (called from the
    certificate's, its events', its scopes' and its organisation's saves); never edited.
    """

    certificate = models.OneToOneField(
        "certificates.Certificate",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="public_row",
    )
    number = models.CharField(max_length=24, unique=True)
    token = models.CharField(max_length=40, unique=True)
    status = models.CharField(max_length=20, db_index=True)
    organization_name = models.CharField(max_length=200, db_index=True)
    uscc = models.CharField(max_length=18, db_index=True, blank=True)
    # The JSON document (UTF-8 text, ``ensure_ascii=False``) per interface language.
    payload_zh = models.TextField()
    payload_en = models.TextField()
    # The QR page's token of the certificate that replaced this one (the payload names its
    # number only: the API does not publish tokens), "" when none.
    successor_token = models.CharField(max_length=40, blank=True, default="")
    # A strong validator over both payloads: changes whenever any public fact changes.
    etag = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("public certificate record")
        verbose_name_plural = _("public certificate records")

    def __str__(self):
        return self.number

    def payload(self, language: str) -> str:
        """The JSON text for ``language`` (a Django language code; Chinese unless English)."""
        return self.payload_en if language.startswith("en") else self.payload_zh
