"""Audit programmes: the cycle's audits, their due dates and special audits (004 §5.4.1, §5.7,
§5.8, §5.9; 001 §7).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Contract
from audits import rules
from audits.models import (
    AsrpAuditActivity,
    Audit,
    AuditProgramme,
)
from audits.selectors.planning import (
    _ASRP_KINDS,
    _asrp_in_use,
    _closing_recertification,
    _opening_audit,
    _proposed_days,
    _reference_initial_days,
)
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, lock, record
from certbody.pdf import document_language


def programme_create(*, application: Application, actor) -> AuditProgramme:
    """Create the programme of the cycle an accepted, contracted application opens (004 §5.4.1).

    Initial cycle: document review and stage 2 with the Appendix A time as proposal.
    A recertification application received later than 3 months before the current expiry is
    handled as initial certification the same way, its reason stored on the application
    (``Application.handled_as_initial_reason``; 004 §5.8.1).
    Recertification: the audit planned at the end of the previous cycle moves into the new
    programme (it opens the new cycle and numbers its certificate R+1), re-timed for the
    application's headcount and due the day before the current expiry (004 §5.8.3); without
    one, a new recertification audit is planned. Raises RuleViolation when the application is
    not accepted or its contract is not signed (004 §5.3: contract before any audit).
    """
    policy.require(actor, "audits.plan_programme", application)
    with transaction.atomic():
        application = lock(Application, application.pk)
        if application.state != Application.State.ACCEPTED:
            raise RuleViolation(
                _("Only an accepted application can have an audit programme."), "004 §5.2"
            )
        contract = Contract.objects.filter(application=application).first()
        if contract is None or contract.state != Contract.State.SIGNED:
            raise RuleViolation(
                _("No audit can be arranged before the certification contract is signed."),
                "004 §5.3",
            )
        if AuditProgramme.objects.filter(application=application).exists():
            raise RuleViolation(_("This application already has an audit programme."))
        previous = (
            AuditProgramme.objects.filter(organization=application.organization)
            .order_by("-cycle")
            .first()
        )
        recertification = application.kind == Application.Kind.RECERTIFICATION
        if recertification and previous is None:
            raise RuleViolation(
                _(
                    "There is no previous certification cycle: the audit cannot be arranged "
                    "as recertification."
                ),
                "004 §5.8",
            )
        cycle = previous.cycle + 1 if (recertification and previous) else 0
        if recertification and _recertification_late(application, previous, actor):
            recertification = False  # 004 §5.8.1: handled as a new initial certification
        if not recertification and previous is not None:
            # A lapsed client starts over as initial certification (004 §5.8.1), new cycle row.
            cycle = previous.cycle + 1
        programme = AuditProgramme(
            organization=application.organization,
            application=application,
            cycle=cycle,
            scheme=application.scheme,
            headcount=application.headcount,
        )
        record(programme, actor=actor, reason="建立审核方案")
        programme.save()
        if recertification:
            due_on = previous.expires_on - timedelta(days=1) if previous.expires_on else None
            carried = _closing_recertification(previous)
            if carried is not None and carried.state == Audit.State.PLANNED:
                carried = lock(Audit, carried.pk)
                carried.programme = programme
                carried.due_on = due_on or carried.due_on
                if not hasattr(carried, "time_determination"):
                    carried.planned_days = _proposed_days(programme, carried.audit_type)
                record(carried, actor=actor, reason="转入再认证周期的审核方案")
                carried.save(update_fields=["programme", "due_on", "planned_days"])
            else:
                _add_audit(
                    programme,
                    actor,
                    kind=Audit.Kind.RECERTIFICATION,
                    days=_proposed_days(programme, rules.RECERTIFICATION),
                    due_on=due_on,
                )
        else:
            _add_audit(programme, actor, kind=Audit.Kind.DOCUMENT_REVIEW, days=Decimal("0.5"))
            _add_audit(
                programme,
                actor,
                kind=Audit.Kind.STAGE2,
                days=_proposed_days(programme, rules.INITIAL),
            )
    return programme


def _recertification_late(application: Application, previous: AuditProgramme, actor) -> bool:
    """Whether the recertification ``application`` came later than 3 months before the current
    certificate's expiry (004 §5.8.1; ``rules.recertification_is_late``); if so, store on the
    application why it is handled as initial certification (shown on the application's and
    the programme's pages). Received: ``Application.received_on`` (before that field, the
    local date it was submitted)."""
    if previous.expires_on is None:
        return False
    received_on = application.received_on or timezone.localdate(
        application.submitted_at or application.created_at
    )
    if not rules.recertification_is_late(received_on, previous.expires_on):
        return False
    with document_language():  # a stored record, kept in Chinese (004 §10)
        reason = _(
            "Recertification application received on %(received)s, later than 3 months before "
            "the certificate expires on %(expires)s (last day %(due)s): handled as initial "
            "certification, with document review and stage 2 at the initial audit time in a "
            "new programme (004 §5.8.1)."
        ) % {
            "received": received_on.isoformat(),
            "expires": previous.expires_on.isoformat(),
            "due": rules.recertification_application_due(previous.expires_on).isoformat(),
        }
    application.handled_as_initial_reason = reason
    record(application, actor=actor, reason="逾期再认证申请按初次认证处理")
    application.save(update_fields=["handled_as_initial_reason"])
    return True


_UNKNOWN = object()


def _add_audit(
    programme,
    actor,
    *,
    kind,
    days=None,
    sequence=1,
    due_on=None,
    reason="",
    asrp=_UNKNOWN,
    **extra,
):
    """Add a planned audit to ``programme``, with its ASRP activities when an ASRP programme is
    in use (``asrp``: that programme or None when the caller has looked it up already)."""
    audit = Audit(
        programme=programme,
        kind=kind,
        sequence=sequence,
        planned_days=days,
        due_on=due_on,
        reason=reason,
        **extra,
    )
    record(audit, actor=actor, reason="列入审核方案")
    audit.save()
    if asrp is _UNKNOWN:
        asrp = _asrp_in_use(programme)
    if asrp is not None:
        _asrp_activities_ensure(audit, actor)
    return audit


def _audits_create(audits: list[Audit], actor, asrp) -> None:
    """Insert planned audits built and recorded (``record``) by the caller: one statement for
    the rows and one for their history (what ``_add_audit`` writes one audit at a time), then
    their ASRP activities when ``asrp`` (the programme's ASRP programme in use, or None)."""
    Audit.objects.bulk_create(audits)
    Audit.history.bulk_history_create(audits)  # each row's _history_user and _change_reason
    if asrp is not None:
        for audit in audits:
            _asrp_activities_ensure(audit, actor)


def _asrp_activities_ensure(audit: Audit, actor) -> None:
    if audit.kind not in _ASRP_KINDS or audit.state != Audit.State.PLANNED:
        return
    existing = set(audit.asrp_activities.values_list("activity", flat=True))
    for activity in AsrpAuditActivity.Activity.values:
        if activity not in existing:
            row = AsrpAuditActivity(audit=audit, activity=activity)
            record(row, actor=actor, reason="ASRP 必须开展的活动")
            row.save()


def programme_plan_cycle(
    *, programme: AuditProgramme, actor, decision_date: date, expires_on: date
) -> list[Audit]:
    """After a grant, store the decision and expiry and plan the rest of the cycle.

    Adds (or re-dates) surveillance 1 and 2 and the recertification audit, and sets the
    recertification application deadline, 3 months before expiry (004 §5.8.1). Due dates:
    see ``programme_replan``. Called by ``certificates.services.certificate_issue``; returns
    the audits created or re-dated.

    No savepoint of its own when called inside a transaction (two round trips and their
    bookkeeping fewer on every grant, issue #16): an exception rolls back the caller's
    transaction or savepoint with it, so a caller must not catch one and carry on.
    """
    with transaction.atomic(savepoint=False):
        # The application is read by the planning below (``_opening_audit``); lock only the
        # programme's row.
        programme = (
            AuditProgramme.objects.select_for_update(of=("self",))
            .select_related("application")
            .get(pk=programme.pk)
        )
        programme.decided_on = decision_date
        programme.expires_on = expires_on
        programme.recert_application_due = rules.recertification_application_due(expires_on)
        record(programme, actor=actor, reason="认证决定后编排监督和再认证审核")
        programme.save(update_fields=["decided_on", "expires_on", "recert_application_due"])
        return _replan(programme, actor, reason="按认证决定日期编排")


def programme_replan(*, programme: AuditProgramme, actor, reason: str = "") -> list[Audit]:
    """Recompute the due dates of the programme's planned audits from their stored inputs.

    Inputs: the decision date and expiry (``programme_plan_cycle``) and the actual dates of
    earlier surveillance audits. ZXRZ: surveillance 1 within 12 months of the decision
    (004 §5.7.3), surveillance 2 by the earlier of 15 months after surveillance 1 and the end of
    the next calendar year (004 §5.4.1.5), never after expiry. CAS: each surveillance 9–12
    months after the previous audit (001 §7.1). Recertification: finished the day before expiry
    (004 §5.8.3). The services call this when an input changes; staff may call it too.
    """
    policy.require(actor, "audits.plan_programme", programme)
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        return _replan(programme, actor, reason=reason or "重新编排审核方案")


def programme_headcount_change(
    *, programme: AuditProgramme, actor, headcount: int, reason: str
) -> AuditProgramme:
    """Change the effective headcount the programme plans with and re-time its planned audits.

    Planned audits without a recorded determination get the new Appendix A proposal; a
    recorded determination stays until it is determined again (004 §5.4.2.3: each
    determination is recorded). Refused for a headcount below 1 or without a reason.
    """
    policy.require(actor, "audits.plan_programme", programme)
    if isinstance(headcount, bool) or not isinstance(headcount, int) or headcount < 1:
        raise RuleViolation(_("The effective headcount must be at least 1."), "004 附录A")
    if not reason.strip():
        raise RuleViolation(_("Changing the effective headcount needs a reason."))
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        programme.headcount = headcount
        bounds.check_instance(programme, "headcount")
        record(programme, actor=actor, reason=f"有效人数变更：{reason}")
        programme.save(update_fields=["headcount"])
        _replan(programme, actor, reason="有效人数变更后重排", retime=True)
    return programme


def _surveillance_dues(programme, s1: Audit | None, *, opening=_UNKNOWN) -> tuple[date, date]:
    decided, expires = programme.decided_on, programme.expires_on
    if programme.scheme == rules.SCHEME_CAS:
        if opening is _UNKNOWN:
            opening = _opening_audit(programme)
        opening_end = (opening.actual_end if opening else None) or decided
        s1_due = rules.cas_surveillance_window(opening_end)[1]
        s1_end = (s1.actual_end if s1 else None) or s1_due
        s2_due = rules.cas_surveillance_window(s1_end)[1]
    else:
        s1_due = rules.next_surveillance_due(decided)
        s1_on = (s1.actual_start if s1 else None) or s1_due
        s2_due = rules.next_surveillance_due(decided, max(s1_on, decided))
    return min(s1_due, expires), min(s2_due, expires)


def _replan(programme: AuditProgramme, actor, *, reason: str, retime: bool = False) -> list[Audit]:
    """Create the cycle's missing audits and re-date (and with ``retime`` re-time) planned ones."""
    changed: list[Audit] = []
    asrp = _asrp_in_use(programme)  # once for every audit added below
    days_by_type: dict[str, Decimal] = {}

    reference: list = []  # the client's initial audit time, read once (_reference_initial_days)

    def proposed_days(audit_type: str) -> Decimal:
        # Surveillance 1 and 2 share their proposal, and every type the reference time (one
        # time-determination query, not one per audit).
        if audit_type not in days_by_type:
            if not reference:
                reference.append(_reference_initial_days(programme))
            days_by_type[audit_type] = _proposed_days(programme, audit_type, reference=reference[0])
        return days_by_type[audit_type]

    def update(audit: Audit, due_on: date | None) -> None:
        if audit.state != Audit.State.PLANNED:
            return
        fields = []
        if due_on is not None and audit.due_on != due_on:
            audit.due_on = due_on
            fields.append("due_on")
        if retime and not hasattr(audit, "time_determination"):
            days = proposed_days(audit.audit_type)
            if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
                days = audit.planned_days
            if audit.planned_days != days:
                audit.planned_days = days
                fields.append("planned_days")
        if fields:
            record(audit, actor=actor, reason=reason)
            audit.save(update_fields=fields)
            changed.append(audit)

    added: list[Audit] = []  # inserted together at the end (``_audits_create``)

    def add(kind: str, *, sequence: int = 1, due_on: date) -> Audit:
        audit = Audit(
            programme=programme,
            kind=kind,
            sequence=sequence,
            planned_days=proposed_days(
                rules.SURVEILLANCE if kind == Audit.Kind.SURVEILLANCE else rules.RECERTIFICATION
            ),
            due_on=due_on,
        )
        record(audit, actor=actor, reason="列入审核方案")
        added.append(audit)
        changed.append(audit)
        return audit

    if programme.decided_on and programme.expires_on:
        # The cycle's audits in one read: the surveillances, and the opening and closing
        # recertification (``_opening_audit``, ``_closing_recertification``); the audits added
        # below are surveillances, so the recertification answers stay true.
        cycle = list(
            programme.audits.filter(
                kind__in=(Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION, Audit.Kind.STAGE2)
            ).order_by("pk")
        )
        surveillance = {a.sequence: a for a in cycle if a.kind == Audit.Kind.SURVEILLANCE}
        opening = _opening_audit(programme, cycle)
        s1_due, s2_due = _surveillance_dues(programme, surveillance.get(1), opening=opening)
        for sequence, due_on in ((1, s1_due), (2, s2_due)):
            audit = surveillance.get(sequence)
            if audit is None:
                audit = add(Audit.Kind.SURVEILLANCE, sequence=sequence, due_on=due_on)
                if sequence == 1:  # surveillance 2's due date follows surveillance 1's
                    s1_due, s2_due = _surveillance_dues(programme, audit, opening=opening)
            else:
                update(audit, due_on)
        recert_due = programme.expires_on - timedelta(days=1)
        closing = _closing_recertification(programme, cycle)
        later_cycle = AuditProgramme.objects.filter(
            organization_id=programme.organization_id, cycle__gt=programme.cycle
        ).exists()
        if closing is None and not later_cycle:
            add(Audit.Kind.RECERTIFICATION, due_on=recert_due)
        elif closing is not None:
            update(closing, recert_due)
        if added:
            _audits_create(added, actor, asrp)
    if retime:
        done = {a.pk for a in changed}
        for audit in programme.audits.filter(state=Audit.State.PLANNED):
            if audit.pk not in done:
                update(audit, None)
    return changed


def audit_add_special(
    *,
    programme: AuditProgramme,
    actor,
    special_kind: str,
    reason: str,
    due_on: date | None = None,
    notified_on: date | None = None,
    short_notice: bool = False,
    short_notice_reason: str = "",
) -> Audit:
    """Add an extra or special audit to the programme with its reason (004 §5.9; 001 §7.2).

    ``special_kind``: one of ``Audit.SpecialKind``. A regulator's written finding needs the
    notice date; the audit is due within 30 days of it (004 §5.9.2(3)) and a later ``due_on`` is
    refused. ``short_notice`` marks an audit announced at short notice or unannounced
    (004 §5.9.2): the team check then asks every member for a declaration on the client.
    ``short_notice_reason`` says why the notice is short; the special audit's ``reason``
    (the complaint, accident or regulator's finding that calls for it) when not given.
    """
    policy.require(actor, "audits.plan_programme", programme)
    if special_kind not in Audit.SpecialKind.values:
        raise RuleViolation(
            _("Unknown special audit kind: %(special_kind)s.") % {"special_kind": special_kind}
        )
    if not reason.strip():
        raise RuleViolation(_("Adding a special audit needs a reason."), "004 §5.9; 001 §7.2")
    if special_kind == Audit.SpecialKind.REGULATOR_FINDING:
        if notified_on is None:
            raise RuleViolation(
                _("Fill in the date the market regulator issued its notice."), "004 §5.9.2(3)"
            )
        latest = rules.special_audit_due(notified_on)
        if due_on is None:
            due_on = latest
        elif due_on > latest:
            raise RuleViolation(
                _("The audit must take place within 30 days of the notice (before %(latest)s).")
                % {"latest": latest},
                "004 §5.9.2(3)",
            )
    with transaction.atomic():
        programme = lock(AuditProgramme, programme.pk)
        if programme.state != AuditProgramme.State.ACTIVE:
            raise RuleViolation(_("The audit programme is closed: no audit can be added."))
        sequence = programme.audits.filter(kind=Audit.Kind.SPECIAL).count() + 1
        return _add_audit(
            programme,
            actor,
            kind=Audit.Kind.SPECIAL,
            sequence=sequence,
            due_on=due_on,
            reason=reason[:300],
            days=_proposed_days(programme, rules.SURVEILLANCE),
            special_kind=special_kind,
            short_notice=bool(short_notice),
            short_notice_reason=(short_notice_reason.strip() or reason) if short_notice else "",
            notified_on=notified_on,
        )
