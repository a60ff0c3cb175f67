"""The causes of suspension and withdrawal (004 §7.2.1, §7.3.1) and their CNCA reason codes.

Pure data, no ORM: the one place that maps the rule's numbered causes onto the reason codes of
the national reporting platform (certbody/data/cnca_codes.json "suspension_reason" and
"withdrawal_reason"). The platform's table is coarser than the rule and was written for
management systems, so several causes share a code; the mapping below says why for each.

Labels are the seed's wording (004 §7.2.1 (1)–(12), §7.3.1 (1)–(10)); they are what the public
page, the notices and the reports show. A cause number is what callers pass
(``certificate_suspend(cause=…)``, ``certificate_withdraw(cause=…)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "Cause",
    "SUSPENSION_CAUSES",
    "WITHDRAWAL_CAUSES",
    "LICENCE_EXPIRED",
    "SUSPENSION_ENDED_UNRESOLVED",
    "SPOT_CHECKS_FAILED_WITHDRAWAL",
    "suspension_cause",
    "withdrawal_cause",
    "choices",
]


@dataclass(frozen=True)
class Cause:
    """One numbered cause: ``number`` in the rule, its Chinese ``label``, the CNCA code."""

    number: int
    label: str
    cnca_code: str
    rule: str

    @property
    def choice_label(self) -> str:
        return f"({self.number}) {self.label}"


def _table(rule: str, rows) -> MappingProxyType[int, Cause]:
    return MappingProxyType({n: Cause(n, label, code, f"{rule}({n})") for n, label, code in rows})


# 004 §7.2.1 — suspend within 5 working days after verification.
SUSPENSION_CAUSES = _table(
    "004 §7.2.1",
    (
        (
            1,
            "售后服务认证体系持续或严重不满足认证要求，包括对售后服务认证体系运行有效性要求的",
            "0111",
        ),
        # No failure to correct in time is required by the rule, but the legal breach not
        # corrected is what the regulator acts on: reported as a penalty case.
        (2, "不满足售后服务认证体系适用的法律法规要求，且未采取有效纠正措施的", "0113"),
        # An accident revealing major defects is the system seriously failing its requirements.
        (3, "发生较大或重大事故，反映获证组织售后服务认证体系运行存在重大缺陷的", "0111"),
        # Cooperating with the regulator and giving true information are contract duties
        # (004 §5.3.3 (1)(2)).
        (4, "拒绝配合市场监管部门的认证执法监督检查，或者提供虚假材料或信息的", "0112"),
        (
            5,
            "持有的与售后服务认证体系范围有关的行政许可证明、资质证书、强制性认证证书等过期失效",
            "0115",
        ),
        # Accepting surveillance at the required interval is a contract duty (004 §5.3.3 (1)).
        (6, "不能按照规定的时间间隔接受监督审核的", "0112"),
        # Correct use of certificate and mark is a contract duty (004 §5.3.3 (3)).
        (
            7,
            "未按相关规定正确引用和宣传获得的认证资格和有关信息，包括认证证书和认证标"
            "志的使用，造成严重影响或后果的",
            "0112",
        ),
        (8, "不承担、履行认证合同约定的责任和义务的", "0112"),
        # 责令停业整顿 is an administrative penalty.
        (9, "被有关行政监管部门责令停业整顿的", "0113"),
        (10, "发生与服务相关的重大舆情", "0199"),
        (11, "主动请求暂停的", "0116"),
        (12, "其他应当暂停认证证书的情况", "0199"),
    ),
)

# 004 §7.3.1 — withdraw within 5 working days after verification.
WITHDRAWAL_CAUSES = _table(
    "004 §7.3.1",
    (
        (1, "被注销或撤销法律地位证明文件的", "0111"),
        # Listing follows a serious violation found by the authorities.
        (2, "被国家企业信用信息公示系统和“信用中国”列入严重违法失信名单的", "0114"),
        (
            3,
            "拒绝配合认证监管部门实施的监督检查，或者对有关事项的询问和调查提供了虚假材料或信息的",
            "0112",
        ),
        # Refusing a government spot check is refusing the regulator's supervision.
        (4, "拒绝接受国家行政主管部门抽查的", "0112"),
        (5, "因获证组织违规造成质量安全事故的", "0113"),
        (6, "有其他严重违法违反法律法规行为的", "0114"),
        (
            7,
            "暂停认证证书的期限已满但导致暂停的问题未得到解决或纠正的（包括持有的与售"
            "后服务认证体系范围有关的行政许可证明、资质证书、强制性认证证书等已经过期"
            "失效）",
            "0115",
        ),
        (8, "没有运行售后服务认证体系或者已不具备运行条件的", "0116"),
        (
            9,
            "不按相关规定正确引用和宣传获得的认证信息，造成严重影响或后果，或者认证机"
            "构已要求其纠正但超过 1 个月仍未纠正的",
            "0117",
        ),
        (10, "其他应当撤销认证证书的", "0199"),
    ),
)

LICENCE_EXPIRED = 5  # suspension cause: 001 §9.3.2.2 lets it run to the licensing decision
SUSPENSION_ENDED_UNRESOLVED = 7  # withdrawal cause: needs a suspension whose period has ended
# 003 §4.6 (three failed national/provincial spot checks) is not one of 004 §7.3.1 (1)–(9).
SPOT_CHECKS_FAILED_WITHDRAWAL = 10


def _get(table: MappingProxyType[int, Cause], number, rule: str) -> Cause:
    try:
        return table[int(number)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"unknown cause {number!r} of {rule}") from None


def suspension_cause(number: int) -> Cause:
    """The 004 §7.2.1 cause ``number`` (1–12); ``ValueError`` for anything else."""
    return _get(SUSPENSION_CAUSES, number, "004 §7.2.1")


def withdrawal_cause(number: int) -> Cause:
    """The 004 §7.3.1 cause ``number`` (1–10); ``ValueError`` for anything else."""
    return _get(WITHDRAWAL_CAUSES, number, "004 §7.3.1")


def choices(table: MappingProxyType[int, Cause]) -> list[tuple[int, str]]:
    """``(number, "(n) label")`` pairs for a form's choice field."""
    return [(cause.number, cause.choice_label) for cause in table.values()]
