"""Decisions, certificates, their numbers, status events and issued documents; regulatory
events at clients, proposals for status changes, reporting obligations, appeals and complaints;
clients' requests. One module per aggregate; every model is importable from here."""

from certificates.models.appeals import APPEAL_DAYS, Appeal
from certificates.models.certificates import (
    Certificate,
    CertificateEvent,
    CertificateSequence,
    new_token,
)
from certificates.models.client_requests import ClientRequest
from certificates.models.decisions import Decision
from certificates.models.documents import CertificateDocument, document_path
from certificates.models.public import PublicCertificate
from certificates.models.regulatory import Proposal, RegulatoryEvent, ReportingObligation

__all__ = [
    "APPEAL_DAYS",
    "Appeal",
    "Certificate",
    "CertificateDocument",
    "CertificateEvent",
    "CertificateSequence",
    "ClientRequest",
    "Decision",
    "Proposal",
    "PublicCertificate",
    "RegulatoryEvent",
    "ReportingObligation",
    "document_path",
    "new_token",
]
