"""Certificate PDFs (WeasyPrint, A4, Noto CJK) with a QR code to the public verification page.

Issued documents are stored once, immutably, with their SHA-256 (004 §10; 002 §4.1.2).
"""

import hashlib
from functools import lru_cache

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from certbody.models import CertificationBody
from certificates.models import Certificate, CertificateDocument

# 004 §6.2.5 (13) / 001 §6.7.1: the query sentence every certificate carries.
CNCA_SENTENCE = "本证书信息可在国家认证认可监督管理委员会官方网站（www.cnca.gov.cn）上查询"
VALIDITY_NOTICE = "本证书在有效期内须通过认证机构的监督审核方能保持有效"


def verification_url(certificate: Certificate) -> str:
    """Absolute URL of the certificate's public page, reached through its unguessable token."""
    return settings.SITE_URL + reverse("certificates:verify_token", args=[certificate.token])


def qr_svg(url: str) -> str:
    """The QR code for ``url`` as an inline SVG element (segno, error correction M)."""
    return segno.make(url, error="m").svg_inline(scale=3, border=2)


@lru_cache(maxsize=1)
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def render_certificate_pdf(certificate: Certificate) -> bytes:
    """Render the certificate (every content item of 004 §6.2.5) to PDF bytes."""
    from weasyprint import HTML

    cb = CertificationBody.get()
    head = certificate.head or certificate
    sites = list(head.organization.sites.all()) if certificate.head_id is None else []
    if certificate.site_id:
        sites = [certificate.site]
    url = verification_url(certificate)
    html = render_to_string(
        "certificates/pdf/certificate.html",
        {
            "certificate": certificate,
            "head": head,
            "organization": certificate.organization,
            "sites": sites,
            "cb": cb,
            "qr_svg": qr_svg(url),
            "verify_url": url,
            "cnca_sentence": CNCA_SENTENCE,
            "validity_notice": VALIDITY_NOTICE,
            "scopes": list(certificate.business_scopes.all()),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=_font_config())


def store_document(
    *, certificate: Certificate, kind: str, content: bytes, actor, note: str = ""
) -> CertificateDocument:
    """Store ``content`` as a new immutable document of ``certificate``; never overwrites."""
    digest = hashlib.sha256(content).hexdigest()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    name = f"{certificate.number}-{kind}-{stamp}-{digest[:12]}.pdf"
    document = CertificateDocument(
        certificate=certificate,
        kind=kind,
        sha256=digest,
        size=len(content),
        note=note,
        created_by=actor,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document
