"""Write path for a client's requests made in the portal: a change of its certificate, its
cancellation or its suspension (004 §7.2.1(11), §7.4, Appendix C.3).

A request records what the client asked and how staff answered it. Carrying it out is not
done here: the change, cancellation or suspension goes through the ordinary certificate
actions (``certificates.services``), whose rules (dates, causes, notices) it does not bypass.
Staff are notified in-app and by e-mail (``certbody.notifications``) when a request arrives;
the client is told by e-mail when it has been answered.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from certbody import policy
from certbody.lifecycle import RuleViolation, fire, lock, record
from certbody.notifications import notify_addresses, notify_staff
from certificates.models import Certificate, ClientRequest

# Who is told when a request arrives, and who may answer it: the people of the matrix row
# "certificates.handle_client_request" (certbody.policy) — the technical manager, the audit
# department (suspensions, cancellations) and the market department (changes, the client
# relationship).
HANDLE_REQUEST = "certificates.handle_client_request"
# A certificate can be suspended only while valid, cancelled while valid or suspended
# (Certificate transitions); a change (reissue) needs a valid certificate (004 Appendix C.3).
ACTIVE = (Certificate.Status.VALID, Certificate.Status.SUSPENDED)
STATUSES_FOR = {
    ClientRequest.Kind.CHANGE: (Certificate.Status.VALID,),
    ClientRequest.Kind.CANCELLATION: ACTIVE,
    ClientRequest.Kind.SUSPENSION: (Certificate.Status.VALID,),
}


def client_request_submit(
    *, actor, kind: str, details: str, certificate: Certificate | None = None
) -> ClientRequest:
    """Record a client user's request about its organisation's certificate and notify staff.

    ``actor``: an active client user (not staff). ``kind``: ``ClientRequest.Kind``.
    ``certificate``: one of the actor's organisation's certificates; a sub-certificate stands
    for its head (sub-certificates follow their head, 004 Appendix C.2). Cancellation and
    suspension need a certificate; a change may name none (e.g. a change of the organisation
    before it is reflected on a certificate). ``details``: what is asked and why (required).

    Refused (RuleViolation): a staff or inactive user; another organisation's certificate; an
    unknown kind; no details; a certificate whose status does not allow what is asked
    (a suspension or change of a certificate that is not valid; a cancellation of one that is
    neither valid nor suspended).
    """
    policy.require(actor, "certificates.submit_client_request", certificate)
    if kind not in ClientRequest.Kind.values:
        raise RuleViolation(gettext("Unknown kind of request: %(kind)s") % {"kind": kind})
    if not details.strip():
        raise RuleViolation(gettext("Say what you ask for and why."))
    if certificate is not None:
        if certificate.organization_id != actor.organization_id:
            raise RuleViolation(
                gettext("A request concerns your own organisation's certificates only.")
            )
        if certificate.head_id is not None:
            certificate = certificate.head
    label = ClientRequest.Kind(kind).label
    if certificate is None and kind != ClientRequest.Kind.CHANGE:
        raise RuleViolation(
            gettext("A request for %(kind)s names the certificate.") % {"kind": label}
        )
    if certificate is not None and certificate.status not in STATUSES_FOR[kind]:
        raise RuleViolation(
            gettext("Certificate %(number)s is %(status)s: %(kind)s cannot be requested.")
            % {
                "number": certificate.number,
                "status": certificate.get_status_display(),
                "kind": label,
            }
        )
    with transaction.atomic():
        request = ClientRequest(
            organization_id=actor.organization_id,
            certificate=certificate,
            kind=kind,
            details=details.strip(),
            submitted_by=actor,
            submitted_at=timezone.now(),
        )
        record(request, actor=actor, reason="客户提出申请")
        request.save()
        notify_staff(
            roles=policy.roles_holding(HANDLE_REQUEST),
            template="client_request",
            context={"request": request, "organization": actor.organization},
            kind="client_request",
            link=reverse("workspace:object", args=["requests", request.pk]),
        )
    return request


def client_request_handle(
    *, client_request: ClientRequest, actor, outcome: str, note: str
) -> ClientRequest:
    """Answer a received client request: ``outcome`` "handled" (carried out or under way
    through the certificate actions) or "declined", with ``note`` saying what was done or why
    not (required; it is what the client is told).

    ``actor``: staff of the matrix row "certificates.handle_client_request". Refused for anyone
    else, an unknown outcome, a blank note, and a request already answered. The client's users
    and contact address are e-mailed.
    """
    policy.require(actor, HANDLE_REQUEST, client_request)
    transitions = {ClientRequest.State.HANDLED: "handle", ClientRequest.State.DECLINED: "decline"}
    if outcome not in transitions:
        raise RuleViolation(gettext("Unknown result: %(outcome)s") % {"outcome": outcome})
    if not note.strip():
        raise RuleViolation(gettext("Write what was done, or why the request is declined."))
    with transaction.atomic():
        client_request = lock(ClientRequest, client_request.pk)
        client_request.handled_by = actor
        client_request.handled_at = timezone.now()
        client_request.outcome_note = note.strip()
        fire(
            client_request,
            transitions[outcome],
            actor=actor,
            reason="处理客户申请" if outcome == ClientRequest.State.HANDLED else "不予办理",
            fields=["handled_by", "handled_at", "outcome_note"],
            label="客户申请",
        )
        organization = client_request.organization
        users = organization.users.filter(is_active=True).exclude(email="")
        notify_addresses(
            [organization.contact_email, *users.values_list("email", flat=True)],
            template="client_request_answered",
            context={"request": client_request},
        )
    return client_request
