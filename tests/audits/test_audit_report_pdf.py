"""The audit report's PDF (004 §5.11.3), rendered for real: apart from
tests/audits/test_audit_reports.py, whose shared fixtures hold the module under stub PDFs
(tests/shared.py)."""

from datetime import date

import pytest

from audits.models import Nonconformity, ScoreItem
from tests.applications.factories import OrganizationFactory
from tests.audits.test_audit_reports import generate, nonconformity, stored
from tests.certificates.factories import Staff, completed_stage2
from tests.certificates.helpers import pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(cb):
    return Staff()


@pytest.fixture
def stage2(staff):
    return completed_stage2(OrganizationFactory(name="南京苏宁电器有限公司"), staff, report=False)


@pytest.mark.pdf
def test_the_report_pdf_holds_the_key_items_of_004_5_11_3(staff, stage2):
    sheet = stage2.score_sheet
    indicators = list(sheet.catalogue.indicators.all())
    for indicator in indicators:
        ScoreItem.objects.create(sheet=sheet, indicator=indicator, points=indicator.max_points)
    nonconformity(
        stage2,
        1,
        "major",
        Nonconformity.State.CLOSED,
        description="未建立顾客投诉处理制度",
        closed_on=date(2025, 3, 18),
        due_on=date(2025, 9, 12),
    )
    nonconformity(stage2, 2, "minor", Nonconformity.State.PLAN_ACCEPTED, due_on=date(2025, 4, 12))

    report = generate(stage2, staff)

    text = pdf_text(stored(report))
    assert "中信认证有限公司" in text  # (1)
    assert "南京苏宁电器有限公司" in text  # (2)
    assert "二阶段审核" in text or "Stage2" in text  # (3)
    assert "GB/T27922" in text  # (5)
    assert "2025-03-10至2025-03-12" in text  # (7)/(11)
    assert "售后服务体系" in text and "商品服务" in text and "顾客服务" in text
    assert "92.00分" in text
    assert "四星级" in text
    assert "NC-01" in text and "未建立顾客投诉处理制度" in text and "2025-09-12" in text
    assert "NC-02" in text and "2025-04-12" in text
    assert "审核基于对可获得信息的抽样过程" in text  # (18)
    assert "审查组推荐认证注册，推荐星级：四星级" in text  # (19)
    assert "审查组组长：wf-leader" in text
