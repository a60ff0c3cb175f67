"""Demo: an application refused on eligibility (004 §5.1.2(7); 001 §6.1.5).

The client whose earlier application was withdrawn applies again. The CB recorded a failed
national supervisory spot check of it four months before the demo date; the review finds it in
the CB's records (pre-filled on the eligibility condition), the reviewer cannot tick the
condition without an account of its rectification, none is given, and the application is
rejected with the reasons. The written notice is made and e-mailed after the seed commits
(``application_rejection_notice_send``), or, without a Chinese font or an address, the
``rejection_notices`` job reminds the market department.
"""

from datetime import timedelta

from applications import services as app_services
from applications.models import Application, ApplicationReview
from certificates import services as cert_services
from demo.plan import DEMO_LAST_DATE

REASON = (
    "申请组织一年内发生国家监督抽查不合格（{on}），尚未提供按规定整改合格的证明，"
    "不满足受理条件（004 §5.1.2(7)）。整改合格后可重新提出认证申请。"
)


def seed_rejected_on_eligibility(staff, log) -> Application | None:
    """Add the refused application to the demo; None when the demo has no withdrawn one."""
    withdrawn = (
        Application.objects.filter(state=Application.State.WITHDRAWN)
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    if withdrawn is None:
        return None
    organization = withdrawn.organization
    market = staff.market
    failed_on = DEMO_LAST_DATE - timedelta(days=120)
    cert_services.regulatory_event_record(
        actor=staff.technical_manager,
        kind="spot_check",
        occurred_on=failed_on,
        source="国家市场监督管理总局产品质量国家监督抽查通报",
        description="抽查的电热水器产品标志和说明项目不合格。",
        organization=organization,
        level="national",
        result="fail",
    )
    application = app_services.application_create(
        organization=organization,
        actor=market,
        scope_text=withdrawn.scope_text,
        headcount=withdrawn.headcount,
        business_scope_codes=list(withdrawn.business_scopes.values_list("code", flat=True)),
        requested_grade=withdrawn.requested_grade,
    )
    app_services.application_submit(application=application, actor=market)
    app_services.application_start_review(application=application, actor=market)
    app_services.application_review_record(
        application=application,
        actor=market,
        checks={**dict.fromkeys(ApplicationReview.CHECKS, True), "no_spot_check_failure": False},
        notes="资料齐全；国抽不合格尚无整改合格证明，不予受理。",
    )
    app_services.application_reject(
        application=application, actor=market, reason=REASON.format(on=failed_on.isoformat())
    )
    log(f"application {application.reference} refused on eligibility (004 §5.1.2(7))")
    return application
