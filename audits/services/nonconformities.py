"""Nonconformities: raise, answer, review, verify a plan (004 §5.10; 001 §7.5).

The audit team raises a nonconformity (NC) during or after an audit; the client answers with a
cause analysis, correction and corrective action (or, for a minor NC, a corrective action plan)
and evidence files; the team reviews each answer; a minor NC's accepted plan is verified at the
next audit of the same organisation (004 §5.10.2). Deadlines:
``audits.selectors.nonconformity_due``,
recomputed when the audit ends (``nonconformity_due_recompute``, called by ``audit_complete``).
"""

from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from audits.models import (
    Audit,
    Nonconformity,
    NonconformityAttachment,
    NonconformityResponse,
)
from audits.selectors.nonconformities import (
    RAISE_STATES,
    VERIFY_STATES,
    Review,
    Severity,
    State,
    next_step,
    nonconformity_due,
)
from audits.services._guards import _check_day, _text
from certbody import dates, policy, uploads
from certbody.jobs import client_addresses
from certbody.lifecycle import RuleViolation, fire, lock, record
from certbody.notifications import notify_addresses

# Upload limits and types: the generic rules of certbody.uploads (names kept for callers).
MAX_ATTACHMENTS = uploads.MAX_FILES


MAX_ATTACHMENT_BYTES = uploads.MAX_BYTES


ATTACHMENT_TYPES = uploads.TYPES


ALLOWED_EXTENSIONS_TEXT = uploads.ALLOWED_EXTENSIONS_TEXT


def nonconformity_due_recompute(audit: Audit, *, actor=None) -> int:
    """Recompute ``due_on`` of every NC of ``audit`` from its (now known) ``actual_end``.

    Called by ``audits.services.audit_complete`` inside its transaction, so NCs raised while the
    audit ran get the deadline of 004 §5.10.3 counted from the audit's end. ``actor``: recorded
    in the history (the system user when None). Returns how many NCs changed.
    """
    if audit.actual_end is None:
        return 0
    changed = 0
    due = nonconformity_due(audit)
    for nc in Nonconformity.objects.select_for_update().filter(audit_id=audit.pk):
        if nc.due_on == due:
            continue
        nc.due_on = due
        record(nc, actor=actor, reason="审核结束，按审核结束日期重算期限")
        nc.save(update_fields=["due_on"])
        changed += 1
    return changed


def nonconformity_raise(
    *,
    audit: Audit,
    actor,
    severity: str,
    clause: str,
    description: str,
    evidence: str,
    raised_on: date,
) -> Nonconformity:
    """Raise an NC on ``audit`` (004 §5.10.1).

    ``severity``: "major" or "minor"; ``clause``: the clause of the criteria not met (e.g.
    "GB/T 27922 5.3.2"); ``description`` and ``evidence``: the finding and its objective
    evidence; ``raised_on``: local date, not before the audit started nor after today.

    By the team leader or an auditor of the audit (not a trainee or expert, 004 §5.4.4); only on
    an audit in progress or completed. NCs are numbered 1, 2 … per audit; ``due_on`` comes from
    ``nonconformity_due``. Raises ``RuleViolation``.
    """
    if severity not in Severity.values:
        raise RuleViolation(
            _("Unknown nonconformity severity: %(severity)s.") % {"severity": severity}
        )
    clause = _text(clause, _("the clause not met"), "004 §5.6.3")[:60]
    description = _text(description, _("the description of the nonconformity"), "004 §5.6.3")
    evidence = _text(evidence, _("the objective evidence"), "004 §5.6.3")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        policy.require(actor, "audits.raise_nonconformity", audit)
        if audit.state not in RAISE_STATES:
            raise RuleViolation(
                _(
                    '%(audit)s is "%(state)s": nonconformities are raised while the audit '
                    "is in progress or after it is completed."
                )
                % {"audit": audit, "state": audit.get_state_display()}
            )
        _check_day(
            raised_on,
            _("the date raised"),
            not_before=audit.actual_start,
            before_label=_("the audit's start"),
        )
        last = audit.nonconformities.aggregate(n=Max("number"))["n"] or 0
        nc = Nonconformity(
            audit=audit,
            number=last + 1,
            severity=severity,
            clause=clause,
            description=description,
            evidence=evidence,
            raised_by=actor,
            raised_on=raised_on,
            due_on=nonconformity_due(audit, raised_on=raised_on),
        )
        record(nc, actor=actor, reason=f"开具{nc.get_severity_display()}不符合项")
        nc.save()
    return nc


CheckedAttachment = uploads.CheckedUpload


def attachment_check(upload) -> CheckedAttachment:
    """Validate one uploaded evidence file and read it (``certbody.uploads.check_file``:
    PDF, JPEG, PNG, DOCX, XLSX by extension and content, at most 10 MB, not empty). Raises
    ``RuleViolation``."""
    return uploads.check_file(upload, noun=_("Attachment"))


def attachments_check(files: Iterable) -> list[CheckedAttachment]:
    """``attachment_check`` for each upload, at most 10 of them; all or nothing."""
    return uploads.check_files(
        files,
        noun=_("Attachment"),
        too_many=_("At most %(count)d attachments can be uploaded with one answer.")
        % {"count": MAX_ATTACHMENTS},
    )


def _store(response: NonconformityResponse, checked: list[CheckedAttachment], stored: list):
    """Write the checked files under generated names and their rows; ``stored`` collects the
    storage names written so far (for clean-up when the transaction fails)."""
    for item in checked:
        attachment = NonconformityAttachment(
            response=response,
            original_name=item.original_name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
        # Stored under a generated name; the client's file name is kept only as data.
        stored.append(uploads.save(attachment.file, item))
        attachment.save()


def _remove_files(names) -> None:
    uploads.remove_files(NonconformityAttachment._meta.get_field("file").storage, names)


def _client_of(actor, nc: Nonconformity) -> bool:
    """An active client user of the NC's organisation (not a role: the organisation)."""
    if not (actor.is_authenticated and actor.is_active) or actor.is_staff:
        return False
    return actor.organization_id == nc.audit.programme.organization_id


def nonconformity_answer(
    *,
    nonconformity: Nonconformity,
    actor,
    cause_analysis: str,
    correction: str,
    corrective_action: str,
    is_plan: bool = False,
    attachments: Iterable = (),
    submitted_on: date,
) -> NonconformityResponse:
    """Record the client's answer to an open (or rejected) NC (004 §5.10.1).

    ``cause_analysis``, ``correction``, ``corrective_action``: required texts. ``is_plan``:
    the answer is a corrective action plan to be verified at the next audit — minor NCs only
    (004 §5.10.2). ``attachments``: up to 10 ``UploadedFile`` evidence files (PDF, JPEG, PNG,
    DOCX, XLSX by extension and content, ≤ 10 MB each; ``attachment_check``). Every file is
    checked before anything is written: one bad file refuses the whole answer. ``submitted_on``:
    local date, not before the NC was raised nor after today.

    By a client user of the NC's organisation, or by the audit department or the audit team on
    the client's behalf (recorded). Raises ``RuleViolation``.
    """
    if actor.is_authenticated and actor.is_active and actor.is_staff:
        # Staff enter the client's answer on its behalf (004 §5.10.1).
        policy.require(actor, "audits.answer_nonconformity", nonconformity)
    elif not _client_of(actor, nonconformity):
        raise RuleViolation(
            _("%(actor)s may not answer this nonconformity.") % {"actor": actor}, "004 §5.10.1"
        )
    cause_analysis = _text(cause_analysis, _("the cause analysis"), "004 §5.10.1")
    correction = _text(correction, _("the correction"), "004 §5.10.1")
    corrective_action = _text(corrective_action, _("the corrective action"), "004 §5.10.1")
    checked = attachments_check(attachments)
    stored: list[str] = []
    try:
        with transaction.atomic():
            nc = lock(Nonconformity, nonconformity.pk)
            if is_plan and nc.severity != Severity.MINOR:
                raise RuleViolation(
                    _(
                        "A major nonconformity needs its correction done and verified; a "
                        "corrective action plan alone is not enough."
                    ),
                    "004 §5.10.2、§5.10.3",
                )
            _check_day(
                submitted_on,
                _("the answer date"),
                not_before=nc.raised_on,
                before_label=_("the date raised"),
            )
            response = NonconformityResponse(
                nonconformity=nc,
                cause_analysis=cause_analysis,
                correction=correction,
                corrective_action=corrective_action,
                is_plan=bool(is_plan),
                submitted_by=actor,
                submitted_on=submitted_on,
            )
            reason = "客户提交纠正措施计划" if is_plan else "客户答复不符合项"
            if actor.is_staff:
                reason = f"{actor}代客户录入答复"
            fire(nc, "answer", actor=actor, reason=reason, label="不符合项")
            response.save()
            _store(response, checked, stored)
    except BaseException:
        # Nothing of a refused answer stays behind, files included. (A caller's own outer
        # transaction rolling back later leaves the files orphaned; they are never served.)
        _remove_files(stored)
        raise
    return response


def nonconformity_review(
    *, response: NonconformityResponse, actor, accepted: bool, note: str, reviewed_on: date
) -> NonconformityResponse:
    """The team reviews the latest, pending answer to an NC (004 §5.10.2).

    ``accepted``: True to accept, False to reject; ``note``: the verification record — required
    when rejecting (the reasons the client must address); ``reviewed_on``: local date, not
    before the answer nor after today. Accepting a major NC, or a minor NC's full correction,
    closes it (``closed_on`` = ``reviewed_on``); accepting a minor NC's plan (``is_plan``) moves
    it to ``plan_accepted``, to be verified at the next audit. Rejecting sends it back to the
    client (``rejected``).

    By the team leader or an auditor of the NC's audit. An acceptance after ``due_on`` is still
    recorded, and flagged in the history ("逾期验证"; see ``verified_late``): 004 §5.10.4 then
    bars the decision, which the decision service enforces. Raises ``RuleViolation``.
    """
    accepted = bool(accepted)
    note = (note or "").strip()
    if not accepted and not note:
        raise RuleViolation(
            _("Not accepting an answer needs the reason, so that the client can answer again."),
            "004 §5.10.2",
        )
    with transaction.atomic():
        response = lock(NonconformityResponse, response.pk)
        nc = lock(Nonconformity, response.nonconformity_id)
        policy.require(actor, "audits.verify_nonconformity", nc)
        if response.review != Review.PENDING:
            raise RuleViolation(_("This answer has been reviewed already."))
        latest = nc.responses.order_by("-pk").values_list("pk", flat=True).first()
        if latest != response.pk or nc.state != State.ANSWERED:
            raise RuleViolation(
                _("Only the nonconformity's latest answer awaiting review can be reviewed.")
            )
        _check_day(
            reviewed_on,
            "验证日期",
            not_before=response.submitted_on,
            before_label=_("the answer date"),
        )
        late = accepted and reviewed_on > nc.due_on
        if not accepted:
            transition, reason = "reject", "不接受答复，退回客户"
        elif response.is_plan:
            transition, reason = "accept_plan", "接受纠正措施计划，下次审核验证"
        else:
            transition, reason, nc.closed_on = "accept", "验证有效，关闭不符合项", reviewed_on
        if late:
            reason = f"逾期验证（期限 {nc.due_on:%Y-%m-%d}）：{reason}"
        fields = ["closed_on"] if transition == "accept" else []
        fire(nc, transition, actor=actor, reason=reason, fields=fields, label="不符合项")
        response.review = Review.ACCEPTED if accepted else Review.REJECTED
        response.reviewed_by = actor
        response.reviewed_on = reviewed_on
        response.review_note = note
        response.save(update_fields=["review", "reviewed_by", "reviewed_on", "review_note"])
    return response


def nonconformity_review_pending(
    *, nonconformity: Nonconformity, actor, accepted: bool, note: str, reviewed_on: date
) -> NonconformityResponse:
    """``nonconformity_review`` of the NC's latest pending answer (the workspace's review action).

    Raises ``RuleViolation`` when the NC has no answer waiting for review.
    """
    response = (
        nonconformity.responses.filter(review=Review.PENDING).order_by("-pk").first()
        if nonconformity.pk
        else None
    )
    if response is None:
        raise RuleViolation(_("This nonconformity has no answer awaiting review."))
    return nonconformity_review(
        response=response, actor=actor, accepted=accepted, note=note, reviewed_on=reviewed_on
    )


def nonconformity_verify_plan(
    *,
    nonconformity: Nonconformity,
    actor,
    audit: Audit,
    effective: bool,
    note: str,
    verified_on: date,
) -> Nonconformity:
    """Verify, at a later ``audit`` of the same organisation, the plan accepted for a minor NC
    (004 §5.10.2: "由 ZXRZ 在下次审核时验证").

    ``audit``: an audit of the same organisation (any programme: a recertification opens a new
    one) after the NC's audit, in progress or completed, whose team leader or auditor ``actor``
    is. ``note``: what was verified (required). ``verified_on``: local date during or after
    that audit, not after today.

    ``effective`` True: the NC is closed, ``verified_at`` = ``audit``, ``closed_on`` =
    ``verified_on``. ``effective`` False: an ineffective plan cannot keep the NC settled, and
    reopening it is not a state this NC has; the team records the finding as a new NC on
    ``audit`` (``nonconformity_raise``, usually as major when it recurs) **before** calling
    this, and this NC is then closed as superseded, with "纠正措施无效" in the history and the
    note. Either way returns the NC (state ``closed``). Raises ``RuleViolation``.
    """
    note = _text(note, _("the verification notes"), "004 §5.10.2")
    with transaction.atomic():
        nc = lock(Nonconformity, nonconformity.pk)
        audit = Audit.objects.select_related("programme").get(pk=audit.pk)
        origin = nc.audit
        if nc.state != State.PLAN_ACCEPTED:
            raise RuleViolation(
                _(
                    'The nonconformity is "%(state)s": only a minor nonconformity with an '
                    "accepted corrective action plan is verified at the next audit."
                )
                % {"state": nc.get_state_display()},
                "004 §5.10.2",
            )
        if audit.pk == origin.pk or (
            audit.programme.organization_id != origin.programme.organization_id
        ):
            raise RuleViolation(
                _("A corrective action plan is verified at the organisation's next audit."),
                "004 §5.10.2",
            )
        origin_end = origin.actual_end or origin.actual_start
        if audit.actual_start is None or (origin_end and audit.actual_start < origin_end):
            raise RuleViolation(
                _(
                    "A corrective action plan is verified at the audit that follows the "
                    "nonconformity."
                ),
                "004 §5.10.2",
            )
        if audit.state not in VERIFY_STATES:
            raise RuleViolation(
                _("%(audit)s has not started or is terminated: nothing can be verified in it.")
                % {"audit": audit},
                "004 §5.10.2",
            )
        # The team of the next audit verifies a minor NC's plan (004 §5.10.2).
        policy.require(actor, "audits.verify_nonconformity", audit)
        _check_day(
            verified_on,
            _("the verification date"),
            not_before=audit.actual_start,
            before_label=_("the audit's start"),
        )
        if not effective and not audit.nonconformities.exists():
            raise RuleViolation(
                _(
                    "When the corrective action was not effective, first raise a new "
                    "nonconformity in %(audit)s, then close the old one."
                )
                % {"audit": audit},
                "004 §5.10.2",
            )
        verdict = "验证有效" if effective else "纠正措施无效，已另行开具不符合项"
        nc.closed_on = verified_on
        nc.verified_at = audit
        fire(
            nc,
            "verify_plan",
            actor=actor,
            reason=f"下次审核{verdict}",
            fields=["closed_on", "verified_at"],
            label="不符合项",
        )
        plan = nc.responses.filter(review=Review.ACCEPTED, is_plan=True).order_by("-pk").first()
        if plan is not None:
            line = f"{verified_on:%Y-%m-%d} 于{audit}验证：{verdict}。{note}"
            plan.review_note = f"{plan.review_note}\n{line}".strip()
            plan.save(update_fields=["review_note"])
    return nc


def nonconformity_remind_client(*, nonconformity: Nonconformity, actor) -> int:
    """E-mail the client organisation (its contact and active users) a reminder that
    ``nonconformity`` awaits their answer by its verification deadline (004 §5.10.1, §5.10.3),
    with the letter of the daily reminder job (``nonconformity_due_client``); the e-mails go
    through the outbox after commit. Returns the number of addresses written to.

    Refused (``RuleViolation``) unless the NC waits for the client (open, or its last answer
    rejected) or when the organisation has no e-mail address; ``NotPermitted`` for a role
    without ``audits.remind_nonconformity``.
    """
    policy.require(actor, "audits.remind_nonconformity", nonconformity)
    nc = Nonconformity.objects.select_related("audit__programme__organization").get(
        pk=nonconformity.pk
    )
    if nc.state not in (State.OPEN, State.REJECTED):
        raise RuleViolation(
            _("This nonconformity does not wait for the client's answer."), rule="004 §5.10.1"
        )
    organization = nc.audit.programme.organization
    today = dates.today()
    try:
        portal_path = reverse("audits_portal:detail", args=[nc.pk])
    except NoReverseMatch:
        portal_path = ""
    sent = notify_addresses(
        client_addresses(organization),
        template="nonconformity_due_client",
        context={
            "nc": nc,
            "audit": nc.audit,
            "organization": organization,
            "days_left": (nc.due_on - today).days,
            "overdue": nc.due_on < today,
            "awaiting_client": True,
            "next_step": next_step(nc),
            "portal_path": portal_path,
        },
        kind="nonconformity_reminder",
    )
    if not sent:
        raise RuleViolation(_("The organisation has no e-mail address to remind."))
    return sent
