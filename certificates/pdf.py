"""Certificate PDFs (WeasyPrint, A4, Noto CJK) with a QR code to the public verification page.

Issued documents are stored once, immutably, with their SHA-256 (004 §10; 002 §4.1.2).
"""

import hashlib

import segno
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from certbody.models import CertificationBody
from certbody.pdf import render_pdf
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


def render_certificate_pdf(certificate: Certificate) -> bytes:
    """Render the certificate (every content item of 004 §6.2.5) to PDF bytes."""
    cb = CertificationBody.get()
    head = certificate.head or certificate
    sites = list(head.organization.sites.all()) if certificate.head_id is None else []
    if certificate.site_id:
        sites = [certificate.site]
    url = verification_url(certificate)
    return render_pdf(
        "certificates/pdf/certificate.html",
        {
            "certificate": certificate,
            "head": head,
            "organization": certificate.organization,
            "organization_name": certificate.organization_name or certificate.organization.name,
            "registered_address": certificate.registered_address
            or certificate.organization.registered_address,
            "sites": sites,
            "cb": cb,
            "qr_svg": qr_svg(url),
            "verify_url": url,
            "cnca_sentence": CNCA_SENTENCE,
            "validity_notice": VALIDITY_NOTICE,
            "scopes": list(certificate.business_scopes.all()),
        },
    )


def store_document(
    *,
    kind: str,
    content: bytes,
    actor,
    certificate: Certificate | None = None,
    organization=None,
    decision=None,
    appeal=None,
    note: str = "",
) -> CertificateDocument:
    """Store ``content`` as a new immutable document; never overwrites.

    The document belongs to ``organization`` (default: the certificate's or the decision's; an
    appeal's answer always belongs to the appellant) and is about ``certificate``, ``decision``
    and/or ``appeal``. Raises
    ``ValueError`` when it is about nothing.
    """
    if certificate is None and decision is None and appeal is None:
        raise ValueError("a document is about a certificate, a decision or an appeal")
    if appeal is not None:
        organization = appeal.organization  # the appellant's, possibly nobody (004 §8.2)
    elif organization is None:
        organization = (
            certificate.organization
            if certificate is not None
            else decision.audit.programme.organization
        )
    digest = hashlib.sha256(content).hexdigest()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    label = (
        certificate.number
        if certificate is not None
        else appeal.reference
        if appeal is not None
        else f"decision{decision.pk}"
    )
    name = f"{label}-{kind}-{stamp}-{digest[:12]}.pdf"
    document = CertificateDocument(
        certificate=certificate,
        organization=organization,
        decision=decision,
        appeal=appeal,
        kind=kind,
        sha256=digest,
        size=len(content),
        note=note,
        created_by=actor,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document
