"""Status changes of a certificate and its sub-certificates: suspend, restore, withdraw, cancel,
expire (004 §7; 001 §9). Each writes a ``CertificateEvent`` with the CNCA codes and the notice
the client receives in the same transaction; the shared writers (``record_event``,
``change_status``, ``close_open_proposals``) are used by issue and reissue too.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certbody import policy
from certbody.dates import add_months
from certbody.lifecycle import RuleViolation, fire, lock, require_transition
from certbody.reference import cnca_label
from certificates import causes, guards, public_rows
from certificates.models import (
    Certificate,
    CertificateDocument,
    CertificateEvent,
    Proposal,
)
from certificates.services.notices import notice_issue


def record_event(
    certificate,
    kind,
    on,
    actor,
    *,
    change_code="",
    reason_code="",
    reason="",
    evidence="",
    cause=None,
    ends_on=None,
):
    return CertificateEvent.objects.create(
        certificate=certificate,
        kind=kind,
        occurred_on=on,
        status_code=certificate.status_code,
        change_code=change_code,
        reason_code=reason_code,
        cause=cause,
        ends_on=ends_on,
        reason=reason[:300],
        evidence=evidence,
        actor=actor,
    )


def change_status(
    certificate: Certificate,
    transition_name: str,
    kind: str,
    *,
    actor,
    on: date,
    change_code: str,
    reason_code: str = "",
    reason: str = "",
    public_reason: str = "",
    evidence: str = "",
    cause: int | None = None,
    ends_on: date | None = None,
    fields=(),
    follow_fields=None,
) -> Certificate:
    """Fire one status transition on a locked certificate and its sub-certificates.

    ``reason`` goes to the events (internal record), ``public_reason`` (default: ``reason``) to
    the certificates' ``status_reason`` shown on the public page. ``fields`` are saved with the
    status; ``follow_fields`` (default: ``fields``) are copied from the head to its
    sub-certificates first (004 Appendix C.2: sub-certificates follow their head).
    """
    follow_fields = fields if follow_fields is None else follow_fields
    public_reason = public_reason or reason
    targets = [certificate, *Certificate.objects.select_for_update().filter(head=certificate)]
    # One rebuild of each public row for the save and the event below (issue #16).
    with public_rows.public_rows_deferred():
        for target in targets:
            if target is not certificate:
                for name in follow_fields:
                    setattr(target, name, getattr(certificate, name))
            target.status_changed_on = on
            target.status_reason = public_reason[:300]
            if target is not certificate and not _can(target, transition_name):
                continue  # a sub-certificate already in a final state stays there
            fire(
                target,
                transition_name,
                actor=actor,
                reason=reason or kind,
                fields=["status_changed_on", "status_reason", *fields],
                label="证书",
            )
            record_event(
                target,
                kind,
                on,
                actor,
                change_code=change_code,
                reason_code=reason_code,
                reason=reason,
                evidence=evidence,
                cause=cause,
                ends_on=ends_on,
            )
    return certificate


def _can(certificate, transition_name):
    from django_fsm import can_proceed

    return can_proceed(getattr(certificate, transition_name))


def close_open_proposals(certificate, action: str, *, actor, on: date, done: str) -> None:
    """Close the certificate's open proposals of ``action`` as accepted: the action was taken."""
    for proposal in Proposal.objects.select_for_update().filter(
        certificate=certificate, action=action, state=Proposal.State.OPEN
    ):
        proposal.closed_on = on
        proposal.closing_note = f"证书已于 {on} {done}"
        fire(
            proposal,
            "accept",
            actor=actor,
            reason=f"证书已{done}",
            fields=["closed_on", "closing_note"],
        )


def certificate_suspend(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    starts_on: date,
    ends_on: date,
    reason: str = "",
    evidence: str = "",
    licensing_decision_on: date | None = None,
) -> Certificate:
    """Suspend a valid certificate and its sub-certificates from ``starts_on`` to ``ends_on``.

    ``cause``: the cause number in the certificate's scheme's table (``certificates.causes``:
    ZXRZ 004 §7.2.1 (1)–(12), CAS 001 §9.3.2.1 (1)–(7)), which gives the CNCA suspension
    reason code and the public reason; a number not in that table is refused with its clause.
    ``verified_on``: the date the cause was verified; the suspension starts on or after it and
    no later than 5 working days after it (004 §7.2.1; 001 §9.3.2.1; a year without a
    published holiday calendar counts Monday–Friday and says so).
    The period ends after it starts and at most 6 months after the start (004 §7.2.2;
    001 §9.3.2.2). Under the CAS rules (001 §9.3.2.2) an expired licence whose renewal was
    accepted (cause 5) may stay suspended until ``licensing_decision_on``; the ZXRZ rules allow
    no such extension (004 §7.2.2, §7.3.1(7)). ``reason``: the particulars (internal record and
    notice), ``evidence``: what the verification rests on. Produces the suspension notice with
    start, period and the prohibition on using certificate and mark (004 §7.2.3).
    """
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    table = causes.scheme_causes(certificate.scheme)
    found = guards.suspension_cause(table, cause)
    guards.not_future(starts_on, _("The suspension start date"))
    if ends_on <= starts_on:
        raise RuleViolation(gettext("The suspension ends later than it starts."), table.period_rule)
    if licensing_decision_on is not None and found.number != table.licence_expired:
        raise RuleViolation(
            gettext(
                "A licensing decision date applies only to an expired licence whose renewal was "
                "accepted."
            ),
            "001 §9.3.2.2",
        )
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "suspend", label="证书")
        rule = table.period_rule
        limit = add_months(starts_on, table.max_suspension_months)
        if ends_on > limit:
            if licensing_decision_on is None:
                raise RuleViolation(
                    gettext("A suspension lasts at most 6 months (until %(limit)s at the latest).")
                    % {"limit": limit},
                    rule,
                )
            if not table.licence_extension:
                raise RuleViolation(
                    gettext(
                        "A suspension lasts at most 6 months (until %(limit)s at the latest); "
                        "these rules allow no extension to the licensing decision, and a "
                        "certificate whose licence is not renewed when the period ends is "
                        "withdrawn (004 §7.3.1(7))."
                    )
                    % {"limit": limit},
                    rule,
                )
            if ends_on > licensing_decision_on:
                raise RuleViolation(
                    gettext(
                        "A suspension longer than 6 months lasts until the licensing decision "
                        "(%(day)s) at the latest."
                    )
                    % {"day": licensing_decision_on},
                    "001 §9.3.2.2",
                )
        if starts_on < certificate.issued_on:
            raise RuleViolation(gettext("The suspension cannot start before the issue date."))
        if starts_on > certificate.expires_on:
            raise RuleViolation(gettext("The certificate has expired and cannot be suspended."))
        note = guards.within_working_days(
            verified_on, starts_on, what=_("suspension"), rule=found.rule
        )
        certificate.suspended_from = starts_on
        certificate.suspended_until = ends_on
        details = [evidence.strip()]
        if licensing_decision_on:
            details.append(f"许可决定日期：{licensing_decision_on}")
        if note:
            details.append(note)
        change_status(
            certificate,
            "suspend",
            CertificateEvent.Kind.SUSPENDED,
            actor=actor,
            on=starts_on,
            change_code="97_01",
            reason_code=found.cnca_code,
            reason=reason.strip() or found.label,
            public_reason=found.label,
            evidence="\n".join(d for d in details if d),
            cause=found.number,
            ends_on=ends_on,
            fields=["suspended_from", "suspended_until"],
        )
        close_open_proposals(
            certificate, Proposal.Action.SUSPEND, actor=actor, on=starts_on, done="暂停"
        )
        notice_issue(
            kind=CertificateDocument.Kind.SUSPENSION_NOTICE,
            actor=actor,
            on=starts_on,
            certificate=certificate,
            facts={
                "cause": found,
                "reason": reason.strip(),
                "verified_on": verified_on,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "period_days": (ends_on - starts_on).days + 1,
            },
        )
    return certificate


def certificate_restore(
    *, certificate: Certificate, actor, restored_on: date, evidence: str
) -> Certificate:
    """Restore a suspended certificate when the cause is removed, with the evidence (004 §7.2.4).

    ``restored_on`` lies within the suspension period, its last day (``suspended_until``)
    included: from the next day the period has ended unresolved and the certificate is withdrawn
    instead (004 §7.3.1(7)). Produces the restoration notice.
    """
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    if not evidence.strip():
        raise RuleViolation(
            gettext("Restoring records the evidence that the cause is removed."), "004 §7.2.4"
        )
    guards.not_future(restored_on, _("The restoration date"))
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "restore", label="证书")
        suspended_from = certificate.suspended_from
        if suspended_from and restored_on < suspended_from:
            raise RuleViolation(
                gettext("The restoration date cannot be earlier than the start of the suspension.")
            )
        if certificate.suspended_until and restored_on > certificate.suspended_until:
            raise RuleViolation(
                gettext(
                    "The suspension period ended on %(day)s and can no longer be restored; a "
                    "certificate whose cause was not removed within the period is withdrawn"
                )
                % {"day": certificate.suspended_until},
                "004 §7.2.4、§7.3.1(7)",
            )
        certificate.suspended_from = None
        certificate.suspended_until = None
        change_status(
            certificate,
            "restore",
            CertificateEvent.Kind.RESTORED,
            actor=actor,
            on=restored_on,
            change_code="97_02",
            reason="暂停原因已消除，恢复证书",
            evidence=evidence,
            fields=["suspended_from", "suspended_until"],
        )
        notice_issue(
            kind=CertificateDocument.Kind.RESTORATION_NOTICE,
            actor=actor,
            on=restored_on,
            certificate=certificate,
            facts={"restored_on": restored_on, "suspended_from": suspended_from},
        )
    return certificate


def certificate_withdraw(
    *,
    certificate: Certificate,
    actor,
    cause: int,
    verified_on: date,
    withdrawn_on: date,
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Withdraw a valid or suspended certificate and its sub-certificates (004 §7.3).

    ``cause``: the cause number in the certificate's scheme's table (``certificates.causes``:
    ZXRZ 004 §7.3.1 (1)–(10), CAS 001 §9.3.3.1 (1)–(10)); a number not in it is refused with
    its clause. ``withdrawn_on`` is on or after ``verified_on`` and at most 5 working days
    after it (004 §7.3.1; 001 §9.3.3.1). The cause "suspension period ended unresolved"
    (ZXRZ 7, CAS 5) needs a suspended certificate and is verified (hence
    made) no earlier than the day after ``suspended_until``: the last day itself still allows
    restoration (004 §7.2.4), so restoration and this withdrawal never fall on one day. The
    number becomes void and is never reused (Appendix C.5: sequences only grow). Open
    withdrawal proposals for the certificate are closed as accepted. Produces the withdrawal
    notice (recovery of the certificate or public announcement, 004 §7.3.2).
    """
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    table = causes.scheme_causes(certificate.scheme)
    found = guards.withdrawal_cause(table, cause)
    guards.not_future(withdrawn_on, _("The withdrawal date"))
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "withdraw", label="证书")
        if withdrawn_on < certificate.issued_on:
            raise RuleViolation(
                gettext("The withdrawal date cannot be earlier than the issue date.")
            )
        if found.number == table.suspension_ended_unresolved:
            if certificate.status != Certificate.Status.SUSPENDED:
                raise RuleViolation(
                    gettext(
                        "The certificate is not suspended, so it cannot be withdrawn because a "
                        "suspension ended unresolved."
                    ),
                    found.rule,
                )
            # The last day of the suspension still belongs to restoration (004 §7.2.4); the
            # period has ended unresolved only from the next day, so the two never meet.
            first_day = certificate.suspended_until + timedelta(days=1)
            if verified_on < first_day:
                raise RuleViolation(
                    gettext(
                        "The suspension period ends on %(day)s and the certificate can be "
                        "restored up to and including that day: a withdrawal because it ended "
                        "unresolved is verified and made from %(next)s."
                    )
                    % {"day": certificate.suspended_until, "next": first_day},
                    "004 §7.2.4、" + found.rule,
                )
        note = guards.within_working_days(
            verified_on, withdrawn_on, what=_("withdrawal"), rule=found.rule
        )
        change_status(
            certificate,
            "withdraw",
            CertificateEvent.Kind.WITHDRAWN,
            actor=actor,
            on=withdrawn_on,
            change_code="97_03",
            reason_code=found.cnca_code,
            reason=reason.strip() or found.label,
            public_reason=found.label,
            evidence="\n".join(d for d in (evidence.strip(), note) if d),
            cause=found.number,
        )
        close_open_proposals(
            certificate, Proposal.Action.WITHDRAW, actor=actor, on=withdrawn_on, done="撤销"
        )
        notice_issue(
            kind=CertificateDocument.Kind.WITHDRAWAL_NOTICE,
            actor=actor,
            on=withdrawn_on,
            certificate=certificate,
            facts={
                "cause": found,
                "reason": reason.strip(),
                "verified_on": verified_on,
                "withdrawn_on": withdrawn_on,
            },
        )
    return certificate


def certificate_cancel(
    *,
    certificate: Certificate,
    actor,
    cancelled_on: date,
    reason_code: str = "0204",
    reason: str = "",
    evidence: str = "",
) -> Certificate:
    """Cancel (注销) a valid or suspended certificate, normally at the client's request (004 §7.4).

    ``reason_code``: a CNCA cancellation reason (0204 the client's request by default; 0202
    the client gives up the certificate). ``evidence``: the client's written request (004 §7.4
    keeps the evidence). Produces the cancellation notice.
    """
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    label = guards.reason_label("cancellation_reason", reason_code, "004 §7.4")
    guards.not_future(cancelled_on, _("The cancellation date"))
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        require_transition(certificate, "cancel", label="证书")
        if cancelled_on < certificate.issued_on:
            raise RuleViolation(
                gettext("The cancellation date cannot be earlier than the issue date.")
            )
        change_status(
            certificate,
            "cancel",
            CertificateEvent.Kind.CANCELLED,
            actor=actor,
            on=cancelled_on,
            change_code="99",
            reason_code=reason_code,
            reason=reason.strip() or label,
            public_reason=label,
            evidence=evidence,
        )
        notice_issue(
            kind=CertificateDocument.Kind.CANCELLATION_NOTICE,
            actor=actor,
            on=cancelled_on,
            certificate=certificate,
            facts={"cancelled_on": cancelled_on, "reason": label, "reason_code": reason_code},
        )
    return certificate


def certificate_expire(
    *, certificate: Certificate, actor, today: date | None = None
) -> Certificate:
    """Mark a certificate expired once its validity has ended without renewal (004 §7.5)."""
    policy.require(actor, "certificates.change_status", certificate)
    guards.head_only(certificate)
    today = today or timezone.localdate()
    with transaction.atomic():
        certificate = lock(Certificate, certificate.pk)
        if certificate.expires_on >= today:
            raise RuleViolation(
                gettext("The certificate is valid until %(day)s and has not expired yet.")
                % {"day": certificate.expires_on}
            )
        return change_status(
            certificate,
            "expire",
            CertificateEvent.Kind.EXPIRED,
            actor=actor,
            on=certificate.expires_on + timedelta(days=1),
            change_code="97_05",
            reason_code="0201",
            reason=cnca_label("cancellation_reason", "0201"),
        )
