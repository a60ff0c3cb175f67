"""The causes of suspension and withdrawal per scheme and their CNCA reason codes.

ZXRZ (seed 004): §7.2.1 (1)–(12) and §7.3.1 (1)–(10). CAS (seed 001): §9.3.2.1 (1)–(7) and
§9.3.3.1 (1)–(10). Each certificate follows its own scheme's table (``Certificate.scheme``):
``suspension_causes(scheme)``, ``withdrawal_causes(scheme)``, ``scheme_causes(scheme)`` for the
periods and the numbers the jobs use. The old names (``SUSPENSION_CAUSES``,
``suspension_cause(n)``, ``LICENCE_EXPIRED`` …) are the ZXRZ ones and keep working.

Pure data, no ORM: the one place that maps the rule's numbered causes onto the reason codes of
the national reporting platform (certbody/data/cnca_codes.json "suspension_reason" and
"withdrawal_reason"). The platform's table is coarser than the rule and was written for
management systems, so several causes share a code; the mapping below says why for each.

Labels are the seed's wording; they are what the public page, the notices and the reports
show. A CAS cause also has an English ``title`` (a msgid whose Chinese is the label) for the
staff forms. A cause number is what callers pass (``certificate_suspend(cause=…)``,
``certificate_withdraw(cause=…)``); the number means the cause of the certificate's scheme.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType

from django.utils.translation import gettext_lazy as _

from audits.rules import SCHEME_CAS, SCHEME_ZXRZ

__all__ = [
    "Cause",
    "SchemeCauses",
    "SUSPENSION_CAUSES",
    "WITHDRAWAL_CAUSES",
    "CAS_SUSPENSION_CAUSES",
    "CAS_WITHDRAWAL_CAUSES",
    "LICENCE_EXPIRED",
    "SUSPENSION_ENDED_UNRESOLVED",
    "SPOT_CHECKS_FAILED_WITHDRAWAL",
    "suspension_cause",
    "withdrawal_cause",
    "scheme_causes",
    "suspension_causes",
    "withdrawal_causes",
    "choices",
]


@dataclass(frozen=True)
class Cause:
    """One numbered cause: ``number`` in the rule, its Chinese ``label``, the CNCA code, the
    clause ``rule`` ("001 §9.3.2.1(4)") and, where given, the English msgid ``title``."""

    number: int
    label: str
    cnca_code: str
    rule: str
    title: str = ""

    @property
    def display(self) -> str:
        """The cause in the active language: the English title translated (to the seed's
        own words in Chinese); documents and regulator files use ``label``."""
        return str(self.title) if self.title else self.label

    @property
    def choice_label(self) -> str:
        return f"({self.number}) {self.display}"


def _table(rule: str, rows) -> MappingProxyType[int, Cause]:
    return MappingProxyType(
        {row[0]: Cause(row[0], row[1], row[2], f"{rule}({row[0]})", *row[3:]) for row in rows}
    )


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


def _titled(table: MappingProxyType[int, Cause], titles: dict) -> MappingProxyType[int, Cause]:
    """``table`` with the English msgid ``title`` of each cause (its Chinese translation is the
    seed's wording, so screens read the seed in Chinese and a faithful title in English)."""
    return MappingProxyType({n: replace(c, title=titles[n]) for n, c in table.items()})


SUSPENSION_CAUSES = _titled(
    SUSPENSION_CAUSES,
    {
        1: _(
            "The after-sales service system persistently or seriously fails the certification "
            "requirements, including the requirements on its effective operation"
        ),
        2: _(
            "The applicable legal requirements are not met and no effective corrective action "
            "was taken"
        ),
        3: _(
            "A serious or major accident shows a major defect in the operation of the "
            "certified system"
        ),
        4: _(
            "Refuses the market regulator's enforcement inspection, or gives false material "
            "or information"
        ),
        5: _(
            "An administrative licence, qualification or compulsory certificate within the "
            "scope has expired"
        ),
        6: _("Cannot receive surveillance audits at the required intervals"),
        7: _(
            "The certification, the certificate or the mark is cited or publicised "
            "incorrectly, with serious effect or consequences"
        ),
        8: _(
            "The client does not bear or fulfil the responsibilities and obligations of the "
            "certification contract"
        ),
        9: _("Ordered by the administrative regulator to suspend business for rectification"),
        10: _("A major public-opinion incident related to the service"),
        11: _("The client asks for the suspension"),
        12: _("Other situations where the certificate should be suspended"),
    },
)
WITHDRAWAL_CAUSES = _titled(
    WITHDRAWAL_CAUSES,
    {
        1: _("The documents proving the legal status were cancelled or revoked"),
        2: _(
            "Listed as seriously illegal and untrustworthy in the National Enterprise Credit "
            "Information Publicity System and Credit China"
        ),
        3: _(
            "Refuses the certification regulator's inspection, or gives false material or "
            "information to its inquiries and investigations"
        ),
        4: _("Refuses a spot check by the national administrative authorities"),
        5: _("A quality or safety accident caused by the client's violations"),
        6: _("Other serious breaches of laws and regulations"),
        7: _(
            "The suspension period ended without the cause being resolved or corrected "
            "(including an expired licence, qualification or compulsory certificate within "
            "the scope)"
        ),
        8: _(
            "The after-sales service certification system is not operated or can no longer be "
            "operated"
        ),
        9: _(
            "Certification information cited or publicised incorrectly with serious effect, "
            "or not corrected more than 1 month after the CB asked for it"
        ),
        10: _("Other cases where the certificate is withdrawn"),
    },
)


LICENCE_EXPIRED = 5  # suspension cause: 001 §9.3.2.2 lets it run to the licensing decision
SUSPENSION_ENDED_UNRESOLVED = 7  # withdrawal cause: needs a suspension whose period has ended
# 003 §4.6 (three failed national/provincial spot checks) is not one of 004 §7.3.1 (1)–(9).
SPOT_CHECKS_FAILED_WITHDRAWAL = 10


# 001 §9.3.2.1 — CAS: suspend within 5 working days after verification. The CNCA codes follow
# the reasoning given for the 004 causes above.
CAS_SUSPENSION_CAUSES = _table(
    "001 §9.3.2.1",
    (
        (
            1,
            "服务体系持续或严重不满足认证要求，包括对范围体系运行有效性要求的",
            "0111",
            _(
                "The service system persistently or seriously fails the certification "
                "requirements, including those on the effectiveness of its operation"
            ),
        ),
        (
            2,
            "不承担、履行认证合同约定的责任和义务的",
            "0112",
            _(
                "The client does not bear or fulfil the responsibilities and obligations of the "
                "certification contract"
            ),
        ),
        # 责令停业整顿 is an administrative penalty.
        (
            3,
            "被有关执法监管部门责令停业整顿的",
            "0113",
            _("Ordered by the law-enforcement authorities to suspend business for rectification"),
        ),
        # Accepting surveillance at the required frequency is a contract duty.
        (
            4,
            "无正当理由不按要求的频次接受监督审查或再认证审查的",
            "0112",
            _(
                "Does not accept surveillance or recertification audits at the required "
                "frequency without good reason"
            ),
        ),
        (
            5,
            "持有的与相关服务的资质和任何行政许可等过期失效，重新提交的申请已被受理但尚未换证的",
            "0115",
            _(
                "A qualification or administrative licence for the service has expired; the "
                "renewal application was accepted but not yet granted"
            ),
        ),
        (6, "主动请求暂停的", "0116", _("The client asks for the suspension")),
        # CNCA 0199 names "a serious nonconformity not corrected in the time set", which is the
        # case this cause carries for CAS (001 §7.5, ``SchemeCauses.nc_not_corrected``).
        (7, "其他应当暂停认证证书的", "0199", _("Other cases where the certificate is suspended")),
    ),
)

# 001 §9.3.3.1 — CAS: withdraw within 5 working days after verification.
CAS_WITHDRAWAL_CAUSES = _table(
    "001 §9.3.3.1",
    (
        (
            1,
            "被注销或撤销法律地位证明文件的",
            "0111",
            _("The documents proving the legal status were cancelled or revoked"),
        ),
        (
            2,
            "拒绝配合认证监管部门实施的监督检查，或者对有关事项的询问和调查提供了虚假材料或信息的",
            "0112",
            _(
                "Refuses the certification regulator's supervision, or gives false material or "
                "information to its inquiries and investigations"
            ),
        ),
        (
            3,
            "出现重大的事故，经执法监管部门确认是获证组织违规造成的",
            "0113",
            _(
                "A major accident that the law-enforcement authorities confirmed was caused by "
                "the client's violation"
            ),
        ),
        (
            4,
            "有其他严重违反法律法规行为的",
            "0114",
            _("Other serious violations of laws and regulations"),
        ),
        (
            5,
            "暂停认证证书的期限已满但导致暂停的问题未得到解决或纠正的（包括持有的与相关服务的"
            "资质和任何行政许可等已经过期失效但申请未获批准）",
            "0115",
            _(
                "The suspension period ended without the cause being resolved or corrected "
                "(including an expired qualification or licence whose renewal was not granted)"
            ),
        ),
        (
            6,
            "没有运行售后服务体系或者已不具备运行条件的",
            "0116",
            _("The after-sales service system is not operated or can no longer be operated"),
        ),
        (
            7,
            "不按相关规定正确引用和宣传获得的认证信息，造成严重影响或后果，或者CAS已要求其纠"
            "正但超过2个月仍未纠正的",
            "0117",
            _(
                "Certification information cited or publicised incorrectly with serious effect, "
                "or not corrected more than 2 months after CAS asked for it"
            ),
        ),
        # Listing follows a serious violation found by the authorities.
        (
            8,
            "被国家质量监督检验检疫总局列入质量信用严重失信企业名单",
            "0114",
            _("Listed by AQSIQ as a seriously untrustworthy enterprise in quality credit"),
        ),
        # Refusing a government spot check is refusing the regulator's supervision.
        (
            9,
            "拒绝接受国家监督检查或行业主管部门抽查的",
            "0112",
            _(
                "Refuses a national supervisory inspection or a spot check by the industry "
                "authority"
            ),
        ),
        (
            10,
            "其他应当撤销认证证书的",
            "0199",
            _("Other cases where the certificate is withdrawn"),
        ),
    ),
)


@dataclass(frozen=True)
class SchemeCauses:
    """A scheme's cause tables, their clauses and periods, and the cause numbers the services
    and jobs pick for their own cases. Get it with ``scheme_causes(scheme)``.

    Periods: a suspension lasts at most ``max_suspension_months`` calendar months from its
    start; under CAS the licence cause ``licence_expired`` may run to the licensing decision
    (``licence_extension``, 001 §9.3.2.2), under ZXRZ it may not (004 §7.2.2). Misused
    certification information is withdrawn when not corrected within
    ``misuse_correction_months`` (004 §7.3.1(9): 1; 001 §9.3.3.1(7): 2). Suspension and
    withdrawal follow the verification within ``working_days`` working days (both schemes).
    """

    scheme: str
    suspension: MappingProxyType[int, Cause]
    withdrawal: MappingProxyType[int, Cause]
    suspension_rule: str
    withdrawal_rule: str
    period_rule: str
    licence_extension: bool
    misuse_correction_months: int
    # cause numbers in this scheme's tables
    licence_expired: int
    surveillance_overdue: int
    evaluation_failed: int
    client_request: int
    suspension_ended_unresolved: int
    spot_checks_failed: int
    # the suspension cause of a surveillance nonconformity not corrected in time (CAS only)
    nc_not_corrected: int | None = None
    max_suspension_months: int = 6
    working_days: int = 5

    def suspension_cause(self, number) -> Cause:
        """The suspension cause ``number`` of this scheme; ``ValueError`` naming the clause."""
        return _get(self.suspension, number, self.suspension_rule)

    def withdrawal_cause(self, number) -> Cause:
        """The withdrawal cause ``number`` of this scheme; ``ValueError`` naming the clause."""
        return _get(self.withdrawal, number, self.withdrawal_rule)


ZXRZ, CAS = SCHEME_ZXRZ, SCHEME_CAS

_SCHEMES = {
    ZXRZ: SchemeCauses(
        scheme=ZXRZ,
        suspension=SUSPENSION_CAUSES,
        withdrawal=WITHDRAWAL_CAUSES,
        suspension_rule="004 §7.2.1",
        withdrawal_rule="004 §7.3.1",
        period_rule="004 §7.2.2",
        licence_extension=False,
        misuse_correction_months=1,
        licence_expired=LICENCE_EXPIRED,
        surveillance_overdue=6,
        evaluation_failed=1,
        client_request=11,
        suspension_ended_unresolved=SUSPENSION_ENDED_UNRESOLVED,
        spot_checks_failed=SPOT_CHECKS_FAILED_WITHDRAWAL,
    ),
    CAS: SchemeCauses(
        scheme=CAS,
        suspension=CAS_SUSPENSION_CAUSES,
        withdrawal=CAS_WITHDRAWAL_CAUSES,
        suspension_rule="001 §9.3.2.1",
        withdrawal_rule="001 §9.3.3.1",
        period_rule="001 §9.3.2.2",
        licence_extension=True,
        misuse_correction_months=2,
        licence_expired=5,
        surveillance_overdue=4,
        evaluation_failed=1,
        client_request=6,
        suspension_ended_unresolved=5,
        # 003 §4.6 is not one of 001 §9.3.3.1 (1)–(9) either ((9) is refusing a spot check).
        spot_checks_failed=10,
        nc_not_corrected=7,
    ),
}


def scheme_causes(scheme: str) -> SchemeCauses:
    """The cause tables and periods of ``scheme`` ("ZXRZ-2025" or "CAS"); ``ValueError`` for
    an unknown scheme. 004 §7.2–§7.3 for ZXRZ, 001 §9.3 for CAS."""
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"unknown scheme {scheme!r}") from None


def suspension_causes(scheme: str = ZXRZ) -> MappingProxyType[int, Cause]:
    """The suspension causes of ``scheme`` by number (004 §7.2.1 or 001 §9.3.2.1)."""
    return scheme_causes(scheme).suspension


def withdrawal_causes(scheme: str = ZXRZ) -> MappingProxyType[int, Cause]:
    """The withdrawal causes of ``scheme`` by number (004 §7.3.1 or 001 §9.3.3.1)."""
    return scheme_causes(scheme).withdrawal


def _get(table: MappingProxyType[int, Cause], number, rule: str) -> Cause:
    try:
        return table[int(number)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"unknown cause {number!r} of {rule}") from None


def suspension_cause(number: int, scheme: str = ZXRZ) -> Cause:
    """The suspension cause ``number`` of ``scheme`` (ZXRZ 004 §7.2.1 (1)–(12) by default, CAS
    001 §9.3.2.1 (1)–(7)); ``ValueError`` for anything else."""
    return scheme_causes(scheme).suspension_cause(number)


def withdrawal_cause(number: int, scheme: str = ZXRZ) -> Cause:
    """The withdrawal cause ``number`` of ``scheme`` (ZXRZ 004 §7.3.1 (1)–(10) by default, CAS
    001 §9.3.3.1 (1)–(10)); ``ValueError`` for anything else."""
    return scheme_causes(scheme).withdrawal_cause(number)


def choices(table: MappingProxyType[int, Cause]) -> list[tuple[int, str]]:
    """``(number, "(n) label")`` pairs for a form's choice field."""
    return [(cause.number, cause.choice_label) for cause in table.values()]
