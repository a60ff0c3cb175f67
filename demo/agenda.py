"""Agenda rows for the demo's audit plans (004 §5.4.6.1): the opening meeting, the clauses of
GB/T 27922 shared between the leader and the auditor, the closing meeting."""

from datetime import time

from audits import services as audit_services
from audits.models import AuditPlan
from certbody.models import User

# (from, to, clause) on the first day, then on the last; the leader and the auditor alternate.
_FIRST_DAY = [
    (time(9, 0), time(9, 30), "首次会议"),
    (time(9, 30), time(12, 0), "4 售后服务体系：服务承诺、组织与制度"),
    (time(13, 30), time(16, 0), "5.1 服务网点与人员、配送安装"),
]
_LAST_DAY = [
    (time(9, 0), time(12, 0), "5.2 维修、退换货与投诉处理"),
    (time(13, 30), time(16, 0), "6 服务测评：顾客满意度与服务改进"),
    (time(16, 30), time(17, 0), "末次会议"),
]


def demo_agenda(plan: AuditPlan, *, actor) -> None:
    """Give ``plan`` its agenda rows (written by ``actor``, a planner) when its audit is on
    site and scheduled; a one-day audit keeps the first day's rows and the closing meeting."""
    audit = plan.audit
    if not (audit.needs_site_visit and audit.planned_start and audit.planned_end):
        return
    team = list(audit.team.order_by("role", "pk").values_list("user", "role"))
    leader = next((user for user, role in team if role == "leader"), None)
    member = next((user for user, role in team if role == "auditor"), leader)
    site = audit.organization.sites.order_by("-is_head_office", "pk").first()
    last = _LAST_DAY if audit.planned_end > audit.planned_start else _LAST_DAY[-1:]
    rows = []
    for day, schedule in ((audit.planned_start, _FIRST_DAY), (audit.planned_end, last)):
        for number, (starts_at, ends_at, activity) in enumerate(schedule):
            meeting = "会议" in activity
            rows.append(
                {
                    "day": day,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                    "site": site,
                    "activity": activity,
                    "auditor_id": leader if meeting or number % 2 else member,
                }
            )
    users = {u.pk: u for u in User.objects.filter(pk__in={r["auditor_id"] for r in rows} - {None})}
    for row in rows:
        row["auditor"] = users.get(row.pop("auditor_id"))
    audit_services.audit_plan_agenda_set(plan=plan, actor=actor, rows=rows)
