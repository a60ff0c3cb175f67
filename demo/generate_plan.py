"""The pure passes of ``generate_data`` (see ``demo.generate``): what to generate per
organisation (``Planner``) and which certificate sequence each head certificate gets
(``assign_sequences``). No database access."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.management.base import CommandError

from certbody.dates import add_months
from certbody.reference import cnca_label
from certificates import causes
from demo.plan import (
    BRANDS,
    DIVISIONS,
    GRADES,
    INDUSTRIES,
    parse_divisions,
)

ANCHOR = date(2026, 11, 15)
SERIAL_BASE = 700_000_000
MAX_SEQUENCE = 9999
EARLIEST_YEAR = 2001

STATUS_MIX = (("valid", 85), ("suspended", 5), ("withdrawn", 4), ("cancelled", 3), ("expired", 3))
GRADE_WEIGHTS = (35, 30, 25, 10)  # standard, three, four, five star
MULTI_SITE_SHARE = 0.05
EXTRA_SITES = (1, 2, 2, 3, 3, 3, 4, 5, 6, 8)

# More real division codes (GB/T 2260) so every region shows up in regional statistics.
EXTRA_DIVISIONS = parse_divisions(
    """
120101 天津市 天津市和平区 300041 022 南京路 和平路 解放北路
130102 石家庄市 河北省石家庄市长安区 050011 0311 中山东路 建设北大街 裕华东路
140105 太原市 山西省太原市小店区 030032 0351 长风街 体育路 平阳路
150102 呼和浩特市 内蒙古自治区呼和浩特市新城区 010050 0471 新华大街 兴安北路
210102 沈阳市 辽宁省沈阳市和平区 110001 024 中华路 太原北街 南京北街
220102 长春市 吉林省长春市南关区 130022 0431 人民大街 自由大路
230102 哈尔滨市 黑龙江省哈尔滨市道里区 150010 0451 中央大街 友谊路 经纬街
340104 合肥市 安徽省合肥市蜀山区 230031 0551 长江西路 黄山路 潜山路
360102 南昌市 江西省南昌市东湖区 330006 0791 八一大道 阳明路 中山路
450103 南宁市 广西壮族自治区南宁市青秀区 530022 0771 民族大道 东葛路 竹溪大道
460106 海口市 海南省海口市龙华区 570105 0898 国贸路 滨海大道 龙昆南路
520102 贵阳市 贵州省贵阳市南明区 550001 0851 中华南路 遵义路 花果园大街
530102 昆明市 云南省昆明市五华区 650032 0871 东风西路 人民中路 青年路
620102 兰州市 甘肃省兰州市城关区 730030 0931 东岗西路 庆阳路 张掖路
640104 银川市 宁夏回族自治区银川市兴庆区 750001 0951 解放西街 文化东街
650102 乌鲁木齐市 新疆维吾尔自治区乌鲁木齐市天山区 830002 0991 解放南路 中山路 新华北路
370212 青岛市 山东省青岛市崂山区 266061 0532 香港东路 海尔路 株洲路
330203 宁波市 浙江省宁波市海曙区 315000 0574 中山西路 解放南路 药行街
"""
)
# 004 §7.2.1 / §7.3.1 cause numbers (certificates.causes gives their CNCA codes and labels).
SUSPENSION_CAUSES = tuple(causes.SUSPENSION_CAUSES)
WITHDRAWAL_CAUSES = tuple(
    n for n in causes.WITHDRAWAL_CAUSES if n != causes.SUSPENSION_ENDED_UNRESOLVED
)

# Users the generated rows point at (created when missing; unusable passwords). The auditors
# get profiles and competences through the audits services, as in seed_demo.
POOL_AUDITORS = 12
POOL_DECIDERS = 4


@dataclass(slots=True)
class Event:
    kind: str
    on: date
    status_code: str
    change_code: str = ""
    reason_code: str = ""
    reason: str = ""
    cause: int | None = None
    ends_on: date | None = None


@dataclass(slots=True)
class Cycle:
    issued_on: date
    expires_on: date
    status: str
    ends_on: date | None  # the day the certificate stopped being in force (None: still is)
    events: list[Event] = field(default_factory=list)
    status_changed_on: date | None = None
    status_reason: str = ""
    suspended_from: date | None = None
    suspended_until: date | None = None
    sequence: int = 0


@dataclass(slots=True)
class OrgSpec:
    serial: int
    division: tuple
    street: str
    name: str
    headcount: int
    industry: tuple
    extra_sites: int
    grade: str
    cycles: list[Cycle]

    @property
    def certificate_count(self) -> int:
        return len(self.cycles) * (1 + self.extra_sites)


def _divisions() -> list[tuple]:
    return [*DIVISIONS, *EXTRA_DIVISIONS]


class Planner:
    """Pass 1 (pure): organisations, their cycles, dates and statuses; capacity per year."""

    def __init__(self, *, n: int, seed: int, anchor: date, first_serial: int, used: dict[int, int]):
        self.n = n
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.serial = first_serial
        # Head certificates still available per year (4-digit sequence, 004 Appendix C).
        self.left = defaultdict(
            lambda: MAX_SEQUENCE, {y: MAX_SEQUENCE - last for y, last in used.items()}
        )
        self.live_from = add_months(anchor, -36) + timedelta(days=31)
        self.divisions = _divisions()
        self.division_weights = [5] * len(DIVISIONS) + [2] * len(EXTRA_DIVISIONS)
        live_capacity = sum(
            self.left[y] * self._share_of_year(y)
            for y in range(self.live_from.year, anchor.year + 1)
        )
        heads = n / (1 + MULTI_SITE_SHARE * sum(EXTRA_SITES) / len(EXTRA_SITES))
        self.mean_history = max(0.0, heads / (0.8 * live_capacity) - 1) if live_capacity else 0.0

    def _share_of_year(self, year: int) -> float:
        start = max(date(year, 1, 1), self.live_from)
        end = min(date(year, 12, 31), self.anchor)
        return max(0, (end - start).days + 1) / 365

    def _date(self, start: date, end: date) -> date:
        if end < start:
            raise AssertionError(f"empty date range {start}…{end}")
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def plan(self) -> list[OrgSpec]:
        specs, produced = [], 0
        statuses = [s for s, _ in STATUS_MIX]
        weights = [w for _, w in STATUS_MIX]
        while produced < self.n:
            rng = self.rng
            room = self.n - produced
            extra = rng.choice(EXTRA_SITES) if rng.random() < MULTI_SITE_SHARE else 0
            status = rng.choices(statuses, weights)[0]
            history = min(self._history_length(), room - 1)
            while (history + 1) * (1 + extra) > room:
                extra -= 1  # the last organisation lands exactly on N
            spec = self._organisation(extra, self._cycles(status, history))
            specs.append(spec)
            produced += spec.certificate_count
        return specs

    def _history_length(self) -> int:
        """How many earlier cycles (superseded certificates) the organisation has."""
        rng = self.rng
        if self.mean_history <= 0:
            return 0
        whole = int(self.mean_history)
        return whole + (rng.random() < self.mean_history - whole) + rng.choice((0, 0, 0, 1))

    def _current_issue(self, status: str) -> date:
        a = self.anchor
        if status == "expired":
            end = add_months(a, -36) - timedelta(days=100)
            return self._date(add_months(a, -47), end)
        if status == "suspended":
            return self._date(self.live_from, a - timedelta(days=120))
        if status in ("withdrawn", "cancelled"):
            return self._date(self.live_from, a - timedelta(days=150))
        return self._date(self.live_from, a - timedelta(days=7))

    def _cycles(self, status: str, history: int) -> list[Cycle]:
        """The organisation's certificates, oldest first; uses up one number per issue year."""
        for _ in range(50):
            target = self._current_issue(status)
            for k in range(history, -1, -1):
                dates = self._chain(target, k)
                if all(d.year >= EARLIEST_YEAR and self.left[d.year] > 0 for d in dates):
                    for d in dates:
                        self.left[d.year] -= 1
                    return self._forward(dates, status)
        raise CommandError(
            f"no certificate number left around {target.year}: the 4-digit sequence allows "
            f"{MAX_SEQUENCE} head certificates a year (004 Appendix C); ask for fewer."
        )

    def _chain(self, target: date, k: int) -> list[date]:
        """Issue dates of R0 … Rk with Rk issued about ``target``.

        Each recertification is decided 20–80 days before the previous certificate's expiry
        (004 §5.8.4); R0 runs 3 years less a day from issue, each Rn 3 years from the previous
        expiry (certificate_issue).
        """
        if k == 0:
            return [target]
        deltas = [self.rng.randint(20, 80) for _ in range(k)]
        first = add_months(target + timedelta(days=deltas[-1] + 1), -36 * k)
        dates = [first]
        expiry = add_months(first, 36) - timedelta(days=1)
        for delta in deltas:
            dates.append(expiry - timedelta(days=delta))
            expiry = add_months(expiry, 36)
        return dates

    def _forward(self, dates: list[date], status: str) -> list[Cycle]:
        cycles = []
        expiry = None
        for j, issued in enumerate(dates):
            if j == 0:
                expiry = add_months(issued, 36) - timedelta(days=1)
            else:
                expiry = add_months(expiry, 36)
            cycles.append(Cycle(issued_on=issued, expires_on=expiry, status="", ends_on=None))
        for j, cycle in enumerate(cycles):
            cycle.events.append(Event("issued", cycle.issued_on, "01"))
            cycle.status_changed_on = cycle.issued_on
            if j < len(cycles) - 1:
                on = cycles[j + 1].issued_on
                cycle.status = "superseded"
                cycle.ends_on = on
                superseded = Event("superseded", on, "03", "97_03", "0120")
                self._change(cycle, superseded, "withdrawal_reason")
            else:
                self._finish(cycle, status)
        return cycles

    def _change(self, cycle: Cycle, event: Event, table: str = "") -> None:
        event.reason = event.reason or cnca_label(table, event.reason_code)
        cycle.events.append(event)
        cycle.status_changed_on = event.on
        cycle.status_reason = event.reason

    def _suspend(self, cycle: Cycle, start: date, until: date) -> None:
        found = causes.suspension_cause(self.rng.choice(SUSPENSION_CAUSES))
        event = Event("suspended", start, "02", "97_01", found.cnca_code, found.label)
        event.cause, event.ends_on = found.number, until
        self._change(cycle, event)
        cycle.suspended_from, cycle.suspended_until = start, until

    def _withdraw(self, cycle: Cycle, on: date, cause: int) -> None:
        found = causes.withdrawal_cause(cause)
        event = Event("withdrawn", on, "03", "97_03", found.cnca_code, found.label)
        event.cause = found.number
        self._change(cycle, event)

    def _finish(self, cycle: Cycle, status: str) -> None:
        rng, a = self.rng, self.anchor
        issued, expiry = cycle.issued_on, cycle.expires_on
        cycle.status = status
        if status == "valid":
            if rng.random() < 0.05 and (a - issued).days > 200:
                start = self._date(issued + timedelta(days=90), a - timedelta(days=100))
                self._suspend(cycle, start, add_months(start, 3))
                restored = start + timedelta(days=rng.randint(20, 80))
                reason = "暂停原因已消除，恢复证书"
                cycle.events.append(Event("restored", restored, "01", "97_02", "", reason))
                cycle.status_changed_on, cycle.status_reason = restored, reason
                cycle.suspended_from = cycle.suspended_until = None
        elif status == "suspended":
            start = self._date(
                max(issued + timedelta(days=60), a - timedelta(days=170)), a - timedelta(days=1)
            )
            until = self._date(
                max(start + timedelta(days=30), a + timedelta(days=1)), add_months(start, 6)
            )
            self._suspend(cycle, start, until)
        elif status == "withdrawn":
            on = self._date(issued + timedelta(days=90), min(expiry, a))
            cycle.ends_on = on
            # Often the end of a suspension whose cause was not removed (004 §7.3.1(7)),
            # withdrawn within 5 working days after the period ended.
            start = add_months(on, -6) - timedelta(days=rng.randint(1, 5))
            if rng.random() < 0.6 and start >= issued + timedelta(days=30):
                self._suspend(cycle, start, add_months(start, 6))
                self._withdraw(cycle, on, causes.SUSPENSION_ENDED_UNRESOLVED)
            else:
                self._withdraw(cycle, on, rng.choice(WITHDRAWAL_CAUSES))
        elif status == "cancelled":
            on = self._date(issued + timedelta(days=60), min(expiry, a))
            cycle.ends_on = on
            code = rng.choices(("0204", "0202"), (7, 3))[0]
            self._change(cycle, Event("cancelled", on, "04", "99", code), "cancellation_reason")
        elif status == "expired":
            on = expiry + timedelta(days=1)
            cycle.ends_on = on
            self._change(cycle, Event("expired", on, "05", "97_05", "0201"), "cancellation_reason")

    def _organisation(self, extra: int, cycles: list[Cycle]) -> OrgSpec:
        rng = self.rng
        division = rng.choices(self.divisions, self.division_weights)[0]
        industry = rng.choice(INDUSTRIES)
        name = f"{division[1]}{rng.choice(BRANDS)}{industry[1]}有限公司"
        low, high = rng.choice(((20, 60), (60, 150), (150, 400), (400, 1200), (1200, 3000)))
        spec = OrgSpec(
            serial=self.serial,
            division=division,
            street=rng.choice(division[5]),
            name=name,
            headcount=rng.randint(low, high),
            industry=industry,
            extra_sites=extra,
            grade=rng.choices(GRADES, GRADE_WEIGHTS)[0],
            cycles=cycles,
        )
        self.serial += 1
        return spec


def assign_sequences(specs: list[OrgSpec], used: dict[int, int]) -> dict[int, int]:
    """Pass 2: sequence numbers per issue year in date order; returns the last one per year."""
    heads = sorted(
        (
            (cycle.issued_on, spec.serial, j, cycle)
            for spec in specs
            for j, cycle in enumerate(spec.cycles)
        ),
        key=lambda item: item[:3],
    )
    last = dict(used)
    for issued_on, _, _, cycle in heads:
        last[issued_on.year] = last.get(issued_on.year, 0) + 1
        cycle.sequence = last[issued_on.year]
        if cycle.sequence > MAX_SEQUENCE:  # the planner's capacity check makes this unreachable
            raise CommandError(f"sequence overflow in {issued_on.year}")
    return last
