"""Demo auditor registrations (004 §4.2, §4.4, §3.5): one auditor whose registration expires
within 60 days (so the reminder job and the desk's "expiring" filter have something to show),
with the training and witnessed audits an auditor's page lists; the other demo auditors keep
registrations recorded without dates, listed for completion.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group

from audits import services as audit_services
from audits.models import Auditor
from certbody import dates, roles
from certbody.models import User
from demo.plan import DEMO_LAST_DATE, demo_password, hash_demo_password

USERNAME = "auditor5"
DISPLAY_NAME = "钱晓东"
EXPIRES_IN_DAYS = 45  # within the 60 days the reminder job warns about


def seed_registrations(staff, log) -> None:
    """Register ``auditor5`` (a trainee's registration renewed as an auditor's, expiring 45
    days after the day the demo is seeded) with training records and a witnessed audit, through
    the audits services. Does nothing when the user exists."""
    if User.objects.filter(username=USERNAME).exists():
        return
    user = User(username=USERNAME, display_name=DISPLAY_NAME, is_staff=True)
    user.password = hash_demo_password(demo_password(USERNAME))
    user.save()
    user.groups.add(Group.objects.get(name=roles.AUDITOR))
    expires_on = dates.today() + timedelta(days=EXPIRES_IN_DAYS)
    auditor = audit_services.auditor_register(
        user=user,
        actor=staff.planner,
        qualification=Auditor.Qualification.AUDITOR,
        is_full_time=False,
        registration_number="2023-FW-20001",
        registration_type=Auditor.RegistrationType.AUDITOR,
        registration_issued_on=expires_on - timedelta(days=3 * 365),
        registration_valid_until=expires_on,
        notes="注册即将到期，须办理注册保持",
    )
    audit_services.auditor_competence_grant(
        auditor=auditor,
        actor=staff.planner,
        scope_code=24,
        evidence="售后服务认证审查员专业能力评价记录（见证审核及培训考核）",
        granted_on=date(2023, 6, 1),
    )
    for attended_on, title, hours, provider in (
        (date(2025, 4, 18), "GB/T 27922 售后服务认证审查员继续教育", "16", "中国认证认可协会"),
        (date(2026, 3, 12), "认证机构审核员能力提升培训：不符合项的判定与描述", "8", "本机构"),
    ):
        audit_services.auditor_training_record(
            auditor=auditor,
            actor=staff.planner,
            attended_on=min(attended_on, DEMO_LAST_DATE),
            title=title,
            hours=Decimal(hours),
            provider=provider,
            evidence="培训签到表及结业证书（存档）",
        )
    audit_services.auditor_witnessed_audit_record(
        auditor=auditor,
        actor=staff.planner,
        witnessed_on=date(2026, 5, 20),
        witness=str(staff.auditors[0]),
        outcome="improvement",
        notes="抽样记录较完整；末次会议对不符合项的说明需更清楚",
    )
    log(f"auditor {USERNAME}: registration expires on {expires_on:%Y-%m-%d}")
