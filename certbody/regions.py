"""Province-level administrative division codes (GB/T 2260: the first two digits).

Used to group certificates by province for the annual statistics (002 §4.3.5) and to show a
client's province. The six-digit code itself is stored on the organisation.
"""

from django.utils.translation import gettext

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省",
    "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省", "35": "福建省",
    "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省", "54": "西藏自治区",
    "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
    "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def province_of(division_code: str) -> str:
    """Province name for a six-digit administrative division code.

    Raises ValueError (a translated message, shown by the form validators) when the code is not
    six digits or its province prefix is unknown.
    """
    if not (isinstance(division_code, str) and len(division_code) == 6 and division_code.isdigit()):
        raise ValueError(
            gettext("The administrative division code must be 6 digits, not “%(code)s”.")
            % {"code": division_code}
        )
    try:
        return PROVINCES[division_code[:2]]
    except KeyError:
        raise ValueError(
            gettext("The administrative division code “%(code)s” names no known province.")
            % {"code": division_code}
        ) from None
