"""Determining audit time (004 §5.4.2, Appendix A; 001 §6.2.3, §7.4, §8.2; 000 §4.2.1)."""

from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import rules
from audits.models import (
    Audit,
    AuditTimeAdjustment,
    AuditTimeDetermination,
    SamplingPlan,
)
from audits.selectors.planning import (
    _ASRP_KINDS,
    _TYPE_LABELS,
    _asrp_in_use,
    _normal_least_days,
    _reference_initial_days,
)
from audits.services._guards import HALF_DAY, _check_sites_fit, _days
from audits.services.plans import _plan_revise
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, lock, record

# Clauses and shares for the messages; the numbers themselves come from audits.rules.
_REDUCTION_CLAUSE = {rules.SCHEME_ZXRZ: "004 §5.4.2.3", rules.SCHEME_CAS: "001 §6.2.3"}


_MINIMUM_CLAUSE = {
    rules.SCHEME_ZXRZ: {rules.SURVEILLANCE: "004 §5.7.5", rules.RECERTIFICATION: "004 §5.8.5"},
    rules.SCHEME_CAS: {rules.SURVEILLANCE: "001 §7.4", rules.RECERTIFICATION: "001 §8.2"},
}


_MINIMUM_SHARE = {
    rules.SCHEME_ZXRZ: {rules.SURVEILLANCE: "1/3", rules.RECERTIFICATION: "2/3"},
    rules.SCHEME_CAS: {rules.SURVEILLANCE: "30 %", rules.RECERTIFICATION: "70 %"},
}


def audit_time_determine(
    *,
    audit: Audit,
    actor,
    full_time_headcount: int,
    part_time_hours: Decimal | int | str = 0,
    standard_hours: Decimal | int | str = rules.STANDARD_ANNUAL_HOURS,
    adjustments: Sequence[tuple[Decimal | int | str, str]] = (),
    onsite_days: Decimal | int | str | None = None,
    remote_days: Decimal | int | str = 0,
    remote_reason: str = "",
    asrp_justification: str = "",
) -> AuditTimeDetermination:
    """Determine and record the time of a planned audit (004 §5.4.2; 001 §6.2.3; 000 §4.2.1).

    Effective headcount = ``full_time_headcount`` + part-time and temporary hours converted to
    full-time equivalents (``part_time_hours`` / ``standard_hours``, rounded up; 004 Appendix A
    notes 1–2). The Appendix A time for it, plus each adjustment ``(days, reason)`` — positive
    an increase, negative a reduction, a non-zero multiple of 0.5 days, every one with its
    reason — gives the audit time. ``onsite_days`` defaults to the proposal; ``remote_days`` is
    the part of the on-site time audited with remote methods, with ``remote_reason``.

    Refused, naming the clause, when: the audit is a document review (its time is part of the
    initial audit time, 004 §5.4.2.1) or not planned; an adjustment has no reason; reductions
    exceed 30 % of the table time (004 §5.4.2.3; 001 §6.2.3); a surveillance or recertification
    falls below its share of the initial audit time (004 §5.7.5, §5.8.5; 001 §7.4, §8.2); under
    an ASRP in use, below 70 % of the basic time without a justification (000 §4.2.1), which
    replaces those floors but not the 1-day minimum; on-site time is below 80 % (004
    §5.4.2.3); remote time exceeds 30 % of on-site time or has no reason (004 §5.4.5); a
    multi-site sampling plan needs more on-site time than determined (004 §5.4.3.3). The
    audit's ``planned_days`` becomes the determined total.
    """
    policy.require(actor, "audits.determine_audit_time", audit)
    if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
        raise RuleViolation(
            _(
                "A document review's time counts in the initial audit time: determine the "
                "time of the stage 2 audit."
            ),
            "004 §5.4.2.1",
        )
    try:
        effective = rules.full_time_equivalent(full_time_headcount, part_time_hours, standard_hours)
    except ValueError as exc:
        raise RuleViolation(
            _("Wrong headcount or hours: %(exc)s") % {"exc": exc}, "004 附录A 注2"
        ) from None
    if effective < 1:
        raise RuleViolation(_("The effective headcount must be at least 1."), "004 附录A")
    parsed: list[tuple[Decimal, str]] = []
    for raw_days, reason in adjustments:
        days = _days(raw_days, _("an adjustment of audit time"))
        if days == 0 or days % HALF_DAY != 0:
            raise RuleViolation(
                _("Each adjustment must be a non-zero multiple of half a day (e.g. +0.5, -1)."),
                "004 附录A 注c",
            )
        if not (reason or "").strip():
            raise RuleViolation(
                _("Every increase or reduction of audit time needs its reason recorded."),
                "004 §5.4.2.3",
            )
        parsed.append((days, reason.strip()))
    remote = _days(remote_days, _("remote audit time"))
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation(_("Only a planned audit's time can be determined."))
        programme = audit.programme
        scheme, audit_type = programme.scheme, audit.audit_type
        table = rules.table_days(effective, audit_type, scheme)
        reference = None if audit_type == rules.INITIAL else _reference_initial_days(programme)
        total = table + sum((d for d, _ in parsed), Decimal("0"))
        asrp = _asrp_in_use(programme) if audit.kind in _ASRP_KINDS else None
        if asrp is not None:
            least = _check_asrp_days(
                table, total, audit_type, reference, scheme, asrp_justification
            )
        else:
            least = _check_normal_days(table, total, audit_type, reference, scheme, parsed)
        onsite = (
            _days(onsite_days, _("on-site time"))
            if onsite_days not in (None, "")
            else (total if scheme == rules.SCHEME_CAS else rules.least_onsite_days(total))
        )
        _check_onsite(total, onsite, remote, remote_reason)
        plan = SamplingPlan.objects.filter(audit=audit).first()
        if plan is not None:
            _check_sites_fit(plan.rows.filter(selected=True), onsite)
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        determination = determination or AuditTimeDetermination(audit=audit)
        determination.scheme = scheme
        determination.audit_type = audit_type
        determination.full_time_headcount = full_time_headcount
        determination.part_time_hours = _days(part_time_hours, _("part-time hours"))
        determination.standard_hours = _days(standard_hours, _("standard hours"))
        determination.effective_headcount = effective
        determination.table_days = table
        determination.reference_days = reference
        determination.least_days = least
        determination.total_days = total
        determination.onsite_days = onsite
        determination.remote_days = remote
        determination.remote_reason = remote_reason.strip() if remote else ""
        determination.asrp = asrp is not None
        determination.asrp_justification = asrp_justification.strip() if asrp else ""
        determination.determined_by = actor
        determination.determined_at = timezone.now()
        # Extreme input (millions of people or hours) must not store times beyond the columns.
        bounds.check_instance(
            determination,
            "full_time_headcount",
            "part_time_hours",
            "standard_hours",
            "effective_headcount",
            "table_days",
            "reference_days",
            "least_days",
            "total_days",
            "onsite_days",
            "remote_days",
        )
        record(determination, actor=actor, reason="确定审核时间")
        determination.save()
        for old in determination.adjustments.all():
            record(old, actor=actor, reason="重新确定审核时间")
            old.delete()
        for days, reason in parsed:
            adjustment = AuditTimeAdjustment(determination=determination, days=days, reason=reason)
            record(adjustment, actor=actor, reason="审核时间调整")
            adjustment.save()
        if audit.planned_days != total:
            audit.planned_days = total
            record(audit, actor=actor, reason="按确定的审核时间")
            audit.save(update_fields=["planned_days"])
        _plan_revise(audit, actor, reason="审核时间重新确定")
    return determination


def _check_normal_days(table, total, audit_type, reference, scheme, parsed) -> Decimal:
    least = _normal_least_days(table, audit_type, reference, scheme)
    reductions = "；".join(reason for days, reason in parsed if days < 0)
    try:
        rules.check_reduction(table, total, reductions)
    except ValueError:
        raise RuleViolation(
            _(
                "An audit time of %(total)s auditor-days reduces the Appendix A time of "
                "%(table)s auditor-days by more than 30 %%; at least %(least)s auditor-days "
                "are needed."
            )
            % {
                "total": total,
                "table": table,
                "least": rules.floor_days(table, rules.INITIAL, scheme),
            },
            _REDUCTION_CLAUSE[scheme],
        ) from None
    if reference is not None and audit_type != rules.INITIAL:
        try:
            rules.check_minimum_time(total, audit_type, reference, scheme)
        except ValueError:
            raise RuleViolation(
                _(
                    "The %(audit_type)s time of %(total)s auditor-days is below %(share)s of "
                    "the initial audit time of %(reference)s auditor-days; at least %(least)s "
                    "auditor-days are needed."
                )
                % {
                    "audit_type": _TYPE_LABELS[audit_type],
                    "total": total,
                    "reference": reference,
                    "least": rules.floor_days(reference, audit_type, scheme),
                    "share": _MINIMUM_SHARE[scheme][audit_type],
                },
                _MINIMUM_CLAUSE[scheme][audit_type],
            ) from None
    return least


def _check_asrp_days(table, total, audit_type, reference, scheme, justification) -> Decimal:
    # 000 §4.2.1: the basic time is the normal determination; below 70 % of it only with a
    # recorded evaluation. The 1-day minimum of 004 Appendix A note h still applies.
    basic = max(table, _normal_least_days(table, audit_type, reference, scheme))
    if total < rules.MINIMUM_DAYS:
        raise RuleViolation(
            _("An adjusted audit time cannot be below 1 auditor-day."), "004 附录A 注h"
        )
    try:
        rules.check_asrp_time(total, basic, justification)
    except ValueError:
        raise RuleViolation(
            _(
                "The ASRP audit time of %(total)s auditor-days is below 70 %% of the basic "
                "audit time of %(basic)s auditor-days (%(least)s auditor-days): record the "
                "justification."
            )
            % {
                "total": total,
                "basic": basic,
                "least": rules.ceil_half_day(basic * Decimal("0.7")),
            },
            "000 §4.2.1",
        ) from None
    return rules.MINIMUM_DAYS


def _check_onsite(total: Decimal, onsite: Decimal, remote: Decimal, remote_reason: str) -> None:
    if onsite < 0 or remote < 0:
        raise RuleViolation(_("Audit time cannot be negative."))
    if onsite > total:
        raise RuleViolation(
            _(
                "The on-site time of %(onsite)s auditor-days exceeds the audit time of "
                "%(total)s auditor-days."
            )
            % {"onsite": onsite, "total": total},
            "004 §12.1.5",
        )
    try:
        rules.check_onsite_share(total, onsite)
    except ValueError:
        raise RuleViolation(
            _(
                "The on-site time of %(onsite)s auditor-days is below 80 %% of the audit time "
                "of %(total)s auditor-days; at least %(least)s auditor-days are needed."
            )
            % {"onsite": onsite, "total": total, "least": rules.least_onsite_days(total)},
            "004 §5.4.2.3",
        ) from None
    if remote:
        try:
            rules.check_remote_share(onsite, remote)
        except ValueError:
            raise RuleViolation(
                _(
                    "The remote audit time of %(remote)s auditor-days exceeds 30 %% of the "
                    "on-site time of %(onsite)s auditor-days."
                )
                % {"remote": remote, "onsite": onsite},
                "004 §5.4.5.3",
            ) from None
        if not remote_reason.strip():
            raise RuleViolation(
                _(
                    "A remote audit needs the processes, methods and reasons stated, and "
                    "noted in the audit plan."
                ),
                "004 §5.4.5.2–5.4.5.3",
            )
