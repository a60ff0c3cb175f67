"""Audit reports and termination reports (004 §5.11; 001 §6.5): generated as immutable PDFs,
signed by the team leader, delivered to the client after the decision with proof of delivery.

Keyword-only services taking the acting user; each runs atomically and raises
``RuleViolation`` with the clause named. Dates are local ``date`` values, never in the future.
This module sits in ``audits`` and never imports ``certificates``: whether a decision exists is
read through the reverse relation ``audit.decisions``, spot checks through
``organization.regulatory_events``.
"""

import hashlib
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from applications.models import Application
from audits import scoring
from audits.models import (
    Audit,
    AuditPlan,
    AuditReport,
    Indicator,
    Nonconformity,
    SamplingPlan,
    ScoreSheet,
)
from certbody import dates, policy
from certbody.lifecycle import RuleViolation, lock
from certbody.models import CertificationBody
from certbody.pdf import PdfError, document_language, render_checked
from certbody.uploads import remove_files

REPORT_TEMPLATE = "audits/pdf/audit_report.html"


# 004 §5.11.3 (18): the audit is a sampling of the information available.
SAMPLING_DISCLAIMER = (
    "审核基于对可获得信息的抽样过程，审核发现和审核结论仅针对所抽取的样本，"
    "存在一定的不确定性；未发现的不符合并不表示不存在不符合。"
)


# 004 §5.11.3 (6): what each kind of audit is for, when the plan does not say it.
DEFAULT_OBJECTIVES = {
    Audit.Kind.DOCUMENT_REVIEW: (
        "审查售后服务体系文件的适宜性和充分性，确认能否安排现场审核（001 §6.3）。"
    ),
    Audit.Kind.STAGE2: (
        "评价认证委托人售后服务认证体系与 GB/T 27922 的符合性和运行的有效性，"
        "进行服务测评评分，确定能否推荐认证注册及推荐的星级（004 §5.6）。"
    ),
    Audit.Kind.SURVEILLANCE: (
        "确认获证组织售后服务认证体系持续符合 GB/T 27922 并有效运行，"
        "验证以往不符合项的纠正措施，确定能否保持认证（004 §5.7）。"
    ),
    Audit.Kind.RECERTIFICATION: (
        "确认获证组织售后服务认证体系整体的持续符合性和有效性及认证范围的持续适宜性，"
        "确定能否更新认证（004 §5.8）。"
    ),
    Audit.Kind.SPECIAL: "按特殊审核的原因调查并确认获证组织的情况（004 §5.9）。",
}


# The report is a record in Chinese whatever the user's language (004 §10): its own labels.
SEVERITY_LABELS = {
    Nonconformity.Severity.MAJOR: "严重",
    Nonconformity.Severity.MINOR: "轻微",
}


NC_STATE_LABELS = {
    Nonconformity.State.OPEN: "待认证委托人回复",
    Nonconformity.State.ANSWERED: "已回复，待验证",
    Nonconformity.State.REJECTED: "回复未被接受，待重新回复",
    Nonconformity.State.PLAN_ACCEPTED: "纠正措施计划已接受，下次审核验证",
    Nonconformity.State.CLOSED: "已验证关闭",
}


DEDUCTION_LABELS = {
    "law": "不符合国家法律、法规的要求",
    "own_rules": "不符合企业有关服务制度的要求",
    "trade": "不符合行业专业性的特殊要求",
    "system": "对服务系统运行有影响",
}


GENERATE_RULE = "004 §5.11.1、§5.11.2"


DELIVERY_RULE = "004 §5.11.5"


TERMINATION_RULE = "004 §5.11.6"


def audit_report_generate(*, audit: Audit, actor, signed_on: date) -> AuditReport:
    """Generate, sign and store the report of ``audit`` as a new immutable version.

    A completed (or closed) audit gets the audit report (kind ``report``) with every item of
    004 §5.11.3 (1)–(19) the records hold; a terminated audit gets the termination report
    (kind ``termination``) with the reason and the work done (004 §5.11.6). ``actor``: the
    audit's team leader, who signs (004 §5.11.1–§5.11.2); a termination report of an audit
    without a team leader is signed by the audit department. ``signed_on``: local date, not
    in the future nor before the audit's end. Each call makes the next version (1, 2 …);
    earlier versions stay unchanged (004 §10).

    Raises RuleViolation: not the team leader; the audit is planned or in progress; bad date.
    """
    if signed_on > dates.today():
        raise RuleViolation(_("The signing date cannot be later than today."))
    with transaction.atomic():
        # Locked with the rows the report reads of it (``audit_report_context``), one query.
        audit = (
            Audit.objects.select_for_update(of=("self",))
            .select_related(
                "programme__organization", "programme__application", "time_determination"
            )
            .get(pk=audit.pk)
        )
        if audit.state in (Audit.State.COMPLETED, Audit.State.CLOSED):
            kind = AuditReport.Kind.REPORT
            policy.require(actor, "audits.sign_audit_report", audit)
        elif audit.state == Audit.State.TERMINATED:
            kind = AuditReport.Kind.TERMINATION
            # Signed by the team leader, or by the audit department when the audit never had
            # one (004 §5.11.6; the matrix row says so).
            policy.require(actor, "audits.sign_audit_report", audit)
        else:
            raise RuleViolation(
                _(
                    'The audit is "%(state)s": a report is written once the audit is '
                    "completed or terminated."
                )
                % {"state": audit.get_state_display()},
                GENERATE_RULE,
            )
        if audit.actual_end and signed_on < audit.actual_end:
            raise RuleViolation(_("The audit report cannot be signed before the audit ended."))
        version = (audit.reports.aggregate(last=Max("version"))["last"] or 0) + 1
        # A record in Chinese (004 §10, §6.2.4) whoever generates it, whatever their UI language.
        with document_language():
            context = audit_report_context(audit, kind=kind, signed_by=actor, signed_on=signed_on)
            context["version"] = version
            html = render_to_string(REPORT_TEMPLATE, context)
        try:
            # Fonts checked, text read back: a report nobody can read is not signed.
            content = render_checked(html, expected=[audit.programme.organization.name])
        except PdfError as exc:
            raise RuleViolation(
                _(
                    "The audit report PDF could not be made; try again later or contact the "
                    "technical manager: %(exc)s"
                )
                % {"exc": exc},
                GENERATE_RULE,
            ) from exc
        digest = hashlib.sha256(content).hexdigest()
        report = AuditReport(
            audit=audit,
            kind=kind,
            version=version,
            sha256=digest,
            size=len(content),
            signed_by=actor,
            signed_on=signed_on,
        )
        name = f"audit{audit.pk}-{kind}-v{version}-{digest[:12]}.pdf"
        report.file.save(name, ContentFile(content), save=False)
        try:
            report.save()
        except Exception:
            # The row failed: the file written for it must not stay behind (the orphan_files
            # job reports any left by an outer transaction rolled back later).
            remove_files(report.file.storage, [report.file.name])
            raise
    return report


def audit_report_deliver(
    *, report: AuditReport, actor, delivered_on: date, evidence: str
) -> AuditReport:
    """Record that ``report`` was given to the client, with the proof (签收或提交的证据).

    An audit report only after a decision on the audit exists (004 §5.11.5); a termination
    report any time after the termination (004 §5.11.6). Only the latest version is
    delivered, once. ``actor``: the audit department or the audit's team leader.
    ``delivered_on``: local date, not in the future nor before the signature.

    Raises RuleViolation for each refusal above and for a blank ``evidence``.
    """
    if not evidence.strip():
        raise RuleViolation(_("Record the evidence of receipt or delivery."), DELIVERY_RULE)
    if delivered_on > dates.today():
        raise RuleViolation(_("The delivery date cannot be later than today."))
    with transaction.atomic():
        report = lock(AuditReport, report.pk)
        audit = report.audit
        policy.require(actor, "audits.deliver_audit_report", audit)
        if report.delivered_on:
            raise RuleViolation(
                _("This report was delivered to the client on %(delivered_on)s.")
                % {"delivered_on": report.delivered_on}
            )
        latest = audit.reports.aggregate(last=Max("version"))["last"]
        if report.version != latest:
            raise RuleViolation(
                _("This report has a newer version (v%(latest)s); deliver the latest version.")
                % {"latest": latest}
            )
        if delivered_on < report.signed_on:
            raise RuleViolation(
                _("The delivery date cannot be earlier than the report's signing date.")
            )
        if report.kind == AuditReport.Kind.TERMINATION:
            if audit.state != Audit.State.TERMINATED:
                raise RuleViolation(
                    _("Only a terminated audit has a termination report."), TERMINATION_RULE
                )
        elif not audit.decisions.exists():
            raise RuleViolation(
                _("The audit report is delivered to the client after the certification decision."),
                DELIVERY_RULE,
            )
        report.delivered_on = delivered_on
        report.delivered_by = actor
        report.delivery_evidence = evidence.strip()[:300]
        report.save(update_fields=["delivered_on", "delivered_by", "delivery_evidence"])
    return report


def audit_report_context(audit: Audit, *, kind: str, signed_by, signed_on: date) -> dict:
    """Everything the report template shows, read from the records of ``audit``.

    Keys follow the items of 004 §5.11.3 (1)–(19); a key is empty (``None``, ``[]`` or "")
    when the records hold nothing for its item.
    """
    programme = audit.programme
    organization = programme.organization
    application = programme.application
    cb = CertificationBody.get()
    plan = AuditPlan.objects.filter(audit=audit).first()
    sampling = SamplingPlan.objects.filter(audit=audit).first()
    sheet = ScoreSheet.objects.filter(audit=audit).select_related("catalogue").first()
    previous = _previous_audit(audit)
    return {
        "cb": cb,  # (1)
        "audit": audit,
        "kind": kind,
        "title": "终止审核报告" if kind == AuditReport.Kind.TERMINATION else "服务认证审查报告",
        "organization": organization,  # (2)
        "sites": list(organization.sites.all()),
        "programme": programme,
        "audit_type": _audit_type(audit),  # (3)
        "criteria": (plan.criteria if plan else "")
        or f"{cb.standard}；{cb.name}服务认证实施规则及认证合同",  # (5)
        "objectives": (plan.objectives if plan else "")
        or DEFAULT_OBJECTIVES.get(audit.kind, ""),  # (6)
        "objectives_met": audit.recommendation_positive,
        "scope_text": (plan.scope_text if plan else "") or application.scope_text,  # (7)
        "plan": plan,
        "visited_sites": list(plan.sites.all()) if plan else [],  # (11)
        "sampling": sampling,
        "sampling_rows": list(sampling.rows.select_related("site")) if sampling else [],
        "time": getattr(audit, "time_determination", None),
        "deviations": _deviations(audit, plan, sampling),  # (8)
        "team": _team(audit),  # (10)
        "findings": audit.findings_summary,  # (12)
        "score": _score(sheet),
        "nonconformities": _labelled(audit.nonconformities.order_by("number")),
        "spot_checks": _spot_checks(audit, previous),  # (13)
        "changes": _changes(audit, previous),  # (14)
        "verified": _labelled(  # (16)
            Nonconformity.objects.filter(verified_at=audit)
            .exclude(audit=audit)
            .select_related("audit")
            .order_by("audit__actual_end", "number")
        ),
        "open_issues": _open_issues(audit),  # (17)
        "disclaimer": SAMPLING_DISCLAIMER,  # (18)
        "recommendation": audit.recommendation_positive,  # (19)
        "recommended_grade": scoring.GRADES.get(sheet.grade, "") if sheet else "",
        "termination_reason": audit.termination_reason,
        "signed_by": signed_by,
        "signed_on": signed_on,
    }


def _labelled(ncs) -> list[Nonconformity]:
    """``ncs`` with Chinese ``severity_label`` and ``state_label`` for the report."""
    rows = list(ncs)
    for nc in rows:
        nc.severity_label = SEVERITY_LABELS.get(nc.severity, nc.severity)
        nc.state_label = NC_STATE_LABELS.get(nc.state, nc.state)
    return rows


def _audit_type(audit: Audit) -> str:
    label = str(audit.get_kind_display())
    if audit.kind == Audit.Kind.SURVEILLANCE:
        label = f"{label}（第 {audit.sequence} 次）"
    if audit.kind == Audit.Kind.SPECIAL and audit.special_kind:
        label = f"{label}（{audit.get_special_kind_display()}）"
    if audit.short_notice:
        label = f"{label}，提前较短时间通知"
    return label


def _previous_audit(audit: Audit) -> Audit | None:
    if audit.actual_start is None:
        return None
    return (
        Audit.objects.filter(
            programme__organization_id=audit.programme.organization_id,
            actual_end__lt=audit.actual_start,
        )
        .exclude(pk=audit.pk)
        .order_by("-actual_end", "-pk")
        .first()
    )


def _team(audit: Audit) -> list[dict]:
    rows = []
    for member in audit.team.select_related("user", "user__auditor_profile").order_by("pk"):
        profile = getattr(member.user, "auditor_profile", None)
        rows.append(
            {
                "name": str(member.user),
                "role": member.get_role_display(),
                "registration_number": profile.registration_number if profile else "",
                "whole_audit": member.whole_audit,
                "tasks": member.tasks,
            }
        )
    return rows


def _deviations(audit: Audit, plan: AuditPlan | None, sampling: SamplingPlan | None) -> list:
    """Departures from the plan the records show (004 §5.11.3 (8))."""
    items = []
    if audit.planned_start and audit.actual_start and audit.planned_start != audit.actual_start:
        items.append(
            _("Planned start %(planned_start)s, actual start %(actual_start)s")
            % {
                "planned_start": format(audit.planned_start, "%Y-%m-%d"),
                "actual_start": format(audit.actual_start, "%Y-%m-%d"),
            }
        )
    if audit.planned_end and audit.actual_end and audit.planned_end != audit.actual_end:
        items.append(
            _("Planned end %(planned_end)s, actual end %(actual_end)s")
            % {
                "planned_end": format(audit.planned_end, "%Y-%m-%d"),
                "actual_end": format(audit.actual_end, "%Y-%m-%d"),
            }
        )
    if plan and plan.unaudited_shifts:
        items.append(
            _("Shifts not audited: %(unaudited_shifts)s (%(unaudited_shifts_reason)s)")
            % {
                "unaudited_shifts": plan.unaudited_shifts,
                "unaudited_shifts_reason": plan.unaudited_shifts_reason,
            }
        )
    if plan and plan.remote_methods:
        items.append(
            _("Remote audit methods used: %(remote_methods)s")
            % {"remote_methods": plan.remote_methods}
        )
    absent = [m for m in audit.team.select_related("user") if not m.whole_audit]
    if absent:
        items.append("未全程参加审核的审核组成员：" + "、".join(str(m.user) for m in absent))
    if audit.state == Audit.State.TERMINATED:
        items.append(
            _("Audit terminated: %(termination_reason)s")
            % {"termination_reason": audit.termination_reason}
        )
    return items


def _score(sheet: ScoreSheet | None) -> dict | None:
    """The evaluation by part, the score, grade and special deductions (004 §5.6.5.2–3)."""
    if sheet is None:
        return None
    parts = []
    items = list(sheet.items.select_related("indicator"))
    for part, name in scoring.PART_NAMES.items():
        rows = [i for i in items if i.indicator.part == part]
        applicable = sum((i.indicator.max_points for i in rows if not i.excluded), Decimal(0))
        earned = sum((i.points for i in rows if not i.excluded), Decimal(0))
        parts.append(
            {
                "name": name,
                "label": Indicator.Part(part).label,
                "total": scoring.PART_TOTALS[part],
                "applicable": applicable,
                "earned": earned,
                "excluded": [i.indicator for i in rows if i.excluded],
            }
        )
    return {
        "sheet": sheet,
        "parts": parts if items else [],
        "grade": scoring.GRADES.get(sheet.grade, sheet.grade),
        "deductions": [
            {"category": DEDUCTION_LABELS.get(d.category, d.category), "deduction": d}
            for d in sheet.deductions.all()
        ],
        "submitted": sheet.state == ScoreSheet.State.SUBMITTED,
    }


def _spot_checks(audit: Audit, previous: Audit | None) -> list:
    """Regulators' findings since the previous audit (004 §5.11.3 (13))."""
    events = audit.programme.organization.regulatory_events.all()
    if previous is not None and previous.actual_end:
        events = events.filter(occurred_on__gt=previous.actual_end)
    if audit.actual_end:
        events = events.filter(occurred_on__lte=audit.actual_end)
    return list(events.order_by("occurred_on"))


def _changes(audit: Audit, previous: Audit | None) -> list[Application]:
    """Change applications since the previous audit (004 §5.11.3 (14))."""
    if previous is None or previous.actual_end is None:
        return []
    changes = Application.objects.filter(
        organization_id=audit.programme.organization_id,
        kind=Application.Kind.CHANGE,
        created_at__date__gt=previous.actual_end,
    )
    if audit.actual_end:
        changes = changes.filter(created_at__date__lte=audit.actual_end)
    return list(changes.order_by("created_at"))


def _open_issues(audit: Audit) -> list[Nonconformity]:
    """Nonconformities of this client's programme up to this audit not yet settled
    (004 §5.11.3 (17); settled as in 004 §5.12.2(2))."""
    rows = Nonconformity.objects.filter(audit__programme_id=audit.programme_id).select_related(
        "audit"
    )
    if audit.actual_end:
        rows = rows.filter(audit__actual_end__lte=audit.actual_end)
    return _labelled(nc for nc in rows.order_by("audit__actual_end", "number") if not nc.is_settled)
