"""The default evaluation checklist (服务测评检查表) loaded as catalogue version "GB27922-2011-1".

GB/T 27922 fixes the three parts and their totals (004 §5.6.5.2: 40 / 35 / 25) and names the
indicators (domain.md §6); the seeds give no points per indicator, so the split below is this
product's default, documented as the CB's to adjust by adding a catalogue version (a version in
use by a score sheet is locked). Sampled indicators are those the seed names as checked on
several samples: staff qualification, behaviour, service records, complaint resolution
(004 §5.6.5.2 b).
"""

from decimal import Decimal

from audits.scoring import PART_TOTALS

DEFAULT_VERSION = "GB27922-2011-1"
DEFAULT_TITLE = "商品售后服务评价检查表（GB/T 27922-2011）"

# (part, code, name, points, method, guidance)
DEFAULT_INDICATORS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "system",
        "1.1",
        "组织架构",
        "5",
        "qualitative",
        "售后服务管理部门和职责明确，有专人负责售后服务工作。",
    ),
    (
        "system",
        "1.2",
        "人员配置",
        "6",
        "sampled",
        "抽查服务人员的资质、培训和能力，按不符合人数比例扣分。",
    ),
    (
        "system",
        "1.3",
        "资源配置",
        "6",
        "qualitative",
        "服务网点、设施、备件和资金能满足售后服务的需要。",
    ),
    (
        "system",
        "1.4",
        "规范要求",
        "7",
        "qualitative",
        "售后服务制度、服务规范和服务承诺形成文件并得到实施。",
    ),
    ("system", "1.5", "监督", "6", "qualitative", "对服务过程和服务质量进行监督检查，有记录。"),
    (
        "system",
        "1.6",
        "改进",
        "5",
        "qualitative",
        "对顾客反馈、投诉和监督发现的问题进行分析并持续改进。",
    ),
    ("system", "1.7", "服务文化", "5", "qualitative", "有明确的服务理念和服务文化建设活动。"),
    (
        "goods",
        "2.1",
        "商品信息",
        "5",
        "qualitative",
        "向顾客提供真实、完整的商品信息、使用说明和服务承诺。",
    ),
    (
        "goods",
        "2.2",
        "技术支持",
        "5",
        "sampled",
        "抽查技术咨询、培训和指导记录，按不符合比例扣分。",
    ),
    (
        "goods",
        "2.3",
        "配送与安装",
        "7",
        "sampled",
        "抽查配送、安装服务记录的及时性和完整性，按不符合比例扣分。",
    ),
    (
        "goods",
        "2.4",
        "维修",
        "7",
        "sampled",
        "抽查维修服务记录、时限和备件供应，按不符合比例扣分。",
    ),
    (
        "goods",
        "2.5",
        "质量保证",
        "6",
        "qualitative",
        "执行三包等质量保证承诺，退换货规则明确并得到执行。",
    ),
    (
        "goods",
        "2.6",
        "废弃商品回收",
        "5",
        "qualitative",
        "对废弃商品和包装的回收处理有规定并实施（商品性质不涉及时可删减）。",
    ),
    (
        "customer",
        "3.1",
        "顾客关系",
        "12",
        "sampled",
        "抽查顾客档案、回访和满意度调查记录，按不符合比例扣分。",
    ),
    (
        "customer",
        "3.2",
        "投诉处理",
        "13",
        "sampled",
        "抽查投诉处理记录的受理、处理时限和结果，按未妥善解决的比例扣分。",
    ),
)


def part_totals(rows) -> dict[str, Decimal]:
    """Sum of ``(part, points)`` pairs per part, for checking a catalogue against 40/35/25."""
    totals = {part: Decimal(0) for part in PART_TOTALS}
    for part, points in rows:
        if part not in totals:
            raise ValueError(f"unknown part {part!r}")
        totals[part] += Decimal(points)
    return totals


def check_part_totals(rows) -> list[str]:
    """Messages for each part whose indicator points do not add up to its fixed total
    (004 §5.6.5.2); empty when the catalogue is complete."""
    totals = part_totals(rows)
    return [
        f"{part}: {totals[part]} ≠ {PART_TOTALS[part]}"
        for part in PART_TOTALS
        if totals[part] != PART_TOTALS[part]
    ]


def ensure_default_catalogue(IndicatorCatalogue, Indicator) -> None:
    """Create the default catalogue version when no catalogue exists (idempotent).

    Takes the model classes so the data migration can pass its historical models.
    """
    if IndicatorCatalogue.objects.exists():
        return
    catalogue = IndicatorCatalogue.objects.create(
        version=DEFAULT_VERSION,
        title=DEFAULT_TITLE,
        is_current=True,
        notes="各指标分值为本系统默认分配，认证机构可新增版本调整；三部分合计固定为 40/35/25。",
    )
    Indicator.objects.bulk_create(
        Indicator(
            catalogue=catalogue,
            part=part,
            code=code,
            name=name,
            max_points=Decimal(points),
            method=method,
            guidance=guidance,
            position=position,
        )
        for position, (part, code, name, points, method, guidance) in enumerate(
            DEFAULT_INDICATORS, start=1
        )
    )
