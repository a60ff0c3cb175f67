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
from django.db import transaction
from django.db.models import Count

from applications import services as app_services
from applications.models import Application, ApplicationReview, Organization, Site
from applications.validators import build_uscc
from audits import rules
from audits import services as audit_services
from audits.models import Audit, Auditor, AuditProgramme
from certbody import roles
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
# Client log-ins (client01 …) for these certified stories, in this order.
CLIENT_STORIES = ("valid", "valid", "suspended", "recertified", "withdrawn", "cancelled", "expired")


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
            grade=rng.choice(GRADES) if window else "",
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
    return sorted(result, key=lambda p: p.key)


def _replace(plan: OrgPlan, **changes) -> OrgPlan:
    from dataclasses import replace

    return replace(plan, **changes)


def _plan_story_dates(plan: OrgPlan, rng: random.Random) -> OrgPlan:
    """Fix the dates of the story's status changes (all ≤ DEMO_LAST_DATE)."""
    d = plan.decided_on
    dates: dict[str, date] = {}
    event_on = None
    if plan.story == "recertified":
        expiry = rules.add_months(d, 36) - timedelta(days=1)
        dates["recert_decision"] = expiry - timedelta(days=rng.randint(25, 60))
    elif plan.story == "withdrawn":
        event_on = _random_date(rng, date(2025, 3, 1), date(2025, 4, 30))  # suspended from
        # withdrawn within 5 working days after the suspension period ended (004 §7.3.1(7))
        dates["withdrawn_on"] = rules.add_months(event_on, 6) + timedelta(days=rng.randint(1, 4))
    elif plan.story == "cancelled":
        event_on = _random_date(rng, date(2026, 1, 5), date(2026, 6, 30))
    elif plan.story == "suspended":
        event_on = _random_date(rng, date(2026, 9, 1), date(2026, 10, 31))
        dates["suspended_until"] = rules.add_months(event_on, rng.randint(3, 6))
    elif plan.story == "restored":
        event_on = _random_date(rng, date(2025, 5, 1), date(2025, 8, 31))
        dates["suspended_until"] = rules.add_months(event_on, 3)
        dates["restored_on"] = event_on + timedelta(days=rng.randint(30, 60))
    elif plan.story == "expired":
        expiry = rules.add_months(d, 36) - timedelta(days=1)
        dates["recert_terminated_on"] = expiry - timedelta(days=rng.randint(90, 120))
    return _replace(plan, event_on=event_on, dates=dates)


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
    def staff_audit(self, audit: Audit, *, start: date, end: date, with_member: bool) -> None:
        leader, member = self.team()
        planner = self.staff.planner
        audit_services.audit_schedule(
            audit=audit,
            actor=planner,
            planned_start=start,
            planned_end=end,
            planned_days=audit.planned_days or rules.table_days(self.plan.headcount),
        )
        audit_services.audit_team_add(audit=audit, actor=planner, user=leader, role="leader")
        if with_member:
            audit_services.audit_team_add(audit=audit, actor=planner, user=member, role="auditor")

    def leader_of(self, audit: Audit) -> User:
        return audit.team.get(role="leader").user

    def run_audit(self, audit, *, start, end, positive=True, findings="") -> Audit:
        """Start and complete ``audit`` (team already assigned)."""
        audit_services.audit_start(audit=audit, actor=self.staff.planner, started_on=start)
        audit_services.audit_complete(
            audit=audit,
            actor=self.leader_of(audit),
            ended_on=end,
            findings=findings or "未发现严重不符合项；轻微不符合项已在规定期限内完成纠正。",
            recommendation_positive=positive,
        )
        audit.refresh_from_db()
        return audit

    def decide(self, audit: Audit, *, outcome: str, on: date, reasons: str = "") -> Decision:
        return cert_services.decision_make(
            audit=audit,
            actor=self.decider(),
            outcome=outcome,
            decided_on=on,
            star_grade=self.plan.grade if outcome == Decision.Outcome.GRANT else "",
            reasons=reasons,
        )

    def terminate_planned(self, programme: AuditProgramme, reason: str) -> None:
        for audit in programme.audits.filter(state=Audit.State.PLANNED).order_by("pk"):
            audit_services.audit_terminate(audit=audit, actor=self.staff.planner, reason=reason)

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

    def stage2(self, programme: AuditProgramme, *, start: date, positive=True) -> Story:
        """Stage 2 on site from ``start``; returns the completed audit."""
        stage2 = programme.audits.get(kind=Audit.Kind.STAGE2)
        days = 1 if self.plan.headcount < 150 else 2
        yield start - timedelta(days=10)
        self.staff_audit(stage2, start=start, end=start + timedelta(days=days), with_member=True)
        yield start
        findings = (
            ""
            if positive
            else "开具严重不符合项 2 项：未建立顾客投诉处理程序；服务网点未实施服务承诺。"
        )
        return self.run_audit(
            stage2,
            start=start,
            end=start + timedelta(days=days),
            positive=positive,
            findings=findings,
        )

    def initial_certificate(self) -> Story:
        """The whole initial certification; returns the head certificate."""
        decided_on = self.plan.decided_on
        programme = yield from self.opening(decided_on=decided_on)
        stage2_start = decided_on - timedelta(days=self.rng.randint(18, 30))
        stage2 = yield from self.stage2(programme, start=stage2_start)
        yield decided_on
        decision = self.decide(stage2, outcome=Decision.Outcome.GRANT, on=decided_on)
        return decision.certificates.get(head__isnull=True)

    def surveillances(self, programme: AuditProgramme, *, stop_on: date) -> Story:
        """Run the cycle's surveillance audits that start and are decided before ``stop_on``.

        When ``stop_on`` is the demo's last date, an audit already started is left in progress
        or completed (awaiting its decision); the next one due soon is scheduled.
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
            if end > DEMO_LAST_DATE:
                return
            yield end
            audit_services.audit_complete(
                audit=audit,
                actor=self.leader_of(audit),
                ended_on=end,
                findings="体系持续有效运行，顾客满意度测评结果良好。",
                recommendation_positive=True,
            )
            if decide_on > DEMO_LAST_DATE:
                return
            yield decide_on
            audit.refresh_from_db()
            self.decide(audit, outcome=Decision.Outcome.MAINTAIN, on=decide_on)


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
            yield target - timedelta(days=10)
            director.staff_audit(
                stage2, start=target, end=target + timedelta(days=3), with_member=True
            )
            yield target
            audit_services.audit_start(audit=stage2, actor=staff.planner, started_on=target)
            return
        stage2 = yield from director.stage2(programme, start=target, positive=story != "refused")
        if story == "refused":
            yield target + timedelta(days=30)
            director.decide(
                stage2,
                outcome=Decision.Outcome.REFUSE,
                on=target + timedelta(days=30),
                reasons="严重不符合项未在规定期限内完成纠正并经验证，不予认证（004 §5.10.3）。",
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
        director.run_audit(audit, start=audit_start, end=audit_start + timedelta(days=1))
        yield recert_on
        director.decide(audit, outcome=Decision.Outcome.GRANT, on=recert_on)
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
    until = plan.dates.get("suspended_until") or rules.add_months(plan.event_on, 6)
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
        staff.auditors, DEMO_PERSONNEL, strict=True
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
            duties="审核组长、审核员",
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
