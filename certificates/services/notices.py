"""Writing a notice to a client (002 §4.1.2; 004 §5.12.5, §7.2.3, §8.3): one store.

Every notice is stored once, immutably, with its SHA-256; the client downloads it in the portal.
The services call ``notice_issue`` inside their transaction: the notice's row and content (its
HTML, rendered from the records of that moment) are written with the status change or not at
all, and the PDF is laid out after commit (``pdf.document_queue``), so a PDF failure never holds
back a suspension or withdrawal whose 5-working-day clock is running. Titles, sentences and
templates: ``certificates.notices``.
"""

from datetime import date

from certbody.models import CertificationBody
from certbody.pdf import document_language
from certificates import pdf
from certificates.models import CertificateDocument
from certificates.notices import (
    APPEAL_RIGHT_SENTENCE,
    NO_USE_SENTENCE,
    NOTICES,
    REGULATOR_SENTENCE,
    notice_reference,
    render_notice_html,
)


def notice_issue(
    *,
    kind: str,
    actor,
    on: date,
    certificate=None,
    decision=None,
    appeal=None,
    organization=None,
    facts: dict | None = None,
    note: str = "",
) -> CertificateDocument:
    """Write one notice dated ``on`` (a local date); returns the document, pending until its
    PDF is rendered after commit (``pdf.document_queue``).

    ``certificate`` / ``decision`` / ``appeal``: what the notice is about (at least one). An
    appeal's answer belongs to the appellant (``appeal.organization``, or nobody for a member of
    the public) and is filed under the appeal only.
    ``facts``: what the template of ``kind`` shows beyond the common header (dates, cause …);
    a caller that knows the head certificate's sub-certificate numbers (sorted) may pass them as
    ``sub_numbers`` (an issue does), otherwise they are read.
    Must run inside the caller's ``transaction.atomic()``. The PDF must show the addressee and
    the notice's reference (read back before it is stored).
    """
    title, _prefix = NOTICES[kind]
    subject = (
        appeal.reference
        if appeal is not None
        else certificate.number
        if certificate is not None
        else f"D{decision.pk}"
    )
    if appeal is not None:
        # 004 §8.2: the answer goes to the appellant only, never to the client complained of.
        organization = appeal.organization
        addressee = organization.name if organization is not None else appeal.name
    else:
        if organization is None:
            organization = (
                certificate.organization
                if certificate is not None
                else decision.audit.programme.organization
            )
        addressee = (
            certificate.organization_name
            if certificate is not None and certificate.organization_name
            else organization.name
        )
    # 004 §6.2.4: printed in Chinese whatever the issuer's interface language (labels in the
    # facts are resolved while the HTML is rendered, inside this block).
    with document_language():
        context = {
            "kind": kind,
            "title": title,
            "reference": notice_reference(kind, on, subject),
            "on": on,
            "cb": CertificationBody.get(),
            "addressee": addressee,
            "organization": organization,
            "certificate": certificate,
            "sub_numbers": (
                list(
                    certificate.sub_certificates.order_by("number").values_list("number", flat=True)
                )
                if certificate is not None
                and certificate.head_id is None
                and "sub_numbers" not in (facts or {})
                else []
            ),
            "decision": decision,
            "appeal": appeal,
            "no_use_sentence": NO_USE_SENTENCE,
            "regulator_sentence": REGULATOR_SENTENCE,
            "appeal_right_sentence": APPEAL_RIGHT_SENTENCE,
            "cnca_sentence": pdf.CNCA_SENTENCE,
            "verify_url": pdf.verification_url(certificate) if certificate is not None else "",
            **(facts or {}),
        }
        html = render_notice_html(kind, context)
    return pdf.document_queue(
        kind=kind,
        html=html,
        expected=[addressee, context["reference"]],
        actor=actor,
        # An appeal's answer is filed under the appeal alone: listing it under the certificate
        # would show it to the certified client (004 §8.2 confidentiality).
        certificate=certificate if appeal is None else None,
        organization=organization,
        decision=decision if appeal is None else None,
        appeal=appeal,
        note=note or title,
    )
