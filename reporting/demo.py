"""Demo data for ``manage.py seed_demo``: a small, realistic CB with every lifecycle state.

Two halves:

- ``plan_demo()`` is pure (no database): from ``random.Random(DEMO_SEED)`` it plans ~30 client
  organisations (names, USCCs built with ``build_uscc`` from real administrative division codes,
  addresses, people, headcounts, business scopes, sites) and the story each one goes through.
  Same seed, same plan: tests compare two plans instead of seeding twice.
- ``build_demo()`` creates the CB profile, the staff and client users and the organisations, then
  plays every story through the real services (applications → audits → certificates), never
  touching a state field. The stories are generators that yield the date of their next step; a
  small scheduler runs all steps in date order, so certificate sequences follow issue dates.

Scored audits (issue 4): every stage 2, surveillance and recertification audit that completes
gets a score sheet filled through ``audits.score_sheets`` and signed off by its team leader,
landing in a planned grade (``SCORE_PROFILES``; the certificate is granted at the sheet's
grade). One stage 2 fails its evaluation and is refused. Surveillances are maintained by the
team leader's conclusion or a decision maker. Nonconformities are raised, answered and
reviewed through ``audits.nonconformities`` so that one is in each state (``NC_STORIES``),
and the audit reports of decided audits with NCs are signed and delivered to the clients.
The stage 2 in progress (team leader ``auditor1``, client ``client09``) has an open NC and no
score sheet: the browser test of issue 4 takes it to a grant.

Every date passed to a service is a fixed past date no later than ``DEMO_LAST_DATE``
(2026-11-15), because the services refuse future decision and signature dates.

Log-ins: every demo user's password is ``demo-<username>-2026`` (``demo_password``).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count

from applications import services as app_services
from applications.models import Application, ApplicationReview, Organization, Site
from applications.validators import build_uscc
from audits import rules
from audits import services as audit_reports
from audits import services as audit_services
from audits import services as nc_services
from audits import services as score_sheets
from audits.models import (
    Audit,
    Auditor,
    AuditProgramme,
    AuditReport,
    Indicator,
    Nonconformity,
    ScoreSheet,
)
from certbody import roles
from certbody.dates import add_months
from certbody.lifecycle import system_user
from certbody.models import BusinessScope, CertificationBody, User
from certificates import causes
from certificates import services as cert_services
from certificates.models import Certificate, CertificateEvent, Decision
from reporting.models import ReportRun

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
# (the browser test of issue 4 walks that audit to a grant).
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


# --- score sheets (issue 4; 004 §5.6.5) ---------------------------------------------------


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


def _sample_evidence(code: str, samples: int, nonconforming: int) -> str:
    checked, failed = SAMPLE_EVIDENCE[code]
    text = checked.format(n=samples)
    if nonconforming:
        return f"{text}，其中{failed.format(k=nonconforming)}。"
    return f"{text}，均符合要求。"


# --- building (database) ------------------------------------------------------------------


@dataclass
class Staff:
    market: User
    planner: User
    technical_manager: User
    auditors: list[User]
    deciders: list[User]
    system: User


@dataclass
class DemoResult:
    created: bool
    logins: list[Login]
    counts: dict[str, dict[str, int]]


def demo_exists() -> bool:
    """Whether the demo was seeded: its first organisation's USCC is in the database."""
    return Organization.objects.filter(uscc=plan_demo()[0].uscc).exists()


def demo_logins(plans: list[OrgPlan] | None = None) -> list[Login]:
    """Every demo log-in: the staff, then the client users."""
    plans = plans if plans is not None else plan_demo()
    clients = sorted(
        (
            Login(p.client_username, p.contact_name, "client", p.name)
            for p in plans
            if p.client_username
        ),
        key=lambda login: login.username,
    )
    return [*STAFF_LOGINS, *clients]


def build_demo(*, log: Callable[[str], None] = lambda message: None) -> DemoResult:
    """Seed the demo unless it exists; returns the log-ins and the counts per state.

    Runs in one transaction: a failure leaves no partial demo behind (PDF files already written
    to MEDIA_ROOT stay; they are not referenced by any row).
    """
    plans = plan_demo()
    if demo_exists():
        return DemoResult(created=False, logins=demo_logins(plans), counts=demo_counts())
    with transaction.atomic():
        ensure_certification_body()
        staff = _create_staff(log)
        organizations = {plan.key: _create_organization(plan) for plan in plans}
        _create_clients(plans, organizations)
        log(f"{len(plans)} organisations, {len(STAFF_LOGINS)} staff log-ins created")
        _run_stories(plans, organizations, staff, log)
        _showcase(staff, log)
        _generate_reports(staff, log)
    return DemoResult(created=True, logins=demo_logins(plans), counts=demo_counts())


def _create_staff(log) -> Staff:
    users = {}
    for login in STAFF_LOGINS:
        user = User.objects.filter(username=login.username).first()
        if user is None:
            user = User(username=login.username, display_name=login.display_name, is_staff=True)
            user.is_superuser = login.role == "superuser"
            user.password = hash_demo_password(login.password)
            user.save()
        if login.role in roles.STAFF_ROLES:
            user.groups.add(Group.objects.get(name=login.role))
        users[login.username] = user
    register_auditors(
        [users[f"auditor{n}"] for n in range(1, 5)], actor=users["planner"], first_number=10231
    )
    # Decision makers are full-time registered certification staff (004 §5.12.1, §12.1.3).
    for n, name in enumerate(("decider1", "decider2")):
        if not Auditor.objects.filter(user=users[name]).exists():
            audit_services.auditor_register(
                user=users[name],
                actor=users["planner"],
                qualification=Auditor.Qualification.SENIOR_AUDITOR,
                is_full_time=True,
                registration_number=f"2016-FW-{10101 + n:05d}",
            )
    return Staff(
        market=users["market"],
        planner=users["planner"],
        technical_manager=users["techmgr"],
        auditors=[users[f"auditor{n}"] for n in range(1, 5)],
        deciders=[users["decider1"], users["decider2"]],
        system=system_user(),
    )


# Every business scope category the demo's (and generate_data's) clients are in.
AUDITOR_SCOPE_CODES = tuple(sorted({code for codes, _, _ in INDUSTRIES for code in codes}))
AUDITOR_COMPETENT_SINCE = date(2019, 6, 1)


def register_auditors(users: list[User], *, actor: User, first_number: int) -> None:
    """Auditor profiles (full-time, registered, the first one senior) competent for every
    business scope category in ``AUDITOR_SCOPE_CODES``, through the audits services."""
    for n, user in enumerate(users):
        if Auditor.objects.filter(user=user).exists():
            continue
        auditor = audit_services.auditor_register(
            user=user,
            actor=actor,
            qualification=Auditor.Qualification.SENIOR_AUDITOR
            if n == 0
            else Auditor.Qualification.AUDITOR,
            is_full_time=True,
            registration_number=f"2019-FW-{first_number + n:05d}",
        )
        for code in AUDITOR_SCOPE_CODES:
            audit_services.auditor_competence_grant(
                auditor=auditor,
                actor=actor,
                scope_code=code,
                evidence="售后服务认证审查员专业能力评价记录（见证审核及培训考核）",
                granted_on=AUDITOR_COMPETENT_SINCE,
            )


def _create_organization(plan: OrgPlan) -> Organization:
    organization = Organization(
        name=plan.name,
        uscc=plan.uscc,
        registered_address=plan.registered_address,
        postcode=plan.postcode,
        division_code=plan.division_code,
        industry="批发和零售业",
        legal_representative=plan.legal_representative,
        contact_name=plan.contact_name,
        contact_phone=plan.contact_phone,
        contact_email=plan.contact_email,
        headcount=plan.headcount,
    )
    organization.full_clean()
    organization.save()
    organization.business_scopes.set(BusinessScope.objects.filter(code__in=plan.scope_codes))
    for n, site in enumerate(plan.sites):
        Site.objects.create(
            organization=organization,
            name=site.name,
            address=site.address,
            division_code=site.division_code,
            headcount=site.headcount,
            is_head_office=n == 0,
            scope_text=site.scope_text,
        )
    return organization


def _create_clients(plans: list[OrgPlan], organizations: dict[int, Organization]) -> None:
    for plan in plans:
        if not plan.client_username or User.objects.filter(username=plan.client_username).exists():
            continue
        user = User(
            username=plan.client_username,
            display_name=plan.contact_name,
            phone=plan.contact_phone,
            email=plan.contact_email,
            organization=organizations[plan.key],
            is_staff=False,
        )
        user.password = hash_demo_password(demo_password(plan.client_username))
        user.save()


# --- stories ------------------------------------------------------------------------------

Story = Generator[date, None, object]


class _Director:
    """Shared helpers of the stories: who does what, and the common service sequences."""

    def __init__(self, staff: Staff, plan: OrgPlan, organization: Organization):
        self.staff = staff
        self.plan = plan
        self.organization = organization
        # Per-organisation randomness, derived from the fixed demo seed.
        self.rng = random.Random(DEMO_SEED * 1000 + plan.key)
        self.team_index = plan.key

    # people
    def team(self) -> tuple[User, User]:
        auditors = self.staff.auditors
        self.team_index += 1
        return (
            auditors[self.team_index % len(auditors)],
            auditors[(self.team_index + 1) % len(auditors)],
        )

    def decider(self) -> User:
        return self.staff.deciders[self.plan.key % len(self.staff.deciders)]

    # applications
    def application(self, *, kind=Application.Kind.INITIAL, until="accepted") -> Application:
        market = self.staff.market
        application = app_services.application_create(
            organization=self.organization,
            actor=market,
            scope_text=self.plan.scope_text,
            headcount=self.plan.headcount,
            business_scope_codes=self.plan.scope_codes,
            kind=kind,
            requested_grade=self.plan.grade or "standard",
            outsourced_processes="大件商品的配送委托第三方物流公司实施"
            if self.plan.key % 3 == 0
            else "",
        )
        if until == "draft":
            return application
        app_services.application_submit(application=application, actor=market)
        if until == "submitted":
            return application
        app_services.application_start_review(application=application, actor=market)
        if until == "under_review":
            app_services.application_review_record(
                application=application,
                actor=market,
                checks={**dict.fromkeys(ApplicationReview.CHECKS, True), "sites_considered": False},
                notes="待申请组织补充各服务网点清单及人数后再评审多场所抽样。",
            )
            return application
        if until == "rejected":
            app_services.application_reject(
                application=application,
                actor=market,
                reason="申请组织售后服务体系运行不足 3 个月，不满足申请条件（004 §5.1.2）。",
            )
            return application
        app_services.application_review_record(
            application=application,
            actor=market,
            checks=dict.fromkeys(ApplicationReview.CHECKS, True),
            notes="资料齐全，法律地位已核实，认证范围明确。",
        )
        app_services.application_accept(application=application, actor=market)
        return application

    def contract(self, application: Application, *, signed_on: date | None):
        contract = app_services.contract_create(
            application=application,
            actor=self.staff.market,
            fee=self.rng.choice([18000, 22000, 26000, 32000, 45000]),
            terms="按 ZXRZ 售后服务认证规则及认证合同通用条款执行。",
        )
        if signed_on is not None:
            app_services.contract_sign(
                contract=contract,
                actor=self.staff.market,
                signed_on=signed_on,
                signed_by_client=self.plan.legal_representative,
            )
        return contract

    # audits
    def staff_audit(
        self,
        audit: Audit,
        *,
        start: date,
        end: date,
        with_member: bool,
        leader: User | None = None,
    ) -> None:
        team_leader, member = self.team()
        if leader is not None and leader != team_leader:
            team_leader, member = leader, team_leader
        planner = self.staff.planner
        audit_services.audit_schedule(
            audit=audit,
            actor=planner,
            planned_start=start,
            planned_end=end,
            planned_days=audit.planned_days or rules.table_days(self.plan.headcount),
        )
        audit_services.audit_team_add(audit=audit, actor=planner, user=team_leader, role="leader")
        if with_member:
            audit_services.audit_team_add(audit=audit, actor=planner, user=member, role="auditor")
        if audit.needs_site_visit:
            self.plan_audit(audit, start=start)

    def plan_audit(self, audit: Audit, *, start: date) -> None:
        """The written plan of an on-site audit: sent a week before, confirmed by the client
        the next day and reported to CNCA 5 days before (004 §5.4.6.3, §9.2); an audit too
        far ahead for that within the demo's dates keeps a draft plan."""
        planner = self.staff.planner
        plan = audit_services.audit_plan_prepare(
            audit=audit,
            actor=planner,
            objectives="评价售后服务体系与 GB/T 27922 的符合性和有效性，确定星级",
            criteria="GB/T 27922-2011《商品售后服务评价体系》；ZXRZ 售后服务认证规则",
            scope_text=self.plan.scope_text,
            shifts_covered="白班（9:00–18:00）",
            sites=list(audit.organization.sites.all()),
            schedule=f"{start:%m-%d} 09:00 首次会议；末日 16:00 末次会议",
        )
        reported_on = start - timedelta(days=5)
        if reported_on > DEMO_LAST_DATE:
            return
        audit_services.audit_plan_send(plan=plan, actor=planner, sent_on=start - timedelta(days=7))
        audit_services.audit_plan_confirm(
            plan=plan,
            actor=planner,
            confirmed_on=start - timedelta(days=6),
            confirmed_by=self.plan.contact_name,
        )
        audit_services.audit_plan_report_cnca(plan=plan, actor=planner, reported_on=reported_on)

    def leader_of(self, audit: Audit) -> User:
        return audit.team.get(role="leader").user

    def meeting(self, audit: Audit, kind: str, *, on: date) -> None:
        """The team leader records an on-site audit's opening or closing meeting, attended by
        the client's top manager and service manager (004 §5.5.2)."""
        if not audit.needs_site_visit:
            return
        audit_services.audit_meeting_record(
            audit=audit,
            actor=self.leader_of(audit),
            kind=kind,
            held_on=on,
            attendees=[
                {
                    "name": self.plan.legal_representative,
                    "role": "最高管理者",
                    "position": "总经理",
                },
                {"name": self.plan.contact_name, "role": "售后服务负责人", "position": "联系人"},
            ],
            top_manager_present=True,
            check_in_confirmed=True,
        )

    def run_audit(self, audit, *, start, end, positive=True, findings="") -> Audit:
        """Start and complete ``audit`` (team already assigned), with its meetings."""
        audit_services.audit_start(audit=audit, actor=self.staff.planner, started_on=start)
        audit.refresh_from_db()
        self.meeting(audit, "opening", on=start)
        self.verify_plans(audit, on=start)
        self.meeting(audit, "closing", on=end)
        audit_services.audit_complete(
            audit=audit,
            actor=self.leader_of(audit),
            ended_on=end,
            findings=findings or "未发现严重不符合项；轻微不符合项已在规定期限内完成纠正。",
            recommendation_positive=positive,
        )
        audit.refresh_from_db()
        return audit

    def decide(
        self, audit: Audit, *, outcome: str, on: date, reasons: str = "", grade: str = ""
    ) -> Decision:
        """A decision maker's decision, on the team leader's report signed that day (004
        §5.12.1); a grant names the grade its score sheet reached."""
        self.sign_report(audit, on=on)
        return cert_services.decision_make(
            audit=audit,
            actor=self.decider(),
            outcome=outcome,
            decided_on=on,
            star_grade=grade if outcome == Decision.Outcome.GRANT else "",
            reasons=reasons,
        )

    def terminate_planned(self, programme: AuditProgramme, reason: str) -> None:
        for audit in programme.audits.filter(state=Audit.State.PLANNED).order_by("pk"):
            audit_services.audit_terminate(audit=audit, actor=self.staff.planner, reason=reason)

    # score sheets (004 §5.6.5)
    def score(
        self, audit: Audit, *, grade: str, on: date, variant: int, bonus: bool = False
    ) -> ScoreSheet:
        """The team fills the audit's score sheet to land in ``grade`` and the leader signs
        it off on ``on``; the item results come from ``SCORE_PROFILES[grade]``."""
        leader = self.leader_of(audit)
        profiles = SCORE_PROFILES[grade]
        profile = profiles[variant % len(profiles)]
        sheet = score_sheets.score_sheet_open(audit=audit, actor=leader)
        items = {item.indicator.code: item for item in sheet.items.select_related("indicator")}
        for code, samples, nonconforming in profile.sampled:
            score_sheets.score_item_update(
                item=items[code],
                actor=leader,
                samples=samples,
                nonconforming=nonconforming,
                evidence=_sample_evidence(code, samples, nonconforming),
            )
        for code in profile.not_met:
            score_sheets.score_item_update(
                item=items[code], actor=leader, met=False, evidence=NOT_MET_EVIDENCE[code]
            )
        if EXCLUDING_SCOPE_CODES.intersection(self.plan.scope_codes):
            score_sheets.score_item_update(
                item=items[EXCLUDED_INDICATOR],
                actor=leader,
                excluded=True,
                exclusion_justification=EXCLUSION_JUSTIFICATION,
            )
        # Every other indicator is assessed too: met, or sampled with all samples conforming
        # (a sheet is signed off only when complete, 004 §5.6.5.2).
        for item in sheet.items.select_related("indicator").filter(assessed=False):
            sampled = item.indicator.method == Indicator.Method.SAMPLED
            samples = 10 if sampled else 0
            score_sheets.score_item_update(
                item=item,
                actor=leader,
                met=True,
                samples=samples,
                evidence=_sample_evidence(item.indicator.code, samples, 0)
                if item.indicator.code in SAMPLE_EVIDENCE
                else "",
            )
        for category, description, correction in DEDUCTIONS[: profile.deductions]:
            score_sheets.special_deduction_add(
                sheet=sheet,
                actor=leader,
                category=category,
                description=description,
                correction_required=correction,
            )
        if bonus:
            score_sheets.special_bonus_set(
                sheet=sheet, actor=leader, granted=True, justification=BONUS_JUSTIFICATION
            )
        sheet = score_sheets.score_sheet_submit(sheet=sheet, actor=leader, submitted_on=on)
        if sheet.grade != grade:
            raise AssertionError(f"{audit}: score {sheet.score} is {sheet.grade}, not {grade}")
        return sheet

    def current_certificate(self) -> Certificate:
        """The organisation's head certificate of the current cycle."""
        return (
            Certificate.objects.filter(organization=self.organization, head__isnull=True)
            .exclude(status=Certificate.Status.SUPERSEDED)
            .order_by("-issued_on", "-pk")
            .first()
        )

    # nonconformities (004 §5.10)
    def raise_nc(self, audit: Audit, *, severity: str, on: date, finding: tuple) -> Nonconformity:
        clause, description, evidence = finding
        return nc_services.nonconformity_raise(
            audit=audit,
            actor=self.leader_of(audit),
            severity=severity,
            clause=clause,
            description=description,
            evidence=evidence,
            raised_on=on,
        )

    def answer_nc(self, nc: Nonconformity, *, on: date, is_plan: bool, attach=False):
        """The client answers (its log-in when it has one, else the audit department enters
        the answer on its behalf, which the history records)."""
        actor = (
            User.objects.get(username=self.plan.client_username)
            if self.plan.client_username
            else self.staff.planner
        )
        cause, correction, action = NC_ANSWER
        files = [SimpleUploadedFile("整改记录.pdf", EVIDENCE_PDF)] if attach else []
        return nc_services.nonconformity_answer(
            nonconformity=nc,
            actor=actor,
            cause_analysis=cause,
            correction=correction,
            corrective_action=action + ("（计划于下次审核前完成）" if is_plan else ""),
            is_plan=is_plan,
            attachments=files,
            submitted_on=on,
        )

    def review_nc(self, nc: Nonconformity, *, on: date, accepted: bool, note: str):
        return nc_services.nonconformity_review_pending(
            nonconformity=nc,
            actor=self.leader_of(nc.audit),
            accepted=accepted,
            note=note,
            reviewed_on=on,
        )

    def minor_with_plan(self, audit: Audit, *, on: date) -> Story:
        """A minor NC from ``on``; the client sends a plan, the team accepts it (2 days)."""
        nc = self.raise_nc(audit, severity="minor", on=on, finding=NC_FINDINGS["minor"])
        yield on + timedelta(days=1)
        self.answer_nc(nc, on=on + timedelta(days=1), is_plan=True)
        yield on + timedelta(days=2)
        self.review_nc(
            nc,
            on=on + timedelta(days=2),
            accepted=True,
            note="纠正措施计划可行，下次审核时验证实施效果。",
        )

    def verify_plans(self, audit: Audit, *, on: date) -> None:
        """At each audit the team verifies the plans accepted at earlier ones (004 §5.10.2)."""
        if audit.kind == Audit.Kind.DOCUMENT_REVIEW:
            return
        accepted = Nonconformity.objects.filter(
            audit__programme__organization=self.organization,
            state=Nonconformity.State.PLAN_ACCEPTED,
        ).exclude(audit=audit)
        for nc in accepted.order_by("pk"):
            nc_services.nonconformity_verify_plan(
                nonconformity=nc,
                actor=self.leader_of(audit),
                audit=audit,
                effective=True,
                note="抽查整改后的回访记录，纠正措施已实施并有效。",
                verified_on=on,
            )

    def pending_findings(self, audit: Audit, *, on: date) -> Story:
        """A surveillance left awaiting its decision: the client answered a minor NC (not yet
        reviewed) and a major one whose answer the team rejected."""
        minor = self.raise_nc(audit, severity="minor", on=on, finding=NC_FINDINGS["minor"])
        major = self.raise_nc(audit, severity="major", on=on, finding=NC_FINDINGS["major"])
        yield on + timedelta(days=2)
        self.answer_nc(minor, on=on + timedelta(days=2), is_plan=False, attach=True)
        self.answer_nc(major, on=on + timedelta(days=2), is_plan=False)
        yield on + timedelta(days=4)
        self.review_nc(
            major,
            on=on + timedelta(days=4),
            accepted=False,
            note="原因分析停留在个人责任层面，未分析投诉处理程序本身的缺陷；"
            "请补充程序修订及培训记录后重新答复。",
        )

    def sign_report(self, audit: Audit, *, on: date) -> AuditReport:
        """The leader's signed audit report, signed on ``on`` unless there is one already."""
        report = audit.reports.filter(kind=AuditReport.Kind.REPORT).order_by("-version").first()
        return report or audit_reports.audit_report_generate(
            audit=audit, actor=self.leader_of(audit), signed_on=on
        )

    def report(self, audit: Audit, *, on: date) -> Story:
        """The audit report signed by the leader for the decision (on the decision day at the
        latest) is delivered 3 days after it."""
        report = self.sign_report(audit, on=on)
        delivered_on = min(on + timedelta(days=3), DEMO_LAST_DATE)
        yield delivered_on
        audit_reports.audit_report_deliver(
            report=report,
            actor=self.staff.planner,
            delivered_on=delivered_on,
            evidence=f"快递签收单（{self.plan.contact_name}签收）",
        )

    # sequences of steps
    def opening(self, *, decided_on: date) -> Story:
        """Application → contract → programme → document review; returns the programme."""
        start = decided_on - timedelta(days=self.rng.randint(70, 95))
        yield start
        application = self.application()
        yield start + timedelta(days=4)
        self.contract(application, signed_on=start + timedelta(days=4))
        programme = audit_services.programme_create(
            application=application, actor=self.staff.planner
        )
        review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
        review_on = start + timedelta(days=self.rng.randint(12, 20))
        yield review_on
        self.staff_audit(review, start=review_on, end=review_on, with_member=False)
        self.run_audit(review, start=review_on, end=review_on, findings="文件审核通过。")
        audit_services.audit_close(audit=review, actor=self.staff.planner)
        return programme

    def stage2(self, programme: AuditProgramme, *, start: date, grade: str) -> Story:
        """Stage 2 on site from ``start``, scored at ``grade``; returns the completed audit."""
        stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
        days = 1 if self.plan.headcount < 150 else 2
        yield start - timedelta(days=10)
        self.staff_audit(stage2, start=start, end=start + timedelta(days=days), with_member=True)
        yield start
        end = start + timedelta(days=days)
        findings = (
            "未建立顾客投诉处理程序，服务网点未实施服务承诺，售后服务体系未有效运行；"
            "服务测评评价不合格。"
            if grade == "fail"
            else ""
        )
        stage2 = self.run_audit(
            stage2, start=start, end=end, positive=grade != "fail", findings=findings
        )
        self.score(stage2, grade=grade, on=end, variant=self.plan.key)
        if self.plan.nc_story == "plan_at_stage2":
            yield from self.minor_with_plan(stage2, on=end)
        elif self.plan.nc_story == "major_closed_at_stage2":
            nc = self.raise_nc(stage2, severity="major", on=end, finding=NC_FINDINGS["major"])
            yield end + timedelta(days=5)
            self.answer_nc(nc, on=end + timedelta(days=5), is_plan=False, attach=True)
            yield end + timedelta(days=9)
            self.review_nc(
                nc,
                on=end + timedelta(days=9),
                accepted=True,
                note="现场验证：投诉处理程序已修订并培训，抽查新受理的投诉均按时限处理。",
            )
        return stage2

    def initial_certificate(self) -> Story:
        """The whole initial certification; returns the head certificate."""
        decided_on = self.plan.decided_on
        programme = yield from self.opening(decided_on=decided_on)
        stage2_start = decided_on - timedelta(days=self.rng.randint(18, 30))
        stage2 = yield from self.stage2(programme, start=stage2_start, grade=self.plan.grade)
        yield decided_on
        decision = self.decide(
            stage2, outcome=Decision.Outcome.GRANT, on=decided_on, grade=self.plan.grade
        )
        if self.plan.client_username and stage2.nonconformities.exists():
            yield from self.report(stage2, on=decided_on)
        return decision.certificates.get(head__isnull=True)

    def surveillances(self, programme: AuditProgramme, *, stop_on: date) -> Story:
        """Run the cycle's surveillance audits that start and are decided before ``stop_on``.

        Each is scored at the certificate's grade and maintained by the team leader's
        conclusion (odd organisation keys, 004 §5.12.6) or a decision maker. When ``stop_on``
        is the demo's last date, an audit already started is left in progress or completed
        (awaiting its decision); the next one due soon is scheduled.
        """
        live = stop_on >= DEMO_LAST_DATE
        audits = programme.audits.filter(kind=Audit.Kind.SURVEILLANCE, state=Audit.State.PLANNED)
        for audit in audits.order_by("sequence"):
            start = audit.due_on - timedelta(days=self.rng.randint(20, 45))
            end = start + timedelta(days=1)
            decide_on = end + timedelta(days=self.rng.randint(4, 12))
            staffed = audit.team.exists()
            if decide_on >= stop_on and not (live and start <= DEMO_LAST_DATE):
                if live and not staffed and start <= DEMO_LAST_DATE + timedelta(days=75):
                    yield min(DEMO_LAST_DATE, start - timedelta(days=20))
                    self.staff_audit(audit, start=start, end=end, with_member=False)
                return
            if not staffed:
                yield start - timedelta(days=15)
                self.staff_audit(audit, start=start, end=end, with_member=False)
            yield start
            audit_services.audit_start(audit=audit, actor=self.staff.planner, started_on=start)
            audit.refresh_from_db()
            self.meeting(audit, "opening", on=start)
            self.verify_plans(audit, on=start)
            if end > DEMO_LAST_DATE:
                return
            yield end
            self.meeting(audit, "closing", on=end)
            audit_services.audit_complete(
                audit=audit,
                actor=self.leader_of(audit),
                ended_on=end,
                findings="体系持续有效运行，顾客满意度测评结果良好。",
                recommendation_positive=True,
            )
            audit.refresh_from_db()
            self.score(
                audit,
                grade=self.current_certificate().star_grade,
                on=end,
                variant=self.plan.key + audit.sequence,
            )
            if self.plan.nc_story == f"plan_at_surveillance{audit.sequence}":
                yield from self.minor_with_plan(audit, on=end)
            if decide_on > DEMO_LAST_DATE:
                if end + timedelta(days=4) <= DEMO_LAST_DATE:
                    yield from self.pending_findings(audit, on=end)
                return
            yield decide_on
            self.maintain(audit, on=decide_on)
            if self.plan.client_username and audit.nonconformities.exists():
                yield from self.report(audit, on=decide_on)

    def maintain(self, audit: Audit, *, on: date) -> None:
        """Maintain the certificate after a surveillance: the team leader's positive
        conclusion when 004 §5.12.6 allows it (odd keys), else a decision maker."""
        audit.refresh_from_db()
        if self.plan.key % 2:
            certificate = self.current_certificate()
            sheet = ScoreSheet.objects.get(audit=audit)
            if not cert_services.surveillance_conclusion_failures(
                audit, certificate=certificate, sheet=sheet
            ):
                cert_services.surveillance_conclude(
                    audit=audit,
                    actor=self.leader_of(audit),
                    concluded_on=on,
                    positive=True,
                    note="监督审核未发现严重不符合项，服务测评保持证书星级，"
                    "审核组长结论保持认证（004 §5.12.6）。",
                )
                return
        self.decide(audit, outcome=Decision.Outcome.MAINTAIN, on=on)


def _story(director: _Director) -> Story:
    """Play the plan's story through the services, yielding the date of each next step."""
    plan, staff = director.plan, director.staff
    story = plan.story

    # Applicants
    if story in (
        "application_draft",
        "application_submitted",
        "application_under_review",
        "application_rejected",
    ):
        yield DEMO_LAST_DATE - timedelta(days=director.rng.randint(1, 20))
        director.application(until=story.removeprefix("application_"))
        return
    if story == "application_withdrawn":
        yield DEMO_LAST_DATE - timedelta(days=director.rng.randint(20, 40))
        application = director.application(until="submitted")
        app_services.application_withdraw(application=application, actor=staff.market)
        return
    if story == "contract_draft":
        yield DEMO_LAST_DATE - timedelta(days=6)
        director.contract(director.application(), signed_on=None)
        return

    # Certification under way
    if story == "programme_planned":
        yield date(2026, 10, 26)
        application = director.application()
        yield date(2026, 10, 30)
        director.contract(application, signed_on=date(2026, 10, 30))
        programme = audit_services.programme_create(application=application, actor=staff.planner)
        review = programme.audits.get(kind=Audit.Kind.DOCUMENT_REVIEW)
        director.staff_audit(
            review, start=date(2026, 11, 24), end=date(2026, 11, 24), with_member=False
        )
        return
    if story in ("stage2_in_progress", "awaiting_decision", "stage2_terminated", "refused"):
        target = {
            "stage2_in_progress": date(2026, 11, 12),
            "awaiting_decision": date(2026, 11, 4),
            "stage2_terminated": date(2026, 9, 14),
            "refused": date(2026, 7, 6),
        }[story]
        programme = yield from director.opening(decided_on=target + timedelta(days=10))
        stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
        if story == "stage2_terminated":
            yield target - timedelta(days=10)
            director.staff_audit(
                stage2, start=target, end=target + timedelta(days=1), with_member=True
            )
            yield target - timedelta(days=3)
            audit_services.audit_terminate(
                audit=stage2,
                actor=staff.planner,
                reason="受审核方经营场所整体搬迁，申请终止本次现场审核，待搬迁完成后重新申请。",
            )
            return
        if story == "stage2_in_progress":
            # Led by auditor1, no score sheet yet: the browser test of issue 4 scores it.
            yield target - timedelta(days=10)
            director.staff_audit(
                stage2,
                start=target,
                end=target + timedelta(days=3),
                with_member=True,
                leader=staff.auditors[0],
            )
            yield target
            audit_services.audit_start(audit=stage2, actor=staff.planner, started_on=target)
            director.meeting(stage2, "opening", on=target)
            yield target + timedelta(days=1)
            director.raise_nc(
                stage2,
                severity="minor",
                on=target + timedelta(days=1),
                finding=NC_FINDINGS["minor"],
            )
            return
        grade = "fail" if story == "refused" else plan.grade
        stage2 = yield from director.stage2(programme, start=target, grade=grade)
        if story == "refused":
            yield target + timedelta(days=30)
            sheet = ScoreSheet.objects.get(audit=stage2)
            director.decide(
                stage2,
                outcome=Decision.Outcome.REFUSE,
                on=target + timedelta(days=30),
                reasons=f"二阶段审核服务测评得分 {sheet.score} 分，低于 70 分，评价不合格"
                "（004 §5.6.5.3；001 §6.5）；未建立顾客投诉处理程序，服务网点未实施服务承诺，"
                "售后服务体系未有效运行。不予认证。",
            )
        return

    # Certified organisations
    certificate = yield from director.initial_certificate()
    programme = certificate.programme
    if story == "valid":
        yield from director.surveillances(programme, stop_on=DEMO_LAST_DATE)
        if plan.key % 7 == 0:
            yield DEMO_LAST_DATE - timedelta(days=3)
            director.application(kind=Application.Kind.CHANGE, until="draft")
        return
    if story == "recertified":
        recert_on = plan.dates["recert_decision"]
        start = recert_on - timedelta(days=director.rng.randint(75, 90))
        yield from director.surveillances(programme, stop_on=start)
        yield start
        application = director.application(kind=Application.Kind.RECERTIFICATION)
        yield start + timedelta(days=5)
        director.contract(application, signed_on=start + timedelta(days=5))
        new_programme = audit_services.programme_create(
            application=application, actor=staff.planner
        )
        audit = new_programme.audits.get(kind=Audit.Kind.RECERTIFICATION)
        audit_start = recert_on - timedelta(days=director.rng.randint(20, 30))
        yield audit_start - timedelta(days=10)
        director.staff_audit(
            audit, start=audit_start, end=audit_start + timedelta(days=1), with_member=True
        )
        yield audit_start
        audit_end = audit_start + timedelta(days=1)
        director.run_audit(audit, start=audit_start, end=audit_end)
        # The demo's one special bonus goes to the five-star recertification.
        director.score(
            audit,
            grade=plan.grade,
            on=audit_end,
            variant=plan.key + 3,
            bonus=plan.grade == "five_star",
        )
        yield recert_on
        director.decide(audit, outcome=Decision.Outcome.GRANT, on=recert_on, grade=plan.grade)
        return
    if story == "expired":
        yield from director.surveillances(programme, stop_on=plan.dates["recert_terminated_on"])
        yield plan.dates["recert_terminated_on"]
        director.terminate_planned(
            programme, "获证组织书面告知不再申请再认证，证书到期后自然失效。"
        )
        yield certificate.expires_on + timedelta(days=1)
        cert_services.certificate_expire(certificate=certificate, actor=staff.system)
        return

    # suspended, restored, withdrawn, cancelled
    yield from director.surveillances(programme, stop_on=plan.event_on)
    yield plan.event_on
    certificate.refresh_from_db()
    if story == "cancelled":
        cert_services.certificate_cancel(
            certificate=certificate,
            actor=staff.technical_manager,
            cancelled_on=plan.event_on,
            reason_code="0202",
            reason="获证组织因业务结构调整，书面申请注销认证证书。",
        )
        director.terminate_planned(programme, "证书已应获证组织申请注销。")
        return
    # 004 §7.2.1 causes: (11) the client's request, (2) legal requirements not met,
    # (8) contract obligations not met.
    cause = {"suspended": 11, "restored": 2, "withdrawn": 8}[story]
    reason = {
        "suspended": "获证组织因门店装修停业，主动申请暂停认证证书。",
        "restored": "获证组织因售后服务投诉处理不当受到市场监管部门行政处罚，未及时整改。",
        "withdrawn": "获证组织拒不缴纳年度监督费用，也不配合安排监督审核。",
    }[story]
    until = plan.dates.get("suspended_until") or add_months(plan.event_on, 6)
    cert_services.certificate_suspend(
        certificate=certificate,
        actor=staff.technical_manager,
        cause=cause,
        verified_on=plan.event_on - timedelta(days=1),
        starts_on=plan.event_on,
        ends_on=until,
        reason=reason,
        evidence="暂停通知书已送达获证组织并在机构网站公布。",
    )
    if story == "restored":
        yield plan.dates["restored_on"]
        cert_services.certificate_restore(
            certificate=certificate,
            actor=staff.technical_manager,
            restored_on=plan.dates["restored_on"],
            evidence="已完成整改：修订投诉处理程序并培训全体服务人员，特殊审核验证有效。",
        )
        yield from director.surveillances(programme, stop_on=DEMO_LAST_DATE)
    elif story == "withdrawn":
        withdrawn_on = plan.dates["withdrawn_on"]
        yield withdrawn_on
        cert_services.certificate_withdraw(
            certificate=certificate,
            actor=staff.technical_manager,
            cause=causes.SUSPENSION_ENDED_UNRESOLVED,
            verified_on=until,
            withdrawn_on=withdrawn_on,
            evidence="暂停期满，获证组织仍未接受监督审核，也未提交整改证据。",
        )
        director.terminate_planned(programme, "证书已撤销，审核方案终止。")


def _run_stories(plans, organizations, staff, log) -> None:
    """Run every story's steps in date order (ties: organisation key)."""
    queue: list[tuple[date, int, Story]] = []
    for plan in plans:
        story = _story(_Director(staff, plan, organizations[plan.key]))
        _advance(queue, plan.key, story)
    steps = 0
    while queue:
        _, key, story = heapq.heappop(queue)
        _advance(queue, key, story)
        steps += 1
    log(f"{steps} dated steps played through the services")


def _advance(queue, key: int, story: Story) -> None:
    try:
        on = next(story)
    except StopIteration:
        return
    if on > DEMO_LAST_DATE:
        raise AssertionError(f"demo step dated {on} is after {DEMO_LAST_DATE}")
    heapq.heappush(queue, (on, key, story))


# --- regulator reports (issue 6) ---------------------------------------------------------

# The demo auditors' personal data for the reports' team and personnel columns: ID number
# without its check digit (GB 11643), gender, birth date, education, school, subject, title.
DEMO_PERSONNEL = (
    ("11010519820315403", "M", date(1982, 3, 15), "硕士", "中国人民大学", "工商管理", "高级经济师"),
    ("31010419850722602", "F", date(1985, 7, 22), "本科", "上海财经大学", "市场营销", "经济师"),
    ("44010619791108301", "M", date(1979, 11, 8), "本科", "华南理工大学", "质量管理", "高级工程师"),
    ("33010619900214102", "F", date(1990, 2, 14), "硕士", "浙江大学", "管理科学与工程", "工程师"),
    # The two decision makers.
    ("11010819750603201", "M", date(1975, 6, 3), "硕士", "清华大学", "管理科学与工程", "研究员"),
    ("32010219800911502", "F", date(1980, 9, 11), "本科", "南京大学", "经济管理", "高级经济师"),
)


def id_number(body17: str) -> str:
    """A mainland ID number: the 17 digits of ``body17`` plus their check character (GB 11643)."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


def _generate_reports(staff: Staff, log) -> None:
    """Personnel records, a change of the CB, and one report of each kind, through the reporting
    services and jobs: October 2026's monthly reports and 2025's annual ones generated by the
    periodic job (system user), a status-change report; all marked submitted with a receipt by
    the reporting officer except October's 获证组织基本信息月报, left overdue (due 5 November)."""
    from reporting import jobs
    from reporting import services as report_services
    from reporting.models import CbChange

    reporting = User.objects.get(username="reporting")
    for user, (body, gender, born, education, school, major, title) in zip(
        [*staff.auditors, *staff.deciders], DEMO_PERSONNEL, strict=True
    ):
        report_services.personnel_record_save(
            auditor=user.auditor_profile,
            actor=staff.planner,
            id_number=id_number(body),
            gender=gender,
            birth_date=born,
            education=education,
            school=school,
            major=major,
            title=title,
            residence="北京市",
            duties="认证决定" if user in staff.deciders else "审核组长、审核员",
            employed_on=date(2019, 6, 1),
        )
    report_services.cb_change_record(
        actor=reporting,
        category=CbChange.Category.DOCUMENTS,
        occurred_on=date(2026, 10, 12),
        description="修订《认证信息管理程序》（B/0 版），增加证书状态变更 2 个工作日内报送的要求。",
        evidence="程序文件发布令 HX-QP-2026-08",
    )
    jobs.run("periodic_reports", today=DEMO_LAST_DATE)
    jobs.run("status_change_reports", today=DEMO_LAST_DATE)
    if not ReportRun.objects.filter(kind=ReportRun.Kind.STATUS_CHANGE).exists():
        event = (
            CertificateEvent.objects.filter(
                kind__in=report_services.STATUS_CHANGE_EVENTS, certificate__head__isnull=True
            )
            .order_by("-occurred_on", "-pk")
            .first()
        )
        report_services.report_generate(
            kind=ReportRun.Kind.STATUS_CHANGE, actor=reporting, event=event
        )
    overdue = ReportRun.Kind.ORGANISATIONS_MONTHLY
    for n, run in enumerate(ReportRun.objects.exclude(kind=overdue).order_by("pk"), start=1):
        report_services.report_submit(
            run=run, actor=reporting, receipt_number=f"HX-{run.due_on:%Y%m}-{n:04d}"
        )
    log(f"{ReportRun.objects.count()} reports generated, one left overdue")


# --- reporting on the result --------------------------------------------------------------


def demo_counts() -> dict[str, dict[str, int]]:
    """Counts per state/status of the lifecycle objects (for the command's summary)."""

    def by(queryset, name):
        return dict(queryset.order_by().values_list(name).annotate(n=Count("pk")))

    heads = Certificate.objects.filter(head__isnull=True)
    return {
        "organisations": {
            "total": Organization.objects.count(),
            "sites": Site.objects.count(),
            "client users": User.objects.filter(organization__isnull=False).count(),
            "staff users": User.objects.filter(is_staff=True).count(),
        },
        "applications": by(Application.objects, "state"),
        "audits": by(Audit.objects, "state"),
        "score sheets": by(ScoreSheet.objects, "grade"),
        "nonconformities": by(Nonconformity.objects, "state"),
        "decisions": by(Decision.objects, "outcome"),
        "certificates (head)": by(heads, "status"),
        "sub-certificates": by(Certificate.objects.filter(head__isnull=False), "status"),
        "certificate events": by(CertificateEvent.objects, "kind"),
        "reports": by(ReportRun.objects, "state"),
    }


# --- planning and supervision examples (issues 3 and 5) -----------------------------------


def _showcase(staff: Staff, log) -> None:
    """Add what the audit department, the public and the reports should see on demo clients.

    - the multi-site client's next surveillance: a recorded audit time with its adjustments and
      a multi-site sampling plan (004 §5.4.2, §5.4.3);
    - one recertified client on an approved, notified ASRP programme (000);
    - one certificate with three failed national/provincial spot checks, which proposes its
      withdrawal (003), and an open complaint about it (004 §8).
    """
    from audits.models import AsrpEligibilityCheck
    from certificates.models import Certificate, RegulatoryEvent

    planner = staff.planner
    valid = Certificate.objects.filter(head__isnull=True, status=Certificate.Status.VALID)
    multi = valid.filter(sub_certificates__isnull=False).distinct().order_by("number").first()
    if multi is not None:
        audit = (
            multi.programme.audits.filter(state=Audit.State.PLANNED, kind=Audit.Kind.SURVEILLANCE)
            .order_by("due_on")
            .first()
        )
        if audit is not None:
            proposal = audit_services.sampling_plan_propose(audit)
            audit_services.sampling_plan_record(
                audit=audit,
                actor=planner,
                similar_sites=[p.site for p in proposal.sites if p.similar],
                sampled_sites=[p.site for p in proposal.sites if p.selected],
                similarity_reason="各门店经营品类、服务流程、服务承诺和风险相同，由总部统一管理",
            )
            audit_services.audit_time_determine(
                audit=audit,
                actor=planner,
                full_time_headcount=multi.organization.headcount,
                part_time_hours=Decimal("3200"),
                adjustments=[("0.5", "多场所：增加门店间交通及抽样现场审核时间")],
            )
            log(f"sampling plan and audit time recorded for {multi.organization.name}")

    recertified = (
        valid.filter(cycle__gte=1).exclude(pk=getattr(multi, "pk", None)).order_by("number").first()
    )
    if recertified is not None and not audit_services.asrp_full_cycle_failures(
        recertified.programme
    ):
        start = min(recertified.issued_on + timedelta(days=20), DEMO_LAST_DATE)
        asrp = audit_services.asrp_programme_create(
            programme=recertified.programme,
            actor=planner,
            reliance="监督审核中采信组织内部审核和管理评审结果，现场抽查其记录的有效性",
            witnessing_criteria="每年见证一次内部审核，覆盖投诉处理和维修服务过程",
            internal_auditor_criteria="内审员须经 GB/T 19011 培训并有两次以上内审经历",
            adjustment_criteria="任一绩效指标连续两个季度未达标时恢复常规审核方案",
            audit_components="每次现场审核覆盖最高管理者访谈、管理评审、内部审核、纠正措施验证",
            special_competences="审核组长须具备售后服务认证高级审查员资格",
        )
        for criterion in AsrpEligibilityCheck.Criterion.values:
            if criterion == AsrpEligibilityCheck.Criterion.FULL_CYCLE:
                continue
            audit_services.asrp_eligibility_record(
                asrp=asrp,
                actor=planner,
                criterion=criterion,
                met=True,
                evidence="已核对上一认证周期审核记录及组织提供的证明文件",
                checked_on=start,
            )
        indicator = audit_services.asrp_indicator_add(
            asrp=asrp,
            actor=planner,
            name="顾客满意度",
            target="季度顾客满意度调查得分不低于 90 分",
            agreed_on=start,
            method="第三方电话回访，每季度不少于 300 个样本",
        )
        audit_services.asrp_indicator_result_record(
            indicator=indicator,
            actor=planner,
            period="上一季度",
            period_end=start - timedelta(days=1),
            value="92.4",
            met=True,
            evidence="第三方回访报告",
        )
        audit_services.asrp_programme_approve(
            asrp=asrp, actor=staff.technical_manager, approved_on=start
        )
        audit_services.asrp_accreditation_notify(asrp=asrp, actor=planner, notified_on=start)
        log(f"ASRP programme approved for {recertified.organization.name}")

    spot = (
        valid.filter(cycle=0, sub_certificates__isnull=True, issued_on__lte=date(2025, 3, 1))
        .exclude(pk=getattr(multi, "pk", None))
        .order_by("number")
        .first()
    )
    if spot is not None:
        checks = (
            (date(2025, 4, 8), "national"),
            (date(2025, 6, 16), "provincial"),
            (date(2025, 9, 9), "provincial"),
        )
        for on, level in checks:
            cert_services.regulatory_event_record(
                certificate=spot,
                actor=staff.technical_manager,
                kind=RegulatoryEvent.Kind.SPOT_CHECK,
                occurred_on=on,
                source="市场监督管理部门产品质量监督抽查",
                description="抽查商品实物质量不合格",
                level=level,
                result="fail",
            )
        cert_services.appeal_receive(
            actor=staff.system,
            kind="complaint",
            received_on=date(2026, 10, 20),
            subject="维修承诺未兑现",
            description="送修空调超过承诺时限仍未修复。",
            name="张女士",
            contact="13800000000",
            certificate=spot,
            about_organization=spot.organization_name,
        )
        log(f"three failed spot checks and an open complaint for {spot.number}")
