"""Demo reports owed to CNAS (002 §4.3.7, §4.3.8.1), through the reporting services: a major
change of the CB decided a few days before the demo date, so that it falls due a week after it
(the reminders and the desk show it "due soon"), and the annual accreditation plan for 2027,
submitted before its 31 July deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from certbody.models import User
from demo.plan import DEMO_LAST_DATE
from reporting import services as report_services

CHANGE_DECIDED_DAYS_BEFORE = 3  # due 10 days after the decision: a week after the demo date
PLAN_YEAR = 2027


def seed_cnas_obligations(staff, log: Callable[[str], None]) -> None:
    """Record the demo's CNAS obligations as the reporting officer and the technical manager."""
    reporting = User.objects.get(username="reporting")
    change = report_services.accreditation_change_record(
        actor=staff.technical_manager,
        subject="认证机构法定代表人变更（董事会决议）",
        occurred_on=DEMO_LAST_DATE - timedelta(days=CHANGE_DECIDED_DAYS_BEFORE),
        note="需起草红头文件说明变更对认证管理运行的影响及采取的措施，加盖公章后报送 CNAS。",
    )
    plan = report_services.accreditation_plan_open(
        actor=reporting, year=PLAN_YEAR, today=DEMO_LAST_DATE
    )
    report_services.accreditation_obligation_submit(
        obligation=plan,
        actor=reporting,
        submitted_on=date(PLAN_YEAR - 1, 7, 20),
        reference="CNAS 认可信息管理系统 2026-0715",
    )
    log(f"CNAS obligations: a change due {change.due_on}, the {PLAN_YEAR} plan submitted")
