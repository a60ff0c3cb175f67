"""The demo's pure half: constants, log-ins, the plan of every client organisation and its
story (``plan_demo``), and the score sheets' planned answers. No database access.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password

from applications.validators import build_uscc
from certbody import roles
from certbody.dates import add_months
from certbody.models import CertificationBody

DEMO_SEED = 2026
# The latest date handed to any service (the services refuse future dates).
DEMO_LAST_DATE = date(2026, 11, 15)
# USCC serials of the demo organisations: 300,000,000 + n. generate_data uses 700,000,000 and
# up, the test factories 10,000 and up, so they never collide.
DEMO_USCC_SERIAL_BASE = 300_000_000

CB_PROFILE = {
    "name": "华信认证中心有限公司",
    "name_en": "Huaxin Certification Center Co., Ltd.",
    "address": "北京市朝阳区东三环北路38号华信大厦12层",
    "postcode": "100026",
    "phone": "010-65880123",
    "website": "https://www.hxrz.example.cn",
    "cnca_approval_number": "CNCA-R-2018-123",
    "number_prefix": "0123",
    "accreditation": "C",
    "accreditation_number": "CNAS C123-S",
}


def demo_password(username: str) -> str:
    """The documented demo password of ``username``: ``demo-<username>-2026``."""
    return f"demo-{username}-{DEMO_SEED}"


# The demo passwords are published (above), so hash strength protects nothing; a full-strength
# PBKDF2 hash costs ~1–2 s per user. Django re-hashes at full strength at the first log-in.
DEMO_HASH_ITERATIONS = 10_000


def hash_demo_password(raw: str) -> str:
    """``make_password`` with a cheap PBKDF2 work factor when PBKDF2 is the default hasher."""
    hasher = get_hasher("default")
    if hasher.algorithm == PBKDF2PasswordHasher.algorithm:
        return hasher.encode(raw, hasher.salt(), iterations=DEMO_HASH_ITERATIONS)
    return make_password(raw)


def ensure_certification_body() -> CertificationBody:
    """The CB profile; creates the demo CB (华信认证中心有限公司, prefix 0123, CNAS) if missing."""
    body = CertificationBody.objects.order_by("pk").first()
    if body is None:
        body = CertificationBody.objects.create(**CB_PROFILE)
    return body


# --- people -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    username: str
    display_name: str
    role: str  # a STAFF_ROLES key, "superuser" or "client"
    organization: str = ""

    @property
    def password(self) -> str:
        return demo_password(self.username)


STAFF_LOGINS = (
    Login("admin", "系统管理员", "superuser"),
    Login("market", "王丽", roles.MARKET),
    Login("planner", "陈建国", roles.AUDIT_DEPARTMENT),
    Login("auditor1", "李明", roles.AUDITOR),
    Login("auditor2", "张海燕", roles.AUDITOR),
    Login("auditor3", "刘志强", roles.AUDITOR),
    Login("auditor4", "赵敏", roles.AUDITOR),
    Login("decider1", "孙文博", roles.DECISION_MAKER),
    Login("decider2", "周静", roles.DECISION_MAKER),
    Login("reporting", "吴洋", roles.REPORTING_OFFICER),
    Login("techmgr", "郑涛", roles.TECHNICAL_MANAGER),
)

# --- planning (pure) ----------------------------------------------------------------------

# Real six-digit administrative division codes (GB/T 2260) with a matching postcode, phone
# area code and streets of that district.
_DIVISION_TABLE = """
110105 北京市 北京市朝阳区 100020 010 建国路 朝阳北路 望京街 酒仙桥路
110108 北京市 北京市海淀区 100080 010 中关村大街 学院路 知春路
310115 上海市 上海市浦东新区 200120 021 张杨路 世纪大道 金桥路
310104 上海市 上海市徐汇区 200030 021 漕溪北路 肇嘉浜路 宜山路
440106 广州市 广东省广州市天河区 510620 020 天河路 体育西路 黄埔大道西
440305 深圳市 广东省深圳市南山区 518052 0755 南海大道 科技园路 深南大道
330106 杭州市 浙江省杭州市西湖区 310012 0571 文三路 教工路 天目山路
320106 南京市 江苏省南京市鼓楼区 210009 025 中山北路 湖南路 北京西路
320508 苏州市 江苏省苏州市姑苏区 215008 0512 人民路 干将西路 三香路
510107 成都市 四川省成都市武侯区 610041 028 人民南路四段 科华北路 武侯祠大街
420106 武汉市 湖北省武汉市武昌区 430061 027 中南路 武珞路 中北路
610113 西安市 陕西省西安市雁塔区 710061 029 长安南路 小寨东路 科技路
370102 济南市 山东省济南市历下区 250011 0531 泉城路 解放路 经十路
410105 郑州市 河南省郑州市金水区 450003 0371 花园路 农业路 经三路
430104 长沙市 湖南省长沙市岳麓区 410006 0731 麓山南路 枫林一路 金星中路
500103 重庆市 重庆市渝中区 400010 023 民族路 中山三路 民生路
350203 厦门市 福建省厦门市思明区 361001 0592 湖滨南路 厦禾路 中山路
"""


def parse_divisions(table: str) -> tuple[tuple[str, str, str, str, str, tuple[str, ...]], ...]:
    """Rows of ``code city address-prefix postcode area-code street…`` as tuples."""
    rows = (line.split() for line in table.strip().splitlines())
    return tuple(
        (code, city, prefix, post, area, tuple(streets))
        for code, city, prefix, post, area, *streets in rows
    )


DIVISIONS = parse_divisions(_DIVISION_TABLE)

BRANDS = (
    "万家", "汇通", "恒信", "鑫源", "佳美", "华联", "瑞丰", "永盛", "金桥", "宏达", "百川", "安和",
    "嘉禾", "润通", "德润", "瑞祥", "祥和", "星辰", "宝利", "兴业", "天成", "联创", "和信", "康达",
    "广源", "顺达", "立信", "新世纪", "东方", "长城", "博雅", "鼎盛", "惠民",
)  # fmt: skip

# (business scope codes, name part, requested scope)
INDUSTRIES = (
    ((24,), "电器销售", "家用电器的销售及售后服务（送货、安装、维修、退换货）"),
    ((24, 30), "家电连锁", "家用电器及家庭用品的零售及售后服务（配送、安装、维修、以旧换新）"),
    ((21,), "家居", "家具的销售及售后服务（配送、安装、维修）"),
    ((21, 51), "家居建材", "家具、地板及墙纸的销售及售后服务（测量、配送、安装、维修）"),
    ((34,), "电脑科技", "计算机及外围设备的销售及售后服务（安装调试、维修、技术支持）"),
    ((34, 33), "数码办公", "计算机及办公设备的销售及售后服务（安装调试、维修、耗材供应）"),
    ((59,), "汽车销售服务", "汽车的销售及售后服务（维修保养、配件供应、客户关怀）"),
    ((23,), "照明电器", "照明器材的销售及售后服务（配送、安装、维修）"),
    ((50,), "卫浴洁具", "陶瓷卫生洁具及配件的销售及售后服务（配送、安装、维修）"),
    ((47,), "眼镜", "眼镜及光学器材的销售及售后服务（验配、调校、维修）"),
    ((31,), "体育用品", "体育用品及自行车的销售及售后服务（配送、安装、维修）"),
    ((49,), "钟表珠宝", "钟表、珠宝首饰的销售及售后服务（清洗、保养、维修）"),
    ((28, 24), "厨具电器", "厨房电器及厨具的销售及售后服务（配送、安装、维修）"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余"
GIVEN_NAMES = (
    "建国", "志强", "海燕", "丽华", "伟", "敏", "静", "磊", "洋", "勇", "军", "杰", "娟", "涛",
    "明", "超", "秀英", "桂英", "晓东", "文博", "子涵", "雨桐", "浩然", "思远", "建华", "玉兰",
    "国强", "春梅", "立新", "红霞", "宏伟", "晓燕", "俊杰", "慧敏",
)  # fmt: skip

GRADES = ("standard", "three_star", "four_star", "five_star")
HEADCOUNT_BANDS = ((20, 60), (60, 150), (150, 400), (400, 1200), (1200, 3000))


@dataclass(frozen=True)
class SitePlan:
    name: str
    address: str
    division_code: str
    headcount: int
    scope_text: str


@dataclass(frozen=True)
class OrgPlan:
    """One demo organisation and what happens to it (``story``)."""

    key: int
    story: str
    name: str
    uscc: str
    division_code: str
    registered_address: str
    postcode: str
    legal_representative: str
    contact_name: str
    contact_phone: str
    contact_email: str
    headcount: int
    scope_codes: tuple[int, ...]
    scope_text: str
    sites: tuple[SitePlan, ...]  # the head office first
    grade: str = ""
    decided_on: date | None = None  # initial certification decision
    event_on: date | None = None  # the story's status change (suspension, cancellation …)
    client_username: str = ""
    # Which nonconformities the story raises and how far they get (NC_STORIES); "" for none.
    nc_story: str = ""
    dates: dict = field(default_factory=dict, compare=True, hash=False)


# (story, extra sites, decision window) for the organisations with a certificate.
CERTIFIED_STORIES = (
    ("expired", 0, (date(2022, 7, 1), date(2022, 9, 30))),
    ("recertified", 0, (date(2023, 6, 1), date(2023, 6, 30))),
    ("recertified", 0, (date(2023, 9, 1), date(2023, 10, 15))),
    ("withdrawn", 0, (date(2023, 12, 5), date(2024, 5, 31))),
    ("cancelled", 0, (date(2024, 1, 10), date(2024, 8, 31))),
    ("suspended", 1, (date(2024, 3, 1), date(2025, 6, 30))),
    ("suspended", 0, (date(2024, 3, 1), date(2025, 6, 30))),
    ("restored", 0, (date(2024, 1, 10), date(2024, 12, 20))),
    ("valid", 3, (date(2025, 1, 10), date(2025, 6, 30))),
    ("valid", 2, (date(2024, 2, 1), date(2025, 12, 31))),
    *(("valid", 0, (date(2023, 12, 5), date(2026, 9, 30))) for _ in range(10)),
)
# Organisations whose certification is under way, and applicants.
IN_FLIGHT_STORIES = (
    "programme_planned",
    "stage2_in_progress",
    "awaiting_decision",
    "stage2_terminated",
    "refused",
    "contract_draft",
)
APPLICANT_STORIES = (
    "application_draft",
    "application_submitted",
    "application_submitted",
    "application_submitted",
    "application_under_review",
    "application_rejected",
    "application_withdrawn",
)
# Client log-ins (client01 …) for these stories, in this order. The organisation whose stage 2
# is in progress gets the last one (client09): its client answers nonconformities in the portal
# (the scored-audit browser test walks that audit to a grant).
CLIENT_STORIES = (
    "valid",
    "valid",
    "suspended",
    "recertified",
    "withdrawn",
    "cancelled",
    "expired",
    "stage2_in_progress",
)
# The grade requested by the organisations under way (``OrgPlan.grade``; certified ones get a
# random one). The stage 2 awaiting its decision is scored at it; the refused one fails.
IN_FLIGHT_GRADES = {
    "stage2_in_progress": "four_star",
    "awaiting_decision": "three_star",
    "refused": "standard",
}
# Nonconformities (004 §5.10) the stories raise, so the demo has one in every state on audits
# whose decisions stay allowed (004 §5.10.4):
# - open_at_stage2: a minor NC waiting for the client's answer on the stage 2 in progress;
# - plan_at_stage2 / plan_at_surveillance1: a minor NC whose corrective action plan the team
#   accepted, to be verified at the next audit;
# - plan_at_surveillance2: the same at the second surveillance, verified (closed) at the
#   recertification audit;
# - major_closed_at_stage2: a major NC corrected, verified and closed before the grant.
# Besides, a surveillance still awaiting its decision at the demo date gets an answered minor
# NC (the team has not reviewed it yet) and a major NC whose answer the team rejected.
NC_STORIES = (
    "open_at_stage2",
    "plan_at_stage2",
    "plan_at_surveillance1",
    "plan_at_surveillance2",
    "major_closed_at_stage2",
)


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"


def plan_demo(seed: int = DEMO_SEED) -> list[OrgPlan]:
    """Plan the demo organisations and their stories; pure and deterministic for ``seed``."""
    rng = random.Random(seed)
    stories: list[tuple[str, int, tuple[date, date] | None]] = list(CERTIFIED_STORIES)
    stories += [(story, 0, None) for story in IN_FLIGHT_STORIES + APPLICANT_STORIES]
    serials = rng.sample(range(1, 1_000_000), len(stories))
    names: set[str] = set()
    plans = []
    divisions = list(DIVISIONS)
    rng.shuffle(divisions)
    for key, (story, extra_sites, window) in enumerate(stories, start=1):
        code, city, prefix, postcode, area, streets = divisions[key % len(divisions)]
        scope_codes, trade, scope_text = rng.choice(INDUSTRIES)
        while True:
            name = f"{city}{rng.choice(BRANDS)}{trade}有限公司"
            if name not in names:
                names.add(name)
                break
        low, high = rng.choice(HEADCOUNT_BANDS)
        headcount = rng.randint(low, high) if extra_sites == 0 else rng.randint(400, 3000)
        address = f"{prefix}{rng.choice(streets)}{rng.randint(1, 1200)}号"
        short = name.removesuffix("有限公司").removeprefix(city)
        sites = [SitePlan(f"{short}总部", address, code, headcount, "")]
        for n, site_street in enumerate(rng.sample(streets, extra_sites)):
            sites.append(
                SitePlan(
                    f"{short}{site_street}门店",
                    f"{prefix}{site_street}{rng.randint(1, 900)}号{n + 1}层",
                    code,
                    rng.randint(10, 80),
                    scope_text.replace("的销售", "的零售", 1),
                )
            )
        plan = OrgPlan(
            key=key,
            story=story,
            name=name,
            uscc=build_uscc(code, DEMO_USCC_SERIAL_BASE + serials[key - 1]),
            division_code=code,
            registered_address=address,
            postcode=postcode,
            legal_representative=_person(rng),
            contact_name=_person(rng),
            contact_phone=_mobile(rng),
            contact_email=f"service{key:02d}@client{key:02d}.example.cn",
            headcount=headcount,
            scope_codes=scope_codes,
            scope_text=scope_text,
            sites=tuple(sites),
            grade=rng.choice(GRADES) if window else IN_FLIGHT_GRADES.get(story, ""),
            decided_on=_random_date(rng, *window) if window else None,
        )
        plans.append(_plan_story_dates(plan, rng))
    clients = iter(f"client{n:02d}" for n in range(1, 100))
    wanted = list(CLIENT_STORIES)
    result = []
    # The multi-site client gets a log-in first (client01), then one per story in CLIENT_STORIES.
    for plan in sorted(plans, key=lambda p: (len(p.sites) < 4, p.key)):
        username = ""
        if len(plan.sites) == 4 or plan.story in wanted:
            if len(plan.sites) != 4:
                wanted.remove(plan.story)
            username = next(clients)
        result.append(_replace(plan, client_username=username))
    return [_with_nc_story(plan) for plan in sorted(result, key=lambda p: p.key)]


def _with_nc_story(plan: OrgPlan) -> OrgPlan:
    """Give the organisations with a client log-in (and those under way) their NC story."""
    story = ""
    if plan.story == "stage2_in_progress":
        story = "open_at_stage2"
    elif plan.story == "awaiting_decision":
        story = "plan_at_stage2"
    elif plan.client_username and len(plan.sites) == 4:
        story = "plan_at_surveillance1"
    elif plan.client_username and plan.story == "recertified":
        story = "plan_at_surveillance2"
    elif plan.client_username and plan.story == "valid":
        story = "major_closed_at_stage2"
    return _replace(plan, nc_story=story)


def _replace(plan: OrgPlan, **changes) -> OrgPlan:
    from dataclasses import replace

    return replace(plan, **changes)


def _plan_story_dates(plan: OrgPlan, rng: random.Random) -> OrgPlan:
    """Fix the dates of the story's status changes (all ≤ DEMO_LAST_DATE)."""
    d = plan.decided_on
    dates: dict[str, date] = {}
    event_on = None
    if plan.story == "recertified":
        expiry = add_months(d, 36) - timedelta(days=1)
        dates["recert_decision"] = expiry - timedelta(days=rng.randint(25, 60))
    elif plan.story == "withdrawn":
        event_on = _random_date(rng, date(2025, 3, 1), date(2025, 4, 30))  # suspended from
        # withdrawn within 5 working days after the suspension period ended (004 §7.3.1(7))
        dates["withdrawn_on"] = add_months(event_on, 6) + timedelta(days=rng.randint(1, 4))
    elif plan.story == "cancelled":
        event_on = _random_date(rng, date(2026, 1, 5), date(2026, 6, 30))
    elif plan.story == "suspended":
        event_on = _random_date(rng, date(2026, 9, 1), date(2026, 10, 31))
        dates["suspended_until"] = add_months(event_on, rng.randint(3, 6))
    elif plan.story == "restored":
        event_on = _random_date(rng, date(2025, 5, 1), date(2025, 8, 31))
        dates["suspended_until"] = add_months(event_on, 3)
        dates["restored_on"] = event_on + timedelta(days=rng.randint(30, 60))
    elif plan.story == "expired":
        expiry = add_months(d, 36) - timedelta(days=1)
        dates["recert_terminated_on"] = expiry - timedelta(days=rng.randint(90, 120))
    return _replace(plan, event_on=event_on, dates=dates)


# --- score sheets (004 §5.6.5) ---------------------------------------------------------------


@dataclass(frozen=True)
class ScoreProfile:
    """How the team fills a score sheet to land in one grade, through the scoring service.

    ``sampled``: (indicator code, samples, nonconforming samples); ``not_met``: qualitative
    indicators not met (all their points lost); ``deductions``: special deductions
    (``DEDUCTIONS``, in order). Checked against the grade's band with or without the exclusion
    of 2.6 (``EXCLUDED_INDICATOR``): the demo asserts every sheet reaches its target grade.
    """

    sampled: tuple[tuple[str, int, int], ...] = ()
    not_met: tuple[str, ...] = ()
    deductions: int = 0


# Scores without / with 2.6 excluded (out of 95) in the comments; 004 §5.6.5.3 (4) bands.
SCORE_PROFILES: dict[str, tuple[ScoreProfile, ...]] = {
    "five_star": (
        ScoreProfile(sampled=(("3.2", 20, 1), ("2.4", 12, 1))),  # 98.77 / 98.71
        ScoreProfile(sampled=(("3.1", 30, 1), ("1.2", 8, 0))),  # 99.60 / 99.58
        ScoreProfile(sampled=(("2.3", 10, 1), ("3.2", 15, 0))),  # 99.30 / 99.26
    ),
    "four_star": (
        ScoreProfile(sampled=(("3.1", 10, 1),), not_met=("1.7",)),  # 93.80 / 93.47
        ScoreProfile(
            sampled=(("3.2", 10, 1), ("2.3", 8, 2), ("1.2", 6, 1), ("2.2", 5, 1))
        ),  # 94.95 / 94.68
        ScoreProfile(not_met=("1.6",), deductions=1),  # 94.00 / 93.74
    ),
    "three_star": (
        ScoreProfile(sampled=(("3.2", 20, 3), ("2.3", 10, 2)), not_met=("1.5", "1.6")),
        # 85.65 / 84.89
        ScoreProfile(sampled=(("3.1", 10, 2), ("2.4", 10, 2), ("3.2", 10, 2)), not_met=("1.4",)),
        # 86.60 / 85.89
    ),
    "standard": (
        ScoreProfile(
            sampled=(("3.2", 10, 3), ("3.1", 10, 2), ("2.4", 5, 1)),
            not_met=("1.4", "1.5"),
            deductions=1,
        ),  # 78.30 / 77.21
        ScoreProfile(sampled=(("3.2", 12, 2), ("2.3", 6, 2)), not_met=("1.3", "1.7", "2.5")),
        # 78.50 / 77.37
    ),
    # The one failed evaluation (below 70 points): the refused initial certification.
    "fail": (
        ScoreProfile(
            sampled=(("3.2", 10, 5), ("3.1", 10, 4), ("2.4", 10, 3)),
            not_met=("1.4", "1.5", "1.6", "2.5"),
            deductions=2,
        ),  # 60.60
    ),
}

SAMPLE_EVIDENCE = {
    "1.2": ("抽查服务人员培训及上岗资格记录 {n} 份", "{k} 份无上岗培训记录"),
    "2.2": ("抽查技术咨询及使用指导记录 {n} 份", "{k} 份未记录处理结果"),
    "2.3": ("抽查配送安装服务单 {n} 份", "{k} 份超出承诺的送装时限"),
    "2.4": ("抽查维修服务记录 {n} 份", "{k} 份维修时限超出服务承诺"),
    "3.1": ("抽查顾客档案及回访记录 {n} 份", "{k} 份未按规定时限回访"),
    "3.2": ("抽查投诉处理记录 {n} 份", "{k} 份未在承诺时限内妥善解决"),
}
NOT_MET_EVIDENCE = {
    "1.3": "部分服务网点无备件库存，备件调拨平均 7 天，不能满足承诺的维修时限。",
    "1.4": "售后服务规范未形成文件，门店未公示服务承诺。",
    "1.5": "未对服务过程和服务质量开展监督检查，无检查记录。",
    "1.6": "未对投诉和回访中发现的问题进行原因分析，也未采取改进措施。",
    "1.7": "未开展服务文化建设活动，抽问的 5 名员工均不了解企业的服务理念。",
    "2.5": "退换货规则与三包规定不一致，2 起退货申请未按规定处理。",
}
# (category, what was found, correction required); 004 §5.6.5.2 c)
DEDUCTIONS = (
    (
        "own_rules",
        "门店公示“24 小时内上门”的服务承诺，抽查的 3 起报修均超过 48 小时才上门。",
        "按企业服务制度兑现上门时限承诺，30 日内提交整改记录。",
    ),
    (
        "law",
        "部分进口商品未按《产品质量法》要求附中文使用说明。",
        "立即补齐中文使用说明并对在售商品全面自查。",
    ),
)
# 004 §5.6.5.2 e): only where the nature of the goods makes the indicator inapplicable.
EXCLUDED_INDICATOR = "2.6"
# Scope categories (eyewear; watches and jewellery) whose goods are repaired and kept, never
# taken back as waste: their sheets exclude 2.6 废弃商品回收.
EXCLUDING_SCOPE_CODES = frozenset({47, 49})
EXCLUSION_JUSTIFICATION = (
    "经营的眼镜、钟表及珠宝首饰以验配、清洗和维修保养为主，"
    "商品性质不涉及废弃商品回收（004 §5.6.5.2 e）。"
)
BONUS_JUSTIFICATION = (
    "建立覆盖全部门店的 24 小时服务热线和维修进度在线查询系统，首次修复率 98%，显著高于行业水平。"
)


# (clause, finding, objective evidence) of the demo's nonconformities (004 §5.6.3, §5.10).
NC_FINDINGS = {
    "minor": (
        "GB/T 27922 5.2.3",
        "部分门店未按规定对售后服务人员进行岗前培训。",
        "抽查 2 家门店 6 名服务人员，其中 2 人无岗前培训记录。",
    ),
    "major": (
        "GB/T 27922 5.4.2",
        "顾客投诉处理程序未得到实施，多起投诉超期未处理。",
        "抽查近 3 个月投诉记录 20 份，7 份超过承诺的 48 小时处理时限，且无升级处理记录。",
    ),
}
NC_ANSWER = (
    "服务管理制度未明确培训和时限考核要求，门店负责人对制度理解不一致。",
    "已对相关人员补充培训，逐一回访涉及的顾客并处理完毕。",
    "修订《售后服务管理制度》，增加岗前培训考核和投诉超时预警，每月由服务部抽查",
)
# The evidence file the demo's clients attach to an answer (a one-page PDF).
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def sample_evidence(code: str, samples: int, nonconforming: int) -> str:
    checked, failed = SAMPLE_EVIDENCE[code]
    text = checked.format(n=samples)
    if nonconforming:
        return f"{text}，其中{failed.format(k=nonconforming)}。"
    return f"{text}，均符合要求。"
