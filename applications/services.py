"""Write path for applications, their review and contracts (004 §5.1–5.3; 001 §6.1), the
documents of an application and the registration of client users by invitation.

Every function is keyword-only, takes the acting user, runs atomically and raises
``RuleViolation`` (a ValueError) with the rule named when the change is not allowed.

Who may act: the market department creates, submits, reviews and decides applications and
drafts and records contracts. A client user of the organisation (``User.is_client``, active) may
also create and submit an application for their own organisation with its documents (the
portal's online application), add documents while it is not decided, withdraw it, and sign off
the drafted contract; the review, the acceptance or rejection and the contract's terms stay
with the market department.
"""

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from applications import eligibility, guards, market_notices
from applications.document_requests import (  # noqa: F401  (re-exported services)
    document_request_answer,
    document_request_create,
    open_document_requests,
)
from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationReview,
    ClientInvitation,
    Contract,
    Organization,
)
from applications.rejection_notices import (  # noqa: F401  (re-exported service)
    application_rejection_notice_send,
    rejection_notice_due,
    rejection_notice_send_quietly,
)
from applications.services_fees import (  # noqa: F401  (the fee services, importable from here)
    contract_fees_update,
    fee_schedule,
    fee_waiver_record,
    invoice_issue,
    payment_record,
)
from certbody import bounds, notifications, policy, uploads
from certbody.lifecycle import RuleViolation, fire, lock, record


def application_create(
    *,
    organization: Organization,
    actor,
    scope_text: str,
    headcount: int,
    business_scope_codes: Iterable[int] = (),
    kind: str = Application.Kind.INITIAL,
    scheme: str = "ZXRZ-2025",
    requested_grade: str = "standard",
    outsourced_processes: str = "",
) -> Application:
    """Create a draft application for ``organization``; ``actor`` is market staff or an active
    client user of that organisation.

    Raises RuleViolation when a client user applies for another organisation, when staff
    without the market role act, or when the headcount is below 1 (004 §5.1.3 asks for the
    headcount in scope).
    """
    from certbody.models import BusinessScope

    _check_may_apply(actor, organization)
    if headcount < 1:
        raise RuleViolation(gettext("The headcount in the scope must be at least 1."), "004 §5.1.3")
    if not scope_text.strip():
        raise RuleViolation(gettext("Enter the scope applied for."), "004 §5.1.3")
    with transaction.atomic():
        application = Application(
            organization=organization,
            reference=f"t{uuid.uuid4().hex[:18]}",  # replaced below, once the pk exists
            kind=kind,
            scheme=scheme,
            scope_text=scope_text,
            headcount=headcount,
            requested_grade=requested_grade,
            outsourced_processes=outsourced_processes,
            created_by=actor,
        )
        record(application, actor=actor, reason="创建申请")
        application.save()
        application.reference = f"SQ{timezone.localdate().year}{application.pk:05d}"
        record(application, actor=actor, reason="编号")
        application.save(update_fields=["reference"])
        codes = list(business_scope_codes)
        if codes:
            application.business_scopes.set(BusinessScope.objects.filter(code__in=codes))
    return application


def application_submit(
    *, application: Application, actor, received_on: date | None = None
) -> Application:
    """Submit a draft application (client or market staff).

    ``received_on``: the local date the CB received it, for an application on paper that the
    market department enters later (not after today); today when not given, and always today
    for a client's own submission. Recertification counts its 3 months before expiry from it
    (004 §5.8.1).
    """
    _check_client_or_market(actor, application, "applications.create_application")
    today = timezone.localdate()
    if received_on is None or _is_client(actor):
        received_on = today
    if received_on > today:
        raise RuleViolation(gettext("The date received cannot be later than today."))
    with transaction.atomic():
        application = lock(Application, application.pk)
        if not application.business_scopes.exists():
            raise RuleViolation(
                gettext("Choose at least one business scope category for the application."),
                "004 附录B",
            )
        application.submitted_at = timezone.now()
        application.received_on = received_on
        fire(
            application,
            "submit",
            actor=actor,
            reason="提交申请",
            fields=["submitted_at", "received_on"],
        )
    return application


def application_start_review(*, application: Application, actor) -> Application:
    """Market staff take a submitted application into review (004 §5.2)."""
    policy.require(actor, "applications.review_application", application)
    with transaction.atomic():
        application = lock(Application, application.pk)
        fire(application, "start_review", actor=actor, reason="开始申请评审")
    return application


def application_review_record(
    *,
    application: Application,
    actor,
    checks: dict[str, bool],
    notes: str = "",
    eligibility_notes: dict[str, str] | None = None,
) -> ApplicationReview:
    """Record (or update) the review of an application under review (004 §5.2; 001 §6.1.3),
    with the applicant's eligibility (004 §5.1.2(3)–(7); 001 §6.1.4).

    ``checks`` maps each name of ApplicationReview.CHECKS (review items and eligibility
    conditions) to whether it holds; unknown names raise RuleViolation. ``eligibility_notes``
    maps an eligibility condition to its note; a condition without a note gets what the CB's
    records say about it (``applications.eligibility.findings``). A condition the records
    contradict cannot be recorded as met: RuleViolation with the condition's clause (a
    rebuttable finding, e.g. a failed spot check since rectified, only with a note of the
    reviewer's own saying why it does not apply).
    """
    policy.require(actor, "applications.review_application", application)
    eligibility_notes = eligibility_notes or {}
    unknown = (set(checks) - set(ApplicationReview.CHECKS)) | (
        set(eligibility_notes) - set(ApplicationReview.ELIGIBILITY)
    )
    if unknown:
        raise RuleViolation(
            gettext("Unknown review items: %(items)s") % {"items": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.UNDER_REVIEW:
            raise RuleViolation(
                gettext("Review results can be recorded only for an application under review."),
                "004 §5.2",
            )
        found = eligibility.findings(application.organization, timezone.localdate())
        prefilled = eligibility.prefill(found)
        review = ApplicationReview.objects.filter(application=application).first()
        if review is None:
            review = ApplicationReview(application=application, reviewer=actor)
        review.reviewer = actor
        review.notes = notes
        review.reviewed_at = timezone.now()
        for name in ApplicationReview.CHECKS:
            setattr(review, name, bool(checks.get(name, False)))
        for name in ApplicationReview.ELIGIBILITY:
            note = (eligibility_notes.get(name) or "").strip() or prefilled[name][1]
            setattr(review, f"{name}_note", note)
            guards.check_not_contradicted(name, getattr(review, name), note, found[name])
        record(review, actor=actor, reason="申请评审")
        review.save()
    return review


def application_accept(*, application: Application, actor) -> Application:
    """Accept an application whose review passed every check (004 §5.2.1) and found the
    applicant eligible (004 §5.2.2(1); 001 §6.1.4).

    Raises RuleViolation without a recorded review, when an eligibility condition is not met
    or is contradicted by the CB's records at the time of acceptance (004 §5.2.2(1)), or when
    another review item is not met (004 §5.2.1).
    """
    policy.require(actor, "applications.review_application", application)
    with transaction.atomic():
        application = lock(Application, application.pk)
        guards.application_acceptable(application)
        application.decided_at = timezone.now()
        fire(application, "accept", actor=actor, reason="受理申请", fields=["decided_at"])
    return application


def application_reject(*, application: Application, actor, reason: str) -> Application:
    """Reject an application under review, with the reasons told to the applicant (001 §6.1.5).

    Stores the deadline of the written notice, ``rejection_notice_due``: 5 calendar days after
    the local date of the decision (001 §6.1.5 "5 日内"), and after commit generates and sends
    the notice (``application_rejection_notice_send``); when that fails the rejection stands
    and the ``rejection_notices`` job reminds the market department until it is sent.
    """
    policy.require(actor, "applications.review_application", application)
    if not reason.strip():
        raise RuleViolation(
            gettext("Give the reason for not accepting the application."), "001 §6.1.5"
        )
    with transaction.atomic():
        application = lock(Application, application.pk)
        application.rejection_reason = reason
        application.decided_at = timezone.now()
        application.rejection_notice_due = rejection_notice_due(
            timezone.localdate(application.decided_at)
        )
        fire(
            application,
            "reject",
            actor=actor,
            reason="不予受理",
            fields=["rejection_reason", "decided_at", "rejection_notice_due"],
        )
        pk = application.pk
        transaction.on_commit(lambda: rejection_notice_send_quietly(application_id=pk, actor=actor))
    return application


def application_withdraw(*, application: Application, actor) -> Application:
    """Withdraw an application not yet decided (the client's own choice, or staff on its behalf)."""
    _check_client_or_market(actor, application, "applications.create_application")
    with transaction.atomic():
        application = lock(Application, application.pk)
        fire(application, "withdraw", actor=actor, reason="撤回申请")
    return application


def contract_create(
    *,
    application: Application,
    actor,
    application_fee=0,
    audit_fee=0,
    certificate_fee=0,
    surveillance_fee=0,
    fee=None,
    terms: str = "",
    number: str = "",
) -> Contract:
    """Draft the certification contract for an accepted application (004 §5.3) with its fee
    schedule (001 §6.1.7(7)): ``application_fee``, ``audit_fee``, ``certificate_fee`` and
    ``surveillance_fee`` (per surveillance audit) in CNY, each ≥ 0; the contract's ``fee`` is
    their total. ``fee`` alone (a lump sum, as before the schedule) is recorded as the audit
    fee. Market department. Raises ``RuleViolation``.
    """
    policy.require(actor, "applications.manage_contract", application)
    if fee is not None and not any((application_fee, audit_fee, certificate_fee, surveillance_fee)):
        audit_fee = fee
    schedule = fee_schedule(
        application_fee=application_fee,
        audit_fee=audit_fee,
        certificate_fee=certificate_fee,
        surveillance_fee=surveillance_fee,
    )
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.ACCEPTED:
            raise RuleViolation(
                gettext("A certification contract can be made only for an accepted application."),
                "004 §5.3",
            )
        if Contract.objects.filter(application=application).exists():
            raise RuleViolation(gettext("This application already has a certification contract."))
        contract = Contract(
            application=application,
            number=number or f"HT{application.reference[2:]}",
            terms=terms,
            **schedule,
        )
        contract.fee = contract.schedule_total()
        bounds.check_instance(contract, *Contract.FEE_FIELDS, "fee")
        record(contract, actor=actor, reason="起草认证合同")
        contract.save()
    return contract


def contract_sign(*, contract: Contract, actor, signed_on: date, signed_by_client: str) -> Contract:
    """Record the signature of the contract; no audit may start before it (004 §5.3).

    By the market department (recording a signature on paper) or by a client user of the
    contract's organisation signing off in the portal. ``signed_on``: local date, not after
    today; ``signed_by_client``: who signed for the client.
    """
    _check_client_or_market(actor, contract.application, "applications.manage_contract")
    if not signed_by_client.strip():
        raise RuleViolation(gettext("Enter who signed for the client."))
    if signed_on > timezone.localdate():
        raise RuleViolation(gettext("The signing date cannot be later than today."))
    with transaction.atomic():
        contract = lock(Contract, contract.pk)
        guards.contract_signable(contract)
        contract.signed_on = signed_on
        contract.signed_by_client = signed_by_client
        fire(
            contract,
            "sign",
            actor=actor,
            reason="合同签订",
            fields=["signed_on", "signed_by_client"],
        )
        if _is_client(actor):  # signed off in the portal: the market department is told
            market_notices.tell_market_of_signed_contract(contract)
    return contract


def _is_client(actor) -> bool:
    return bool(actor.is_authenticated and actor.is_active and actor.is_client)


def _check_may_apply(actor, organization: Organization) -> None:
    """A client user applies for their own organisation only; staff need the matrix row."""
    if _is_client(actor):
        policy.require(actor, "applications.apply_online", organization)
        if actor.organization_id != organization.pk:
            raise RuleViolation(gettext("A client user can apply only for their own organisation."))
        return
    policy.require(actor, "applications.create_application", organization)


def _check_client_or_market(actor, application: Application, permission: str) -> None:
    """A client user acts on their own organisation's application only; staff need
    ``permission`` (a row of ``certbody.policy.MATRIX``)."""
    if _is_client(actor):
        policy.require(actor, "applications.apply_online", application)
        if actor.organization_id != application.organization_id:
            raise RuleViolation(
                gettext("A client user can act only on their own organisation's applications.")
            )
        return
    policy.require(actor, permission, application)


# --- documents ------------------------------------------------------------------------------

# An application takes documents until it is decided (the review may ask for more).
DOCUMENT_STATES = (
    Application.State.DRAFT,
    Application.State.SUBMITTED,
    Application.State.UNDER_REVIEW,
)


def _checked_documents(documents: Iterable[tuple[str, object]]):
    """``(kind, CheckedUpload)`` for each ``(kind, upload)``; every file checked (type,
    content, size, at most 10) before anything is written."""
    documents = [(kind, upload) for kind, upload in documents if upload]
    for kind, _upload in documents:
        if kind not in ApplicationDocument.Kind.values:
            raise RuleViolation(
                gettext("Unknown application document kind: %(kind)s") % {"kind": kind}
            )
    checked = uploads.check_files(
        [upload for _kind, upload in documents],
        too_many=gettext("At most %(count)d files can be uploaded at a time.")
        % {"count": uploads.MAX_FILES},
    )
    return [(kind, item) for (kind, _upload), item in zip(documents, checked, strict=True)]


def _store_documents(application: Application, actor, checked, stored: list[str]) -> None:
    for kind, item in checked:
        document = ApplicationDocument(
            application=application,
            kind=kind,
            original_name=item.original_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
            uploaded_by=actor,
        )
        stored.append(uploads.save(document.file, item))
        document.save()


def _remove_documents(names: list[str]) -> None:
    uploads.remove_files(ApplicationDocument._meta.get_field("file").storage, names)


def application_documents_add(
    *, application: Application, actor, documents: Iterable[tuple[str, object]]
) -> list[ApplicationDocument]:
    """Add documents to an application not yet decided (004 §5.1.3; 001 §6.1.2).

    ``documents``: ``(kind, UploadedFile)`` pairs, ``kind`` one of
    ``ApplicationDocument.Kind``; at most 10 files, each checked by ``certbody.uploads`` (PDF,
    JPEG, PNG, DOCX, XLSX by extension and content, ≤ 10 MB). All or nothing, files included.
    By market staff or a client user of the application's organisation. Raises
    ``RuleViolation``.
    """
    _check_client_or_market(actor, application, "applications.create_application")
    checked = _checked_documents(documents)
    if not checked:
        raise RuleViolation(gettext("Choose the files to upload."))
    stored: list[str] = []
    try:
        with transaction.atomic():
            application = lock(Application, application.pk)
            if application.state not in DOCUMENT_STATES:
                raise RuleViolation(
                    gettext(
                        "Application “%(reference)s” is %(state)s: no more documents can be added."
                    )
                    % {
                        "reference": application.reference,
                        "state": application.get_state_display(),
                    }
                )
            _store_documents(application, actor, checked, stored)
    except BaseException:
        _remove_documents(stored)
        raise
    return list(application.documents.filter(file__in=stored))


def application_submit_online(
    *,
    organization: Organization,
    actor,
    documents: Iterable[tuple[str, object]],
    scope_text: str,
    headcount: int,
    business_scope_codes: Iterable[int] = (),
    requested_grade: str = "standard",
    outsourced_processes: str = "",
) -> Application:
    """A client's online application: create it, store its documents and submit it, in one
    transaction (004 §5.1.3; 001 §6.1.2).

    ``documents``: ``(kind, UploadedFile)`` pairs holding at least one file of each kind in
    ``ApplicationDocument.REQUIRED``; checked as in ``application_documents_add``. The other
    arguments are those of ``application_create``; the kind is always initial certification
    (004 §5.2.3: new clients are audited as initial certification). By a client user of
    ``organization`` (or market staff entering it for the client). Nothing is kept when any
    step is refused. Raises ``RuleViolation``.
    """
    _check_may_apply(actor, organization)
    checked = _checked_documents(documents)
    missing = [
        str(ApplicationDocument.Kind(kind).label)
        for kind in ApplicationDocument.REQUIRED
        if kind not in {k for k, _item in checked}
    ]
    if missing:
        raise RuleViolation(
            gettext("Missing application documents: %(documents)s")
            % {"documents": gettext(", ").join(missing)},
            "004 §5.1.3",
        )
    stored: list[str] = []
    try:
        with transaction.atomic():
            application = application_create(
                organization=organization,
                actor=actor,
                scope_text=scope_text,
                headcount=headcount,
                business_scope_codes=business_scope_codes,
                requested_grade=requested_grade,
                outsourced_processes=outsourced_processes,
            )
            _store_documents(application, actor, checked, stored)
            application_submit(application=application, actor=actor)
            if _is_client(actor):  # the market department hears of a client's own application
                market_notices.tell_market_of_online_application(application, submitted_by=actor)
    except BaseException:
        _remove_documents(stored)
        raise
    application.refresh_from_db()
    return application


# --- client users by invitation -------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(token: str) -> ClientInvitation | None:
    """The invitation a link's token belongs to (open, expired or used), or None."""
    if not token or len(token) > 100:
        return None
    return (
        ClientInvitation.objects.select_related("organization")
        .filter(token_hash=_token_hash(token))
        .first()
    )


def client_invite(*, organization: Organization, actor, email: str) -> ClientInvitation:
    """Invite ``email`` to register as a client user of ``organization`` (market department).

    Creates an invitation valid for ``ClientInvitation.VALID_DAYS`` days with an unguessable
    token (only its hash is stored) and e-mails the registration link after commit; an open
    invitation to the same address for the same organisation expires now (the newest link is
    the only one that works). The token is on the returned object as ``token`` (not stored).
    Raises ``RuleViolation`` for staff without the market role or an address that already has
    an account.
    """
    policy.require(actor, "applications.invite_client", organization)
    email = (email or "").strip()
    if not email:
        raise RuleViolation(gettext("Enter the e-mail address of the person invited."))
    if get_user_model().objects.filter(email__iexact=email).exists():
        raise RuleViolation(
            gettext("The e-mail address “%(email)s” already has an account: it cannot be invited.")
            % {"email": email}
        )
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        organization = lock(Organization, organization.pk)
        ClientInvitation.objects.filter(
            organization=organization,
            email__iexact=email,
            accepted_at__isnull=True,
            expires_at__gt=now,
        ).update(expires_at=now)
        invitation = ClientInvitation.objects.create(
            organization=organization,
            email=email,
            token_hash=_token_hash(token),
            invited_by=actor,
            expires_at=now + timedelta(days=ClientInvitation.VALID_DAYS),
        )
        invitation.token = token
        notifications.notify_addresses(
            [email],
            template="client_invitation",
            context={
                "organization": organization,
                "invitation": invitation,
                "invited_by": actor,
                "register_path": reverse("applications_portal:register", args=[token]),
            },
        )
    return invitation


def client_register(
    *, invitation: ClientInvitation, username: str, password: str, display_name: str = ""
):
    """Create the invited client user: active, not staff, of the invitation's organisation,
    with the invitation's e-mail; the invitation is used up. The invitee is the actor.

    ``password`` must pass Django's password validators (``ValidationError`` otherwise).
    Raises ``RuleViolation`` for an expired or used invitation or a user name already taken.
    """
    User = get_user_model()
    username = (username or "").strip()
    display_name = (display_name or "").strip()
    if not username:
        raise RuleViolation(gettext("Enter a user name."))
    with transaction.atomic():
        invitation = lock(ClientInvitation, invitation.pk)
        if invitation.accepted_at is not None:
            raise RuleViolation(
                gettext(
                    "This invitation has been used already: it cannot be used to register again."
                )
            )
        if invitation.is_expired:
            raise RuleViolation(
                gettext(
                    "This invitation has expired: ask our market department to invite you again."
                )
            )
        if User.objects.filter(username__iexact=username).exists():
            raise RuleViolation(
                gettext("The user name “%(username)s” is taken.") % {"username": username}
            )
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise RuleViolation(
                gettext("The e-mail address “%(email)s” already has an account.")
                % {"email": invitation.email}
            )
        user = User(
            username=username,
            email=invitation.email,
            display_name=display_name,
            organization_id=invitation.organization_id,
            is_staff=False,
            is_superuser=False,
            is_active=True,
        )
        validate_password(password, user=user)
        user.set_password(password)
        user.save()
        invitation.accepted_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["accepted_at", "user"])
    return user


# Organisations, sites and contact persons (applications.organizations), re-exported here.
from applications.organizations import (  # noqa: E402, F401
    DuplicateOrganization,
    contact_add,
    contact_remove,
    contact_update,
    organization_create,
    organization_update,
    organization_with_uscc,
    site_add,
    site_close,
    site_update,
)
