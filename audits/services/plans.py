"""Audit plans (004 §5.4.6, §9.2) and the opening and closing meetings (004 §5.5.2)."""

from collections.abc import Iterable, Sequence
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from applications.models import Site
from audits.models import (
    Audit,
    AuditMeeting,
    AuditorCompetence,
    AuditPlan,
    AuditPlanAgendaRow,
    AuditTimeDetermination,
    SamplingPlanSite,
)
from audits.selectors.planning import _audit_day, _user_profile, audit_team_check
from audits.services._guards import _not_future
from certbody import dates, policy
from certbody.lifecycle import RuleViolation, fire, lock, record

RULE_PLAN = "004 §5.4.6.1"
_AGENDA_FIELDS = ("day", "starts_at", "ends_at", "site_id", "activity", "auditor_id")


def audit_plan_prepare(
    *,
    audit: Audit,
    actor,
    objectives: str,
    criteria: str,
    scope_text: str,
    shifts_covered: str,
    sites: Iterable[Site] = (),
    schedule: str = "",
    unaudited_shifts: str = "",
    unaudited_shifts_reason: str = "",
    remote_methods: str = "",
) -> AuditPlan:
    """Write (or change) the audit plan of a scheduled audit (004 §5.4.6.1; 001 §6.2.5).

    The team leader or the audit department writes it. Refused when: objectives, criteria,
    scope or the audited shifts are missing (004 §5.4.6.1, §5.4.1.6(1)); shifts not audited
    have no reason (004 §5.4.1.6(2)); the audit has no dates; an on-site audit of a client with
    sites covers none, or leaves out a site its sampling plan selects (004 §5.4.3); remote time
    is determined but the methods are not stated (004 §5.4.5.3). Changing a plan already sent
    or confirmed revises it: next version, sent and confirmed again (004 §5.4.6.3).
    """
    policy.require(actor, "audits.manage_plan", audit)
    for value, label in (
        (objectives, _("the audit objectives")),
        (criteria, _("the audit criteria")),
        (scope_text, _("the audit scope")),
    ):
        if not value.strip():
            raise RuleViolation(
                _("The audit plan must state %(value)s.") % {"value": label}, "004 §5.4.6.1"
            )
    if not shifts_covered.strip():
        raise RuleViolation(_("Every audit covers at least one shift."), "004 §5.4.1.6(1)")
    if unaudited_shifts.strip() and not unaudited_shifts_reason.strip():
        raise RuleViolation(_("Shifts not audited need the reason recorded."), "004 §5.4.1.6(2)")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation(_("The audit is over: its plan can no longer change."))
        if not (audit.planned_start and audit.planned_end):
            raise RuleViolation(
                _("Schedule the audit first: the audit plan states the audit's dates."),
                "004 §5.4.6.1",
            )
        organization_id = audit.programme.organization_id
        site_ids = {s.pk for s in sites}
        own = set(Site.objects.filter(organization_id=organization_id).values_list("pk", flat=True))
        if site_ids - own:
            raise RuleViolation(_("The audit plan lists a site that is not the client's."))
        if audit.needs_site_visit and own and not site_ids:
            raise RuleViolation(
                _("The plan of an on-site audit must state the sites audited."), "004 §5.4.6.1"
            )
        sampled = set(
            SamplingPlanSite.objects.filter(plan__audit=audit, selected=True).values_list(
                "site_id", flat=True
            )
        )
        if sampled - site_ids:
            raise RuleViolation(
                _("The audit plan must cover every site the sampling plan selects."), "004 §5.4.3"
            )
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if determination is not None and determination.remote_days and not remote_methods.strip():
            raise RuleViolation(
                _("A remote audit's methods must be stated in the audit plan."), "004 §5.4.5.3"
            )
        plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
        if plan is not None:
            _plan_revise(audit, actor, reason="审核计划变更")
            plan.refresh_from_db()
        plan = plan or AuditPlan(audit=audit)
        plan.objectives = objectives
        plan.criteria = criteria
        plan.scope_text = scope_text
        plan.schedule = schedule
        plan.shifts_covered = shifts_covered
        plan.unaudited_shifts = unaudited_shifts
        plan.unaudited_shifts_reason = unaudited_shifts_reason if unaudited_shifts else ""
        plan.remote_methods = remote_methods
        record(plan, actor=actor, reason="编制审核计划")
        plan.save()
        plan.sites.set(site_ids)
    return plan


def _agenda_row(number: int, row: dict, *, audit: Audit, own_sites: set, team: set) -> dict:
    """One checked agenda row (a dict of ``AuditPlanAgendaRow`` fields)."""
    label = {"number": number}
    day, starts_at, ends_at = row.get("day"), row.get("starts_at"), row.get("ends_at")
    activity = str(row.get("activity") or "").strip()
    site, auditor = row.get("site"), row.get("auditor")
    if not (day and starts_at and ends_at and activity):
        raise RuleViolation(
            _("Agenda row %(number)s needs a date, its times and the process or clause audited.")
            % label,
            RULE_PLAN,
        )
    if not (audit.planned_start <= day <= audit.planned_end):
        raise RuleViolation(
            _("Agenda row %(number)s is not within the audit's dates (%(first)s to %(last)s).")
            % {**label, "first": audit.planned_start, "last": audit.planned_end},
            RULE_PLAN,
        )
    if ends_at <= starts_at:
        raise RuleViolation(_("Agenda row %(number)s must end after it starts.") % label, RULE_PLAN)
    if site is not None and site.pk not in own_sites:
        raise RuleViolation(
            _("Agenda row %(number)s names a site that is not the client's.") % label, RULE_PLAN
        )
    if auditor is not None and auditor.pk not in team:
        raise RuleViolation(
            _("Agenda row %(number)s names %(auditor)s, who is not on the audit team.")
            % {**label, "auditor": auditor},
            "004 §5.4.6.1; 004 §5.4.4",
        )
    return {
        "day": day,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "site_id": site.pk if site is not None else None,
        "activity": activity[:300],
        "auditor_id": auditor.pk if auditor is not None else None,
    }


def _check_overlaps(rows: list[dict]) -> None:
    """The same auditor is not in two rows at the same time."""
    by_auditor: dict[int, list[tuple]] = {}
    for number, row in enumerate(rows, start=1):
        if row["auditor_id"] is None:
            continue
        for other_number, other in by_auditor.get(row["auditor_id"], []):
            if (
                other["day"] == row["day"]
                and row["starts_at"] < other["ends_at"]
                and other["starts_at"] < row["ends_at"]
            ):
                raise RuleViolation(
                    _("Agenda rows %(first)s and %(second)s give one auditor two places at once.")
                    % {"first": other_number, "second": number},
                    RULE_PLAN,
                )
        by_auditor.setdefault(row["auditor_id"], []).append((number, row))


def audit_plan_agenda_set(*, plan: AuditPlan, actor, rows: Sequence[dict]) -> AuditPlan:
    """Replace the agenda of ``plan`` (004 §5.4.6.1: dates, times, sites, team members' tasks).

    ``rows``: in the order shown, each a dict with ``day`` (local ``date``), ``starts_at`` and
    ``ends_at`` (``time``), ``activity`` (the process or clause audited, text), ``site`` (a
    ``Site`` or None) and ``auditor`` (a ``User`` or None); stored sorted by date and time.
    Refused (``RuleViolation``) when a row lacks its date, times or activity, lies outside the
    audit's planned dates, ends before it starts, names a site not the client's or an auditor
    not on the team, or gives one auditor two overlapping rows; when the audit is over.

    Changing the agenda of a plan already sent or confirmed revises it (next version, draft,
    to be sent, confirmed and reported to CNCA again: 004 §5.4.6.3, §9.2); an unchanged agenda
    changes nothing.
    """
    policy.require(actor, "audits.manage_plan", plan.audit)
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        audit = lock(Audit, plan.audit_id)
        if audit.state not in (Audit.State.PLANNED, Audit.State.IN_PROGRESS):
            raise RuleViolation(_("The audit is over: its plan can no longer change."))
        if not (audit.planned_start and audit.planned_end):
            raise RuleViolation(
                _("Schedule the audit first: the audit plan states the audit's dates."), RULE_PLAN
            )
        own_sites = set(
            Site.objects.filter(organization_id=audit.programme.organization_id).values_list(
                "pk", flat=True
            )
        )
        team = set(audit.team.values_list("user_id", flat=True))
        checked = [
            _agenda_row(number, dict(row), audit=audit, own_sites=own_sites, team=team)
            for number, row in enumerate(rows, start=1)
        ]
        _check_overlaps(checked)
        checked.sort(key=lambda row: (row["day"], row["starts_at"]))
        current = [
            {name: getattr(row, name) for name in _AGENDA_FIELDS} for row in plan.agenda.all()
        ]
        if current == checked:
            return plan
        if plan.state != AuditPlan.State.DRAFT:
            _plan_revise(audit, actor, reason="审核计划日程变更")
            plan.refresh_from_db()
        # Row by row, so that the history keeps every row removed and added.
        for old in plan.agenda.all():
            record(old, actor=actor, reason="审核计划日程变更")
            old.delete()
        for position, row in enumerate(checked, start=1):
            new = AuditPlanAgendaRow(plan=plan, position=position, **row)
            record(new, actor=actor, reason="编制审核计划日程")
            new.save()
    return plan


def _plan_revise(audit: Audit, actor, *, reason: str) -> None:
    """A change to a plan already sent: back to draft, next version, to be confirmed again."""
    plan = AuditPlan.objects.select_for_update().filter(audit=audit).first()
    if plan is None or plan.state == AuditPlan.State.DRAFT:
        return
    plan.version += 1
    plan.sent_on = None
    plan.confirmed_on = None
    plan.confirmed_by = ""
    # The changed plan is reported to CNCA again (004 §9.2); the history keeps the old report.
    plan.cnca_reported_on = None
    plan.report_days_late = 0
    fire(
        plan,
        "revise",
        actor=actor,
        reason=reason,
        fields=[
            "version",
            "sent_on",
            "confirmed_on",
            "confirmed_by",
            "cnca_reported_on",
            "report_days_late",
        ],
        label="审核计划",
    )


def _team_snapshot(audit: Audit, day: date) -> list[dict]:
    # Two queries for any team: the members with their profiles, then every competence of
    # those profiles (not a profile and a competence query per member).
    members = list(audit.team.select_related("user__auditor_profile").order_by("pk"))
    profiles = [p for m in members if (p := _user_profile(m.user)) is not None]
    codes: dict[int, list[int]] = {p.pk: [] for p in profiles}
    for competence in AuditorCompetence.objects.filter(auditor__in=profiles).select_related(
        "business_scope"
    ):
        if competence.covers(day):
            codes[competence.auditor_id].append(competence.business_scope.code)
    snapshot = []
    for member in members:
        profile = _user_profile(member.user)
        snapshot.append(
            {
                "name": str(member.user),
                "role": member.role,
                "registration_number": profile.registration_number if profile else "",
                "qualification": profile.qualification if profile else "",
                "full_time": bool(profile and profile.is_full_time),
                "competence_codes": sorted(codes[profile.pk]) if profile else [],
                "counted_in_audit_time": member.counted_in_audit_time,
                "whole_audit": member.whole_audit,
                "tasks": member.tasks,
            }
        )
    return snapshot


def audit_plan_send(*, plan: AuditPlan, actor, sent_on: date) -> AuditPlan:
    """Send the plan to the client for confirmation before the audit (004 §5.4.6.3).

    The team must pass ``audit_team_check``; the plan keeps the team as sent (names,
    registration numbers, competence codes, tasks; 004 §5.4.6.1).
    """
    policy.require(actor, "audits.manage_plan", plan.audit)
    _not_future(sent_on, _("the date sent"))
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        audit = plan.audit
        if audit.planned_start and sent_on > audit.planned_start:
            raise RuleViolation(
                _("The audit plan is sent to the client for confirmation before the audit starts."),
                "004 §5.4.6.3",
            )
        failures = audit_team_check(audit)
        if failures:
            raise RuleViolation(
                _("The audit team does not meet the rules; the plan cannot be sent: %(failures)s")
                % {"failures": _("; ").join(failures)}
            )
        plan.team_snapshot = _team_snapshot(audit, _audit_day(audit))
        plan.sent_on = sent_on
        fire(
            plan,
            "send",
            actor=actor,
            reason=f"审核计划第 {plan.version} 版提交认证委托人确认",
            fields=["team_snapshot", "sent_on"],
            label="审核计划",
        )
    return plan


def audit_plan_confirm(
    *, plan: AuditPlan, actor, confirmed_on: date, confirmed_by: str = ""
) -> AuditPlan:
    """Record the client's confirmation of the plan (004 §5.4.6.3).

    A client user of the organisation confirms for themself; staff record who confirmed.
    """
    audit = plan.audit
    if getattr(actor, "is_client", False):
        if actor.organization_id != audit.programme.organization_id:
            raise RuleViolation(
                _("A client user confirms only their own organisation's audit plans.")
            )
        confirmed_by = confirmed_by or str(actor)
    else:
        policy.require(actor, "audits.manage_plan", audit)
    if not confirmed_by.strip():
        raise RuleViolation(_("Fill in who confirmed for the client."))
    _not_future(confirmed_on, _("the confirmation date"))
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        if plan.sent_on and confirmed_on < plan.sent_on:
            raise RuleViolation(_("The confirmation date cannot be earlier than the date sent."))
        plan.confirmed_on = confirmed_on
        plan.confirmed_by = confirmed_by.strip()[:50]
        fire(
            plan,
            "confirm",
            actor=actor,
            reason=f"认证委托人确认审核计划第 {plan.version} 版",
            fields=["confirmed_on", "confirmed_by"],
            label="审核计划",
        )
    return plan


def audit_plan_report_cnca(*, plan: AuditPlan, actor, reported_on: date) -> AuditPlan:
    """Record the date the plan was reported to CNCA; due 3 days before the start (004 §9.2).

    A late report is recorded as it happened (``AuditPlan.report_days_late``, days after
    the due date; ``reported_late``), not refused here: ``audit_start`` refuses an ordinary
    audit whose report came late, a short-notice one only when there is no report at all.
    """
    policy.require(actor, "audits.report_plan", plan)
    _not_future(reported_on, _("the report date"))
    with transaction.atomic():
        plan = lock(AuditPlan, plan.pk)
        if plan.state == AuditPlan.State.DRAFT:
            raise RuleViolation(
                _("The audit plan is reported to CNCA after it is sent to the client."), "004 §9.2"
            )
        plan.cnca_reported_on = reported_on
        due = plan.audit.plan_report_due
        # Stored as reported, also for short-notice audits (004 §9.2; §5.9.2): never hidden.
        plan.report_days_late = max((reported_on - due).days, 0) if due else 0
        record(plan, actor=actor, reason="审核计划已上报国家认监委")
        plan.save(update_fields=["cnca_reported_on", "report_days_late"])
    return plan


def _clean_attendees(attendees) -> list[dict]:
    if not isinstance(attendees, list | tuple) or not attendees:
        raise RuleViolation(_("Record who attended the meeting."), "004 §5.5.2")
    cleaned = []
    for row in attendees:
        if not isinstance(row, dict):
            raise RuleViolation(_("Each attendee needs a name and a role."), "004 §5.5.2")
        name = str(row.get("name") or "").strip()
        role = str(row.get("role") or "").strip()
        if not (name and role):
            raise RuleViolation(_("Each attendee needs a name and a role."), "004 §5.5.2")
        cleaned.append(
            {"name": name[:100], "role": role[:100], "position": str(row.get("position") or "")}
        )
    return cleaned


def audit_meeting_record(
    *,
    audit: Audit,
    actor,
    kind: str,
    held_on: date,
    attendees: list[dict],
    top_manager_present: bool,
    absence_reason: str = "",
    delegate: str = "",
    check_in_confirmed: bool,
) -> AuditMeeting:
    """The team leader records the audit's opening or closing meeting (004 §5.5.2).

    ``kind``: "opening" or "closing"; ``held_on``: the local date, within the audit's days
    (from its actual start to its planned end) and not in the future; ``attendees``: list of
    ``{"name", "role", "position"}`` (name and role required). The client's top manager
    attends or the absence is recorded with its reason and the senior manager delegated.
    ``check_in_confirmed``: the regulator's on-site network check-in was done. Recording a
    meeting again corrects it (the history keeps the earlier record). Raises
    ``RuleViolation`` (004 §5.5.2) otherwise.
    """
    if kind not in AuditMeeting.Kind.values:
        raise RuleViolation(_("Unknown meeting: %(kind)s.") % {"kind": kind})
    policy.require(actor, "audits.run_audit", audit)
    cleaned = _clean_attendees(attendees)
    if not top_manager_present and not (absence_reason.strip() and delegate.strip()):
        raise RuleViolation(
            _(
                "The top manager's absence needs its reason and the senior manager "
                "delegated to attend."
            ),
            "004 §5.5.2",
        )
    if held_on > dates.today():
        raise RuleViolation(_("A meeting cannot be recorded for a future date."), "004 §5.5.2")
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.IN_PROGRESS:
            raise RuleViolation(
                _("Meetings are recorded while the audit is in progress."), "004 §5.5.2"
            )
        if not audit.needs_site_visit:
            raise RuleViolation(
                _("A document review has no opening or closing meeting."), "004 §5.5.2"
            )
        # The audit's days run from its actual start to its planned end (a one-day audit
        # started later than planned still has its first day).
        last_day = max(audit.planned_end or audit.actual_start, audit.actual_start)
        if not (audit.actual_start <= held_on <= last_day):
            raise RuleViolation(
                _("The meeting must be held within the audit's days (%(first)s to %(last)s).")
                % {"first": audit.actual_start, "last": last_day},
                "004 §5.5.2",
            )
        meetings = {m.kind: m for m in AuditMeeting.objects.select_for_update().filter(audit=audit)}
        opening = meetings.get(AuditMeeting.Kind.OPENING)
        closing = meetings.get(AuditMeeting.Kind.CLOSING)
        if kind == AuditMeeting.Kind.CLOSING and (opening is None or held_on < opening.held_on):
            raise RuleViolation(
                _("The closing meeting follows the opening meeting."), "004 §5.5.2; 004 §12.1.5"
            )
        if kind == AuditMeeting.Kind.OPENING and closing is not None and held_on > closing.held_on:
            raise RuleViolation(
                _("The closing meeting follows the opening meeting."), "004 §5.5.2; 004 §12.1.5"
            )
        meeting = meetings.get(kind) or AuditMeeting(audit=audit, kind=kind)
        meeting.held_on = held_on
        meeting.attendees = cleaned
        meeting.top_manager_present = bool(top_manager_present)
        meeting.absence_reason = "" if top_manager_present else absence_reason.strip()
        meeting.delegate = "" if top_manager_present else delegate.strip()[:100]
        meeting.check_in_confirmed = bool(check_in_confirmed)
        meeting.recorded_by = actor
        record(meeting, actor=actor, reason=f"记录{meeting.get_kind_display()}")
        meeting.save()
    return meeting
