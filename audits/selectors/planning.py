"""Read-only planning checks: audit time and sampling proposals, the team check, the plan gate,
ASRP preconditions (004 §5.4–5.9; 001 §6.2–7; 000). They compute without writing.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import Application, Site
from audits import rules
from audits.models import (
    AsrpEligibilityCheck,
    AsrpProgramme,
    Audit,
    Auditor,
    AuditorCompetence,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    AuditTimeDetermination,
    ConflictDeclaration,
    SamplingPlanSite,
)
from audits.selectors.nonconformities import cycle_unsettled_nonconformities
from certbody import dates, roles
from certbody.lifecycle import RuleViolation

_TYPE_LABELS = {
    rules.INITIAL: gettext_lazy("initial certification audit"),
    rules.SURVEILLANCE: gettext_lazy("surveillance audit"),
    rules.RECERTIFICATION: gettext_lazy("recertification audit"),
}


def _profile(user) -> Auditor | None:
    return Auditor.objects.filter(user=user).first()


def _user_profile(user) -> Auditor | None:
    """``user``'s auditor profile from the reverse one-to-one (no query once it is joined in
    with ``select_related("…auditor_profile")``); None when the user has none."""
    try:
        return user.auditor_profile
    except Auditor.DoesNotExist:
        return None


def _determination(audit: Audit) -> AuditTimeDetermination | None:
    """``audit``'s time determination from the reverse one-to-one (no query once joined in
    with ``select_related("time_determination")``); None when none is recorded."""
    try:
        return audit.time_determination
    except AuditTimeDetermination.DoesNotExist:
        return None


def _declared_conflict(user, organization_id: int) -> ConflictDeclaration | None:
    return ConflictDeclaration.objects.filter(
        auditor__user=user, organization_id=organization_id, has_interest=True
    ).first()


def _opening_audit(programme: AuditProgramme, audits: list | None = None) -> Audit | None:
    """The audit whose decision opens the cycle: stage 2, or the first recertification audit.
    ``audits``: the programme's audits of those kinds, by pk, when the caller has read them."""
    kind = (
        Audit.Kind.RECERTIFICATION
        if programme.application.kind == Application.Kind.RECERTIFICATION
        else Audit.Kind.STAGE2
    )
    if audits is not None:
        return next((a for a in audits if a.kind == kind), None)
    return programme.audits.filter(kind=kind).order_by("pk").first()


def _closing_recertification(programme: AuditProgramme, audits: list | None = None) -> Audit | None:
    """The recertification audit planned before the cycle's expiry (not the opening one).
    ``audits``: the programme's stage 2 and recertification audits (others may be there), by
    pk, when the caller has read them."""
    opening = _opening_audit(programme, audits)
    if audits is not None:
        found = [
            a
            for a in audits
            if a.kind == Audit.Kind.RECERTIFICATION and (opening is None or a.pk != opening.pk)
        ]
        return found[-1] if found else None
    audits = programme.audits.filter(kind=Audit.Kind.RECERTIFICATION).order_by("pk")
    if opening is not None:
        audits = audits.exclude(pk=opening.pk)
    return audits.last()


_UNSET = object()


def _reference_initial_days(programme: AuditProgramme) -> Decimal | None:
    """The client's initial audit time: the last determined stage 2 in this scheme, if any.

    Surveillance and recertification floors are shares of it (004 §5.7.5, §5.8.5; 001 §7.4,
    §8.2). Without a recorded determination the Appendix A table already gives the floor.
    """
    determination = (
        AuditTimeDetermination.objects.filter(
            audit__programme__organization_id=programme.organization_id,
            audit__programme__scheme=programme.scheme,
            audit__kind=Audit.Kind.STAGE2,
        )
        .exclude(audit__state=Audit.State.TERMINATED)
        .order_by("-audit__programme__cycle", "-pk")
        .first()
    )
    return determination.total_days if determination else None


def _normal_least_days(
    table: Decimal, audit_type: str, reference: Decimal | None, scheme: str
) -> Decimal:
    # Reductions ≤ 30 % of the table (004 §5.4.2.3; 001 §6.2.3) and, for surveillance and
    # recertification, the share of the initial audit time (004 §5.7.5, §5.8.5; 001 §7.4, §8.2).
    least = rules.floor_days(table, rules.INITIAL, scheme)
    if reference is not None and audit_type != rules.INITIAL:
        least = max(least, rules.floor_days(reference, audit_type, scheme))
    return least


def _proposed_days(
    programme: AuditProgramme,
    audit_type: str,
    headcount: int | None = None,
    *,
    reference=_UNSET,
) -> Decimal:
    """The Appendix A time for ``audit_type`` raised to the clause floors (days).
    ``reference``: the client's initial audit time when the caller has read it
    (``_reference_initial_days``, may be None); read by default."""
    if reference is _UNSET:
        reference = _reference_initial_days(programme)
    headcount = headcount or programme.planning_headcount
    table = rules.table_days(headcount, audit_type, programme.scheme)
    return max(
        table,
        _normal_least_days(table, audit_type, reference, programme.scheme),
    )


@dataclass(frozen=True)
class TimeProposal:
    """The audit time the product proposes for an audit before anyone determines it."""

    scheme: str
    audit_type: str
    effective_headcount: int
    table_days: Decimal
    reference_days: Decimal | None
    least_days: Decimal
    total_days: Decimal
    onsite_days: Decimal
    asrp: bool


def audit_time_propose(audit: Audit, *, effective_headcount: int | None = None) -> TimeProposal:
    """Propose the audit time: the Appendix A time raised to the clause floors.

    ``effective_headcount`` defaults to the programme's. ``least_days`` is the least time the
    normal rules allow (004 §5.4.2.3, §5.7.5, §5.8.5; 001 §6.2.3, §7.4, §8.2); under an ASRP
    in use it is 70 % of the basic time, below which a justification is needed (000 §4.2.1).
    On-site: the least share for ZXRZ (80 %, 004 §5.4.2.3), all of it for CAS, whose table is
    on-site time already. Raises RuleViolation for a bad headcount.
    """
    programme = audit.programme
    scheme, audit_type = programme.scheme, audit.audit_type
    headcount = effective_headcount or programme.planning_headcount
    try:
        table = rules.table_days(headcount, audit_type, scheme)
    except ValueError as exc:
        raise RuleViolation(
            _("Wrong effective headcount: %(exc)s") % {"exc": exc}, "004 附录A"
        ) from None
    reference = None if audit_type == rules.INITIAL else _reference_initial_days(programme)
    least = _normal_least_days(table, audit_type, reference, scheme)
    total = max(table, least)
    asrp = _asrp_in_use(programme) is not None and audit.kind in _ASRP_KINDS
    if asrp:
        least = max(rules.ceil_half_day(total * Decimal("0.7")), rules.MINIMUM_DAYS)
    onsite = total if scheme == rules.SCHEME_CAS else rules.least_onsite_days(total)
    return TimeProposal(
        scheme=scheme,
        audit_type=audit_type,
        effective_headcount=headcount,
        table_days=table,
        reference_days=reference,
        least_days=least,
        total_days=total,
        onsite_days=onsite,
        asrp=asrp,
    )


@dataclass(frozen=True)
class SiteProposal:
    site: Site
    similar: bool
    selected: bool
    table_onsite_days: Decimal
    onsite_days: Decimal | None
    reason: str


@dataclass(frozen=True)
class SamplingProposal:
    audit_type: str
    similar_sites_count: int
    minimum_sample: int
    sites: tuple[SiteProposal, ...]


def sampling_plan_propose(audit: Audit) -> SamplingProposal:
    """Propose a sample: every non-head-office site as similar, the head office audited.

    Similarity is the planner's judgement (004 §5.4.3.2); the proposal only starts it. The
    sample has the minimum size of ``rules.sample_size`` and prefers sites not audited in
    earlier sampling plans of the client (so the cycle's audits together cover them, 004
    §5.7.2), then larger sites. Each audited site gets the least on-site time 004 §5.4.3.3
    allows. Raises RuleViolation for a client with fewer than two sites.
    """
    programme = audit.programme
    sites = list(Site.objects.filter(organization_id=programme.organization_id).order_by("pk"))
    if len(sites) < 2:
        raise RuleViolation(
            _("Only a client with several sites needs a sampling plan."), "004 §5.4.3"
        )
    audited_before = set(
        SamplingPlanSite.objects.filter(
            plan__audit__programme__organization_id=programme.organization_id, selected=True
        )
        .exclude(plan__audit=audit)
        .values_list("site_id", flat=True)
    )
    similar = [s for s in sites if not s.is_head_office]
    if len(similar) == len(sites):  # no head office recorded: keep the first site apart
        similar = sites[1:]
    minimum = rules.sample_size(len(similar), audit.audit_type) if similar else 0
    ranked = sorted(similar, key=lambda s: (s.pk in audited_before, -s.headcount, s.pk))
    chosen = {s.pk for s in ranked[:minimum]}
    proposals = []
    for site in sites:
        is_similar = site in similar
        selected = not is_similar or site.pk in chosen
        table_onsite = _site_table_onsite(site, audit.audit_type, programme.scheme)
        if not is_similar:
            reason = "活动、过程或风险与其他场所不同，逐一审核"
        elif selected:
            reason = "本周期尚未抽到" if site.pk not in audited_before else "按人数抽取"
        else:
            reason = ""
        proposals.append(
            SiteProposal(
                site=site,
                similar=is_similar,
                selected=selected,
                table_onsite_days=table_onsite,
                onsite_days=rules.least_site_onsite_days(table_onsite) if selected else None,
                reason=reason,
            )
        )
    return SamplingProposal(
        audit_type=audit.audit_type,
        similar_sites_count=len(similar),
        minimum_sample=minimum,
        sites=tuple(proposals),
    )


def _site_table_onsite(site: Site, audit_type: str, scheme: str) -> Decimal:
    try:
        return rules.table_onsite_days(site.headcount, audit_type, scheme)
    except ValueError:
        raise RuleViolation(
            _('The headcount of site "%(site)s" must be at least 1.') % {"site": site},
            "004 §5.4.3.3",
        ) from None


_UNREAD = object()


def _is_auditor(user, profile=_UNREAD) -> bool:
    """A staff user with the auditor role or an active auditor profile. ``profile``: the
    user's profile (or None) when the caller has read it already, so it is not read again."""
    if not user.is_staff or not user.is_active:
        return False
    if roles.has_role(user, roles.AUDITOR):
        return True
    if profile is _UNREAD:
        return Auditor.objects.filter(user=user, active=True).exists()
    return profile is not None and profile.active


def _role_fits(role: str, auditor: Auditor) -> bool:
    if role in AuditTeamMember.COUNTED_ROLES:
        return auditor.is_qualified
    if role == AuditTeamMember.Role.TRAINEE:
        return auditor.qualification == Auditor.Qualification.TRAINEE
    return True  # anyone may advise as a technical expert; experts are not counted (001 §6.2.4)


def _audit_day(audit: Audit) -> date:
    return audit.actual_start or audit.planned_start or dates.today()


def _audit_days(audit: Audit, on: date | None = None) -> tuple[date, date]:
    """The audit's first and last day (local dates, the last never before the first).

    ``on``: the day it starts (default: its actual start, planned start or today). When it
    starts on another day than planned, the planned length is kept: the last day moves with it
    (the actual end once recorded).
    """
    first = on or _audit_day(audit)
    last = audit.actual_end
    if last is None and audit.planned_start and audit.planned_end:
        last = first + (audit.planned_end - audit.planned_start)
    return first, max(last or first, first)


def _client_scope_codes(audit: Audit) -> list[int]:
    application = audit.programme.application
    codes = list(application.business_scopes.values_list("code", flat=True))
    if not codes:
        codes = list(audit.programme.organization.business_scopes.values_list("code", flat=True))
    return sorted(codes)


def _registration_failure(member, profile: Auditor, first: date, last: date) -> str:
    """The team-check message for a registration not valid on every day from ``first`` to
    ``last`` (004 §4.2, §5.4.6.1); "" when it is."""
    gap = profile.registration_gap(first, last)
    if gap == "missing":
        return _(
            '"%(user)s" has no certification personnel registration number (004 §4.2, §5.4.6.1).'
        ) % {"user": member.user}
    if gap == "not_yet":
        return _(
            'The registration of "%(user)s" is only valid from %(issued_on)s, after the first '
            "audit day %(first)s (004 §4.2)."
        ) % {"user": member.user, "issued_on": profile.registration_issued_on, "first": first}
    if gap == "expired":
        return _(
            'The registration of "%(user)s" expired on %(registration_valid_until)s (004 §4.2).'
        ) % {"user": member.user, "registration_valid_until": profile.registration_valid_until}
    if gap == "expires":
        return _(
            'The registration of "%(user)s" expires on %(registration_valid_until)s, before the '
            "last audit day %(last)s: it must be valid on every audit day (004 §4.2)."
        ) % {
            "user": member.user,
            "registration_valid_until": profile.registration_valid_until,
            "last": last,
        }
    return ""


def audit_team_check(audit: Audit, *, on: date | None = None, current: bool = False) -> list[str]:
    """Every way the audit's team breaks the rules, as messages naming the clause; [] = valid.

    ``on``: the audit's first day (default: its actual start, planned start or today);
    competences must be valid on it, registrations on every day from it to the last day
    (``_audit_days``). Checks (004 §5.4.4; 001 §6.2.4; 004 §4):

    - exactly one team leader, a qualified (senior) auditor;
    - every member registered as an auditor, with a registration number valid on every audit
      day (experts need none; 004 §4.2): a registration issued after the first day or
      expiring before the last keeps the member off, one recorded without dates is accepted
      (``Auditor.registration_incomplete`` lists it for completion); a qualification fitting
      the role;
    - for every business scope category of the client, a qualified auditor competent for it on
      that day (CAS: any member, experts included, 001 §6.2.4);
    - at least one full-time qualified auditor present for the whole audit;
    - trainees not more numerous than the qualified auditors (004 §5.4.4.2);
    - trainees and experts are not counted in audit time: the qualified auditors can deliver
      the determined on-site time between the planned dates (1 auditor-day per person per day);
    - nobody with a declared interest in the client (004 §5.4.4.3);
    - short-notice audits: every member has declared on the client (004 §5.9.2(2)).

    The decision maker's independence is checked at decision time (``decision_maker_check``).

    ``current``: ``audit`` is a row the caller has just read (``audit_start`` locks it with its
    programme, application and determination joined in), so it is not read again; otherwise
    it is re-read for its current dates.
    """
    if not current:
        # Current dates; the application (scopes) and the determination (capacity) in one query.
        audit = Audit.objects.select_related("programme__application", "time_determination").get(
            pk=audit.pk
        )
    day, last_day = _audit_days(audit, on)
    organization_id = audit.programme.organization_id
    # Each member's auditor profile joined in (one-to-one), not one query per team.
    members = list(audit.team.select_related("user__auditor_profile").order_by("pk"))
    profiles = {
        m.user_id: profile for m in members if (profile := _user_profile(m.user)) is not None
    }
    failures: list[str] = []
    leaders = [m for m in members if m.role == AuditTeamMember.Role.LEADER]
    if not leaders:
        failures.append(_("The audit team needs a team leader (004 §5.4.4.1(1))."))
    elif len(leaders) > 1:
        failures.append(_("An audit team has only one team leader (004 §5.4.4.1(1))."))
    qualified: list[tuple[AuditTeamMember, Auditor]] = []
    registered: list[tuple[AuditTeamMember, Auditor]] = []
    for member in members:
        profile = profiles.get(member.user_id)
        if profile is None or not profile.active:
            failures.append(
                _('"%(user)s" has no valid auditor registration (004 §4.2).')
                % {"user": member.user}
            )
            continue
        registered.append((member, profile))
        if not _role_fits(member.role, profile):
            failures.append(
                _(
                    '"%(user)s" is qualified as "%(qualification)s" and cannot act as '
                    '"%(role)s" (004 §5.4.4).'
                )
                % {
                    "user": member.user,
                    "qualification": profile.get_qualification_display(),
                    "role": member.get_role_display(),
                }
            )
            continue
        if profile.needs_registration:
            failure = _registration_failure(member, profile, day, last_day)
            if failure:
                failures.append(failure)
                continue
        if member.counted_in_audit_time:
            qualified.append((member, profile))
    codes = _client_scope_codes(audit)
    pool = registered if audit.programme.scheme == rules.SCHEME_CAS else qualified
    competent = {
        c.business_scope.code
        for c in AuditorCompetence.objects.filter(
            auditor__in=[p for _, p in pool], business_scope__code__in=codes
        ).select_related("business_scope")
        if c.covers(day)
    }
    missing = [f"{code:02d}" for code in codes if code not in competent]
    if not codes:
        failures.append(
            _(
                "The client has no business scope category: competence cannot be checked (004 "
                "Appendix B)."
            )
        )
    elif missing:
        clause = "001 §6.2.4" if audit.programme.scheme == rules.SCHEME_CAS else "004 §5.4.4.1(2)"
        failures.append(
            _("No auditor on the team is competent for business scope %(missing)s (%(clause)s).")
            % {"missing": "、".join(missing), "clause": clause}
        )
    if not any(p.is_full_time and m.whole_audit for m, p in qualified):
        failures.append(
            _(
                "The audit team needs at least one of the certification body's full-time "
                "auditors present for the whole audit (004 §5.4.4.1(3))."
            )
        )
    trainees = sum(1 for m in members if m.role == AuditTeamMember.Role.TRAINEE)
    if trainees > len(qualified):
        failures.append(
            _(
                "Trainee auditors (%(trainees)s) may not outnumber the qualified auditors "
                "(%(qualified)s) (004 §5.4.4.2)."
            )
            % {"trainees": trainees, "qualified": len(qualified)}
        )
    determination = _determination(audit)
    if determination is not None and audit.planned_start and audit.planned_end:
        days = (audit.planned_end - audit.planned_start).days + 1
        capacity = len(qualified) * days
        if capacity < determination.onsite_days:
            failures.append(
                _(
                    "The %(qualified)s auditors counted in audit time (trainees and technical "
                    "experts excluded) can deliver only %(capacity)s auditor-days in %(days)s "
                    "days, less than the determined on-site time of %(onsite_days)s "
                    "auditor-days (004 §5.4.4.2; 001 §6.2.4)."
                )
                % {
                    "qualified": len(qualified),
                    "days": days,
                    "capacity": capacity,
                    "onsite_days": determination.onsite_days,
                }
            )
    declared = {
        d.auditor.user_id: d
        for d in ConflictDeclaration.objects.filter(
            organization_id=organization_id, auditor__user__in=[m.user for m in members]
        ).select_related("auditor")
    }
    for member in members:
        declaration = declared.get(member.user_id)
        if declaration is not None and declaration.has_interest:
            failures.append(
                _(
                    '"%(user)s" declared an interest in this client and may not be on the '
                    "audit team (004 §5.4.4.3)."
                )
                % {"user": member.user}
            )
        elif declaration is None and audit.short_notice:
            failures.append(
                _(
                    'A short-notice audit needs its team chosen with care: "%(user)s" has '
                    "not declared on this client (004 §5.9.2(2))."
                )
                % {"user": member.user}
            )
    return failures


def audit_team_user_ids(audit: Audit) -> set[int]:
    """Ids of everyone on the team of ``audit`` and, for stage 2, of its document review.

    They may not make the certification decision on it (004 §5.12.1).
    """
    kinds = [audit.kind]
    if audit.kind == Audit.Kind.STAGE2:
        kinds.append(Audit.Kind.DOCUMENT_REVIEW)
    # One statement, two indexed reads (an OR across the join would scan the team table).
    members = AuditTeamMember.objects.values_list("user_id", flat=True)
    return set(
        members.filter(audit__programme_id=audit.programme_id, audit__kind__in=kinds).union(
            members.filter(audit_id=audit.pk)
        )
    )


def decision_maker_check(*, audit: Audit, user) -> list[str]:
    """Why ``user`` may not decide on ``audit``: a team member (004 §5.12.1) or a declared
    interest in the client (004 §4.3). Empty when the user is independent of the audit."""
    failures = []
    if user.pk in audit_team_user_ids(audit):
        failures.append(
            _("The decision maker may not be a member of the audit's team (004 §5.12.1).")
        )
    if _declared_conflict(user, audit.programme.organization_id):
        failures.append(_("The decision maker declared an interest in the client (004 §4.3)."))
    return failures


def require_plan_confirmed(audit: Audit) -> AuditPlan:
    """An on-site audit's written plan exists, is confirmed by the client (004 §5.4.6.1,
    §5.4.6.3), a short-notice audit says why (004 §5.9.2) and the plan is reported to CNCA
    (004 §9.2). The part of the plan gate that no start date changes; ``_require_plan_ready``
    adds the 3-day rule for a given start. Returns the plan (raises ``RuleViolation``)."""
    plan = AuditPlan.objects.filter(audit=audit).first()
    if plan is None:
        raise RuleViolation(
            _("An on-site audit cannot start without a written audit plan."), "004 §5.4.6.1"
        )
    if plan.state != AuditPlan.State.CONFIRMED:
        raise RuleViolation(
            _(
                "The audit plan (version %(version)s) is not confirmed by the client: "
                "the audit cannot start."
            )
            % {"version": plan.version},
            "004 §5.4.6.3",
        )
    if audit.short_notice and not audit.short_notice_reason.strip():
        raise RuleViolation(
            _("A short-notice audit must record why the notice was short."), "004 §5.9.2"
        )
    if plan.cnca_reported_on is None:
        raise RuleViolation(
            _("The audit plan has not been reported to CNCA: the audit cannot start."),
            "004 §9.2",
        )
    return plan


def _require_plan_ready(audit: Audit, started_on: date) -> None:
    """Refuse to start an on-site audit whose plan is not written, confirmed and reported.

    004 §5.4.6.1 (a written plan), §5.4.6.3 (confirmed by the client before the audit),
    §9.2 (reported to CNCA at least 3 days before the first day). A short-notice audit
    (004 §5.9.2) records why the notice was short; its report may come later than 3 days
    before but must exist before the start (its lateness stays on the plan).
    """
    plan = require_plan_confirmed(audit)
    reported_on = plan.cnca_reported_on
    if reported_on > started_on:
        raise RuleViolation(
            _("The audit plan has not been reported to CNCA: the audit cannot start."),
            "004 §9.2",
        )
    due = rules.plan_report_due(started_on)
    if not audit.short_notice and reported_on > due:
        raise RuleViolation(
            _(
                "The audit plan was reported to CNCA on %(reported)s, less than 3 days "
                "before the start on %(start)s (due by %(due)s): the audit cannot start then."
            )
            % {"reported": reported_on, "start": started_on, "due": due},
            "004 §9.2",
        )


def audit_start_blocker(audit: Audit, *, on: date) -> str:
    """Why the plan gate would refuse to start ``audit`` on ``on`` (local date), with the
    clause; "" when it would not or the audit is not a planned on-site audit. Writes nothing
    (the audit page shows it to the planner; 004 §5.4.6.3, §9.2, §5.9.2)."""
    if audit.state != Audit.State.PLANNED or not audit.needs_site_visit:
        return ""
    try:
        _require_plan_ready(audit, on)
    except RuleViolation as exc:
        return str(exc)
    return ""


_ASRP_KINDS = (Audit.Kind.SURVEILLANCE, Audit.Kind.RECERTIFICATION)


_ASRP_CONTENT_CLAUSES = {
    "reliance": "000 §4.3.1",
    "witnessing_criteria": "000 §4.3.2",
    "internal_auditor_criteria": "000 §4.3.3",
    "adjustment_criteria": "000 §4.3.4",
    "audit_components": "000 §4.3.5",
    "special_competences": "000 §4.3.6",
}


def _asrp_in_use(programme: AuditProgramme) -> AsrpProgramme | None:
    return AsrpProgramme.objects.filter(
        programme_id=programme.pk,
        state__in=[AsrpProgramme.State.APPROVED, AsrpProgramme.State.NOTIFIED],
    ).first()


def asrp_full_cycle_failures(programme: AuditProgramme) -> list[str]:
    """Why the client has not completed a full normal cycle (000 §2, §4.1.1); [] when it has.

    The programme must open a recertification cycle whose normal recertification audit is
    closed (decided) with a positive recommendation, and the previous cycle must have its
    initial (or recertification) audit and at least one surveillance audit closed.
    """
    if programme.cycle < 1 or programme.application.kind != Application.Kind.RECERTIFICATION:
        return [
            "ASRP 仅适用于在常规程序下完成了一个完整认证周期（初审、监督、再认证）的客户"
            "（000 §2、§4.1.1）"
        ]
    failures = []
    opening = _opening_audit(programme)
    if (
        opening is None
        or opening.state != Audit.State.CLOSED
        or not opening.recommendation_positive
    ):
        failures.append(
            _(
                "This cycle's normal recertification audit is not completed with a "
                "certification decision (000 §4.1.1)."
            )
        )
    elif AuditTimeDetermination.objects.filter(audit=opening, asrp=True).exists():
        failures.append(
            _(
                "This cycle's recertification audit was not carried out under the normal "
                "procedure (000 §4.1.1)."
            )
        )
    previous = AuditProgramme.objects.filter(
        organization_id=programme.organization_id, cycle=programme.cycle - 1
    ).first()
    if previous is None:
        failures.append(
            _(
                "The audit programme of the previous certification cycle cannot be found (000 "
                "§4.1.1)."
            )
        )
        return failures
    first = _opening_audit(previous)
    if first is None or first.state != Audit.State.CLOSED:
        failures.append(
            _(
                "The initial (or recertification) audit of the previous certification cycle "
                "is not completed (000 §4.1.1)."
            )
        )
    surveillance_done = previous.audits.filter(
        kind=Audit.Kind.SURVEILLANCE, state=Audit.State.CLOSED
    ).exists()
    if not surveillance_done:
        failures.append(
            _("The previous certification cycle has no completed surveillance audit (000 §4.1.1).")
        )
    return failures


def asrp_unresolved_failures(programme: AuditProgramme) -> list[str]:
    """The cycle's NCs not yet resolved (000 §4.1.2), computed from the NC records
    (``cycle_unsettled_nonconformities``); [] when every one is resolved."""
    unresolved = list(cycle_unsettled_nonconformities(programme))
    if not unresolved:
        return []
    return [
        _("Nonconformities of the certification cycle are not resolved: %(ncs)s (000 §4.1.2).")
        % {"ncs": _("; ").join(str(nc) for nc in unresolved)}
    ]


def asrp_approval_failures(asrp: AsrpProgramme) -> list[str]:
    """Every missing precondition or content of an ASRP programme; [] when it can be approved.

    000 §4.1.1 (full cycle, recomputed), §4.1.2–4.1.6 and §4.4.1 (each recorded as met with
    evidence), §4.1.2 again computed from the NCs (``asrp_unresolved_failures``: a recorded
    tick does not outweigh an unresolved NC), §4.1.3 (at least one indicator, each with
    results, all met) and §4.3.1–4.3.6 (every content written).
    """
    failures = list(asrp_full_cycle_failures(asrp.programme))
    failures += asrp_unresolved_failures(asrp.programme)
    checks = {c.criterion: c for c in asrp.checks.all()}
    for criterion in AsrpEligibilityCheck.Criterion:
        if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
            continue
        check = checks.get(criterion.value)
        if check is None:
            failures.append(_("Not checked: %(criterion)s") % {"criterion": criterion.label})
        elif not check.met:
            failures.append(_("Not met: %(criterion)s") % {"criterion": criterion.label})
    indicators = list(asrp.indicators.prefetch_related("results"))
    if not indicators:
        failures.append(
            _("No measurable performance indicator is agreed with the client (000 §4.1.3).")
        )
    for indicator in indicators:
        results = list(indicator.results.all())
        if not results:
            failures.append(
                _('The performance indicator "%(name)s" has no recorded results (000 §4.1.3).')
                % {"name": indicator.name}
            )
        elif not all(r.met for r in results):
            failures.append(
                _('The performance indicator "%(name)s" was not met throughout (000 §4.1.3).')
                % {"name": indicator.name}
            )
    for name, clause in _ASRP_CONTENT_CLAUSES.items():
        if not getattr(asrp, name).strip():
            label = AsrpProgramme._meta.get_field(name).verbose_name
            failures.append(
                _('The ASRP programme lacks "%(value)s" (%(clause)s).')
                % {"value": label, "clause": clause}
            )
    return failures
