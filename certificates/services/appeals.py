"""Appeals and complaints (004 §8; 001 §10): received from clients, staff or the public form,
acknowledged, assigned to a handler independent of the matter, decided in writing within 60 days.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from applications.models import Organization
from audits.models import Audit
from certbody import policy
from certbody.lifecycle import RuleViolation, fire, lock, record, require_transition
from certificates import guards, selectors
from certificates.models import (
    Appeal,
    Certificate,
    CertificateDocument,
    Decision,
)
from certificates.services.notices import notice_issue

APPEAL_RULE = "004 §8.3 / 001 §10"


def appeal_receive(
    *,
    actor,
    kind: str,
    received_on: date,
    subject: str,
    description: str,
    organization: Organization | None = None,
    name: str = "",
    contact: str = "",
    about_organization: str = "",
    certificate: Certificate | None = None,
    decision: Decision | None = None,
    audit: Audit | None = None,
    channel: str = "",
) -> Appeal:
    """Receive an appeal (against a certification decision) or a complaint (004 §8.1).

    ``actor``: a client user (portal; the appeal is their organisation's and may only concern
    its own decisions and certificates), staff recording a letter or call, or the system user
    for the public web form. An appeal names the ``decision`` (or the ``certificate`` whose
    suspension, withdrawal … it contests) and comes from the organisation it concerns; a
    complaint from the public needs a ``name`` and a ``contact``. The written result is due
    60 days after ``received_on`` (``due_on``; 004 §8.3, 001 §10).
    """
    if kind not in Appeal.Kind.values:
        raise RuleViolation(gettext("Unknown kind: %(kind)s") % {"kind": kind})
    if not subject.strip() or not description.strip():
        raise RuleViolation(gettext("Fill in the subject and what happened."))
    guards.not_future(received_on, _("The date received"))
    client = getattr(actor, "is_client", False)
    if client:
        if organization is not None and organization.pk != actor.organization_id:
            raise RuleViolation(
                gettext(
                    "A client user appeals or complains in the name of their own organisation only."
                )
            )
        organization = actor.organization
    if decision is not None and certificate is None and audit is None:
        audit = decision.audit
    owners = {
        obj.organization.pk if isinstance(obj, Certificate) else obj.programme.organization_id
        for obj in (certificate, decision and decision.audit, audit)
        if obj is not None
    }
    if client and owners - {actor.organization_id}:
        raise RuleViolation(
            gettext(
                "An appeal or complaint concerns your own organisation's decisions, audits or "
                "certificates only."
            )
        )
    if kind == Appeal.Kind.APPEAL:
        if decision is None and certificate is None:
            raise RuleViolation(
                gettext(
                    "An appeal concerns a certification decision or a change of certificate status."
                ),
                "004 §8.1",
            )
        owner = (
            decision.audit.programme.organization
            if decision is not None
            else certificate.organization
        )
        if organization is None:
            organization = owner
        if organization.pk != owner.pk:
            raise RuleViolation(
                gettext(
                    "Only the client (the certified organisation) itself appeals its decision."
                ),
                "004 §8.1",
            )
    if organization is None and not (name.strip() and contact.strip()):
        raise RuleViolation(
            gettext("Leave a name and contact details so that the result can be sent in writing."),
            "004 §8.3",
        )
    if not channel:
        if client:
            channel = Appeal.Channel.PORTAL
        elif getattr(actor, "is_staff", False) and actor.is_active:
            channel = Appeal.Channel.STAFF
        else:
            channel = Appeal.Channel.PUBLIC
    with transaction.atomic():
        appeal = Appeal(
            reference=f"tmp-{timezone.now():%H%M%S%f}",
            kind=kind,
            channel=channel,
            received_on=received_on,
            due_on=Appeal.due_date(received_on),
            organization=organization,
            # The public form acts as the system user: no one to link.
            submitted_by=actor if channel != Appeal.Channel.PUBLIC else None,
            name=name.strip()[:100],
            contact=contact.strip()[:200],
            subject=subject.strip()[:200],
            description=description.strip(),
            about_organization=about_organization.strip()[:200],
            certificate=certificate,
            decision=decision,
            audit=audit,
        )
        record(appeal, actor=actor, reason="收到申诉或投诉")
        appeal.save()
        prefix = "SS" if kind == Appeal.Kind.APPEAL else "TS"
        appeal.reference = f"{prefix}{received_on.year}-{appeal.pk:05d}"
        Appeal.objects.filter(pk=appeal.pk).update(reference=appeal.reference)
    return appeal


def _require_independent(appeal: Appeal, user, who: str) -> None:
    if not user.is_active or not user.is_staff:
        raise RuleViolation(
            gettext("The %(who)s is an active member of the CB's staff.") % {"who": who},
            APPEAL_RULE,
        )
    if user.pk in selectors.appeal_involved_user_ids(appeal):
        raise RuleViolation(
            gettext(
                "The %(who)s %(user)s took part in the matter appealed or complained of "
                "(audit team member, decision maker or changed the certificate's status): "
                "someone not involved handles it"
            )
            % {"who": who, "user": user},
            APPEAL_RULE,
        )


def appeal_acknowledge(*, appeal: Appeal, actor, acknowledged_on: date) -> Appeal:
    """Acknowledge receipt to the appellant (staff)."""
    policy.require(actor, "certificates.handle_appeal", appeal)
    guards.not_future(acknowledged_on, _("The acknowledgement date"))
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        if acknowledged_on < appeal.received_on:
            raise RuleViolation(
                gettext("The acknowledgement date cannot be earlier than the date received.")
            )
        appeal.acknowledged_on = acknowledged_on
        fire(appeal, "acknowledge", actor=actor, reason="确认受理", fields=["acknowledged_on"])
    return appeal


def appeal_assign(*, appeal: Appeal, actor, handler) -> Appeal:
    """Assign the handler, who must not have been involved in the matter (004 §8.3; 001 §10),
    and start the investigation; while under investigation the handler may be replaced."""
    policy.require(actor, "certificates.assign_appeal", appeal)
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        _require_independent(appeal, handler, _("handler"))
        appeal.handler = handler
        if appeal.state == Appeal.State.UNDER_INVESTIGATION:
            record(appeal, actor=actor, reason="更换处理人员")
            appeal.save(update_fields=["handler"])
        else:
            fire(appeal, "investigate", actor=actor, reason="指派处理人员", fields=["handler"])
    return appeal


def appeal_decide(
    *, appeal: Appeal, actor, decided_on: date, outcome: str, decision_text: str
) -> Appeal:
    """Decide in writing (004 §8.3). The actor is the handler, or a technical manager approving
    it; either way independent of the matter. Produces the written result as a PDF with the
    sentence that the appellant may complain to the local regulator or CNCA (004 §8.4; 001 §10).
    A decision after ``due_on`` is recorded (and shows as overdue), not refused."""
    if outcome not in Appeal.Outcome.values:
        raise RuleViolation(gettext("Unknown outcome: %(outcome)s") % {"outcome": outcome})
    if not decision_text.strip():
        raise RuleViolation(gettext("Write the decision down."), "004 §8.3")
    guards.not_future(decided_on, _("The decision date"))
    with transaction.atomic():
        appeal = lock(Appeal, appeal.pk)
        require_transition(appeal, "decide", label="申诉（投诉）")
        # The assigned handler, or a technical manager approving it (matrix row); either way
        # independent of the matter (the rule check below).
        policy.require(actor, "certificates.decide_appeal", appeal)
        _require_independent(appeal, actor, _("person deciding"))
        if decided_on < appeal.received_on:
            raise RuleViolation(
                gettext("The decision date cannot be earlier than the date received.")
            )
        appeal.outcome = outcome
        appeal.decision_text = decision_text.strip()
        appeal.decided_on = decided_on
        appeal.decided_by = actor
        fire(
            appeal,
            "decide",
            actor=actor,
            reason="书面处理决定",
            fields=["outcome", "decision_text", "decided_on", "decided_by"],
        )
        notice_issue(
            kind=CertificateDocument.Kind.APPEAL_DECISION,
            actor=actor,
            on=decided_on,
            appeal=appeal,
            certificate=appeal.certificate,
            decision=appeal.decision,
            organization=appeal.organization,
        )
    return appeal
