"""Score sheets (服务测评检查表) and the versions of the indicator catalogue.

Implements 004 §5.6.5.2–§5.6.5.3 (001 §6.4.3, §6.5) on top of ``audits.scoring``: every change to
a sheet recomputes the items' points and the sheet's stored result in the same transaction.
The team's leader and auditors fill the sheet; the audit department may also open it; only the
team leader signs it off (004 §5.6.5.3). The catalogue is kept by the audit department or the
technical manager. Points are ``Decimal`` with 2 decimals.
"""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audits import scoring
from audits.models import (
    Audit,
    Indicator,
    IndicatorCatalogue,
    ScoreItem,
    ScoreSheet,
    SpecialDeduction,
)
from audits.selectors.score_sheets import (
    _RULE_RESULT,
    _RULE_SCORING,
    EDITABLE_AUDIT_STATES,
    SCORED_KINDS,
    _evaluate,
    part_total_problems,
    score_sheet_gaps,
)
from audits.services._guards import _count, _text
from certbody import policy
from certbody.lifecycle import RuleViolation, fire, lock, record

_RESULT_FIELDS = ["earned", "applicable", "score", "passed", "grade"]


def _require_audit_open(audit: Audit) -> None:
    if audit.state not in EDITABLE_AUDIT_STATES:
        raise RuleViolation(
            _('The audit "%(audit)s" is "%(state)s": its score sheet can no longer change.')
            % {"audit": audit, "state": audit.get_state_display()}
        )


def _require_draft(sheet: ScoreSheet) -> None:
    if sheet.state != ScoreSheet.State.DRAFT:
        raise RuleViolation(
            _("The team leader has confirmed the score sheet: reopen it before changing it."),
            _RULE_RESULT,
        )


def _locked_sheet(sheet_pk: int, actor) -> ScoreSheet:
    """Lock the sheet (inside the caller's atomic block) and check it may be changed."""
    sheet = lock(ScoreSheet, sheet_pk)
    policy.require(actor, "audits.score", sheet)
    _require_draft(sheet)
    _require_audit_open(sheet.audit)
    return sheet


def _store_result(sheet: ScoreSheet, actor, reason: str) -> ScoreSheet:
    """Recompute and save the sheet's stored result (caller holds the lock).

    An incomplete sheet stores score 0, not passed and the grade ``ScoreSheet.INCOMPLETE``.
    """
    items = list(sheet.items.select_related("indicator"))
    earned, applicable, result = _evaluate(items, sheet.deductions.count(), sheet.special_bonus)
    sheet.earned = earned
    sheet.applicable = applicable
    if result is None:
        sheet.score, sheet.passed, sheet.grade = Decimal(0), False, ScoreSheet.INCOMPLETE
    else:
        sheet.score = result.score
        sheet.passed = result.passed
        sheet.grade = result.grade
    record(sheet, actor=actor, reason=reason)
    sheet.save(update_fields=_RESULT_FIELDS)
    return sheet


def score_sheet_open(*, audit: Audit, actor) -> ScoreSheet:
    """Open the score sheet of a stage 2, surveillance or recertification audit (004 §5.6.5).

    The sheet uses the current catalogue version, which is locked from then on, and starts
    with one unassessed item per indicator: no points and the result "incomplete" until every
    indicator is assessed (004 §5.6.5.2).
    ``actor``: the team leader or an auditor of the team, or the audit department.

    Raises ``RuleViolation``: another kind of audit, an audit not in progress or completed, an
    actor not allowed, a sheet already opened, no current catalogue or one whose part totals
    are not 40/35/25 (004 §5.6.5.2).
    """
    policy.require(actor, "audits.open_score_sheet", audit)
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.kind not in SCORED_KINDS:
            raise RuleViolation(
                _(
                    "%(kind)s is not scored: score sheets are for stage 2, surveillance and "
                    "recertification audits."
                )
                % {"kind": audit.get_kind_display()},
                "004 §5.6.5",
            )
        if audit.state not in EDITABLE_AUDIT_STATES:
            raise RuleViolation(
                _(
                    'The audit "%(audit)s" is "%(state)s": only an audit in progress or '
                    "completed can have a score sheet."
                )
                % {"audit": audit, "state": audit.get_state_display()}
            )
        if ScoreSheet.objects.filter(audit=audit).exists():
            raise RuleViolation(
                _('The audit "%(audit)s" already has a score sheet.') % {"audit": audit}
            )
        catalogue = IndicatorCatalogue.objects.filter(is_current=True).first()
        if catalogue is None:
            raise RuleViolation(
                _("There is no current version of the indicator catalogue."), _RULE_SCORING
            )
        indicators = list(catalogue.indicators.all())
        problems = part_total_problems((i.part, i.max_points) for i in indicators)
        if problems:
            raise RuleViolation(
                _(
                    'The parts\' points of the indicator catalogue "%(version)s" are wrong: '
                    "%(problems)s"
                )
                % {"version": catalogue.version, "problems": _("; ").join(problems)},
                _RULE_SCORING,
            )
        sheet = ScoreSheet(audit=audit, catalogue=catalogue)
        record(sheet, actor=actor, reason="建立评分表")
        sheet.save()
        for indicator in indicators:
            # Unassessed: no points until the team scores it (004 §5.6.5.2).
            item = ScoreItem(sheet=sheet, indicator=indicator, assessed=False, points=Decimal(0))
            record(item, actor=actor, reason="建立评分表")
            item.save()
        _store_result(sheet, actor, "建立评分表")
    return sheet


def score_item_update(
    *,
    item: ScoreItem,
    actor,
    excluded: bool = False,
    exclusion_justification: str = "",
    met: bool | None = True,
    samples: int = 0,
    nonconforming: int = 0,
    evidence: str = "",
) -> ScoreSheet:
    """Record the result of one indicator and recompute the sheet (004 §5.6.5.2 a, b, e).

    Replaces every field of the item with the arguments:

    - ``excluded`` (删减) needs ``exclusion_justification``: only where the nature of the goods
      or service makes the indicator inapplicable (e); its points leave both sides.
    - a qualitative indicator is scored by ``met`` (not met loses all its points, a) and takes
      no samples; ``met=None`` (no result chosen) is refused unless the indicator is excluded,
      so an indicator is never assessed as met by default; a sampled indicator is scored by
      ``samples`` and ``nonconforming`` (b), points lost in proportion, and leaves ``met``
      True (None is taken as True).
    - ``samples``, ``nonconforming``: non-negative ints, nonconforming <= samples; a sampled
      indicator that is not excluded needs at least one sample (b).
    - ``evidence``: written evidence, required when the indicator is not met or a sample is
      nonconforming (004 §5.6.5.2; §5.11.4). Saving marks the item assessed.

    Only the team's leader and auditors, while the sheet is a draft and the audit neither
    closed nor terminated. Returns the sheet with its stored result recomputed.
    Raises ``RuleViolation`` with the clause for every refusal.
    """
    excluded = bool(excluded)
    justification = (exclusion_justification or "").strip()
    samples = _count(samples, _("the number of samples"))
    nonconforming = _count(nonconforming, _("the number of nonconforming samples"))
    with transaction.atomic():
        sheet = _locked_sheet(item.sheet_id, actor)
        if excluded and not justification:
            raise RuleViolation(
                _(
                    "Excluding an indicator needs the reason: only items the goods or "
                    "services do not involve."
                ),
                f"{_RULE_SCORING} e)",
            )
        if nonconforming > samples:
            raise RuleViolation(
                _(
                    "Nonconforming samples (%(nonconforming)s) cannot exceed the samples "
                    "taken (%(samples)s)."
                )
                % {"nonconforming": nonconforming, "samples": samples},
                f"{_RULE_SCORING} b)",
            )
        item = ScoreItem.objects.select_for_update().select_related("indicator").get(pk=item.pk)
        indicator = item.indicator
        if indicator.method == Indicator.Method.QUALITATIVE:
            if met is None and not excluded:
                raise RuleViolation(
                    _("%(indicator)s: choose whether it is met or not met.")
                    % {"indicator": indicator},
                    f"{_RULE_SCORING} a)",
                )
            if samples or nonconforming:
                raise RuleViolation(
                    _(
                        '"%(indicator)s" is a qualitative indicator scored as met or not: '
                        "it takes no sample count."
                    )
                    % {"indicator": indicator},
                    f"{_RULE_SCORING} a)",
                )
        elif met is not None and not met:
            raise RuleViolation(
                _(
                    '"%(indicator)s" is a sampled indicator that loses points by the share '
                    "of nonconforming samples: it cannot be judged not met as a whole."
                )
                % {"indicator": indicator},
                f"{_RULE_SCORING} b)",
            )
        elif not excluded and samples < 1:
            raise RuleViolation(
                _("%(indicator)s is sampled: record at least one sample checked.")
                % {"indicator": indicator},
                f"{_RULE_SCORING} b)",
            )
        met = True if met is None else bool(met)  # excluded, or sampled: no "not met" result
        if not excluded and (not met or nonconforming) and not (evidence or "").strip():
            raise RuleViolation(
                _(
                    "%(indicator)s: an indicator not met or a nonconforming sample needs "
                    "written evidence."
                )
                % {"indicator": indicator},
                f"{_RULE_SCORING}; 004 §5.11.4",
            )
        try:
            points = scoring.indicator_points(
                indicator.max_points, samples=samples, nonconforming=nonconforming, met=bool(met)
            )
        except ValueError as exc:
            raise RuleViolation(
                _('"%(indicator)s" cannot be scored: %(exc)s')
                % {"indicator": indicator, "exc": exc},
                _RULE_SCORING,
            ) from exc
        item.assessed = True
        item.excluded = excluded
        item.exclusion_justification = justification
        item.met = bool(met)
        item.samples = samples
        item.nonconforming = nonconforming
        item.points = Decimal(0) if excluded else points
        item.evidence = (evidence or "").strip()
        record(item, actor=actor, reason="删减指标" if excluded else "评分")
        item.save(
            update_fields=[
                "assessed",
                "excluded",
                "exclusion_justification",
                "met",
                "samples",
                "nonconforming",
                "points",
                "evidence",
            ]
        )
        _store_result(sheet, actor, f"评分：{indicator.code}")
    return sheet


def special_deduction_add(
    *, sheet: ScoreSheet, actor, category: str, description: str, correction_required: str
) -> SpecialDeduction:
    """Add a special deduction (特别扣分项): −1 point outside the score, to be corrected.

    ``category``: one of ``SpecialDeduction.Category`` (breach of law, of the client's own
    service rules, of trade requirements, or impairing the service system; 004 §5.6.5.2 c).
    ``description`` and ``correction_required`` may not be empty. A 5th deduction is recorded
    and fails the evaluation (004 §5.6.5.3 (2), (3)). Team leader or auditors, draft sheet only.
    """
    if category not in SpecialDeduction.Category.values:
        raise RuleViolation(
            _("Unknown special deduction category: %(category)s.") % {"category": category},
            f"{_RULE_SCORING} c)",
        )
    description = _text(description, _("the facts of the special deduction"), f"{_RULE_SCORING} c)")
    correction_required = _text(
        correction_required, _("the correction required"), f"{_RULE_SCORING} c)"
    )
    with transaction.atomic():
        sheet = _locked_sheet(sheet.pk, actor)
        deduction = SpecialDeduction(
            sheet=sheet,
            category=category,
            description=description,
            correction_required=correction_required,
        )
        record(deduction, actor=actor, reason="特别扣分项")
        deduction.save()
        _store_result(sheet, actor, "特别扣分项")
    return deduction


def special_deduction_remove(*, deduction: SpecialDeduction, actor) -> ScoreSheet:
    """Remove a special deduction recorded by mistake and recompute the sheet (draft only)."""
    with transaction.atomic():
        sheet = _locked_sheet(deduction.sheet_id, actor)
        deduction = SpecialDeduction.objects.get(pk=deduction.pk, sheet=sheet)
        record(deduction, actor=actor, reason="删除特别扣分项")
        deduction.delete()
        _store_result(sheet, actor, "删除特别扣分项")
    return sheet


def special_bonus_set(
    *, sheet: ScoreSheet, actor, granted: bool, justification: str = ""
) -> ScoreSheet:
    """Grant or withdraw the special bonus (特别加分项, +1 outside the score; 004 §5.6.5.2 d).

    At most one bonus per sheet: granting again only replaces the justification. A granted
    bonus needs ``justification`` (a clear lead above legal and industry level); withdrawing
    clears it. Team leader or auditors, draft sheet only. Returns the recomputed sheet.
    """
    granted = bool(granted)
    justification = (justification or "").strip()
    if granted and not justification:
        raise RuleViolation(
            _(
                "A special bonus must state the client's particular strength: after-sales "
                "service above the legal requirements and leading its trade."
            ),
            f"{_RULE_SCORING} d)",
        )
    with transaction.atomic():
        sheet = _locked_sheet(sheet.pk, actor)
        sheet.special_bonus = granted
        sheet.bonus_justification = justification if granted else ""
        record(sheet, actor=actor, reason="特别加分项" if granted else "取消特别加分项")
        sheet.save(update_fields=["special_bonus", "bonus_justification"])
        _store_result(sheet, actor, "特别加分项")
    return sheet


def score_sheet_submit(*, sheet: ScoreSheet, actor, submitted_on: date) -> ScoreSheet:
    """The team leader signs off the sheet with its result (004 §5.6.5.3).

    ``submitted_on``: local date, not in the future nor before the audit started. Every
    excluded indicator must carry its justification (004 §5.6.5.2 e) and the sheet must be
    complete (``score_sheet_gaps``: every indicator assessed, evidence where required). The
    result is recomputed and stored with the sign-off; the sheet can then no longer change
    unless the leader reopens it.
    """
    policy.require(actor, "audits.sign_score_sheet", sheet)
    if submitted_on > timezone.localdate():
        raise RuleViolation(_("The confirmation date cannot be later than today."))
    with transaction.atomic():
        sheet = lock(ScoreSheet, sheet.pk)
        _require_audit_open(sheet.audit)
        started = sheet.audit.actual_start
        if started and submitted_on < started:
            raise RuleViolation(
                _("The confirmation date cannot be earlier than the audit's start.")
            )
        unjustified = [
            str(item.indicator)
            for item in sheet.items.select_related("indicator").filter(excluded=True)
            if not item.exclusion_justification.strip()
        ]
        if unjustified:
            raise RuleViolation(
                _("These excluded indicators have no reason: %(indicators)s")
                % {"indicators": _(", ").join(unjustified)},
                f"{_RULE_SCORING} e)",
            )
        gaps = score_sheet_gaps(sheet)
        if gaps:
            raise RuleViolation(
                _("The score sheet is incomplete and cannot be signed off: %(gaps)s.")
                % {"gaps": "; ".join(gaps)},
                f"{_RULE_SCORING}; {_RULE_RESULT}",
            )
        _store_result(sheet, actor, "确认前重新计算")
        sheet.submitted_by = actor
        sheet.submitted_on = submitted_on
        fire(
            sheet,
            "submit",
            actor=actor,
            reason="审核组长确认评分表",
            fields=["submitted_by", "submitted_on"],
            label="评分表",
        )
    return sheet


def score_sheet_reopen(*, sheet: ScoreSheet, actor, reason: str) -> ScoreSheet:
    """The team leader reopens a signed-off sheet for correction while the audit is not closed.

    ``reason`` may not be empty; it is kept in the history. The sign-off is cleared.
    """
    policy.require(actor, "audits.sign_score_sheet", sheet)
    reason = _text(reason, _("the reason for reopening"))
    with transaction.atomic():
        sheet = lock(ScoreSheet, sheet.pk)
        _require_audit_open(sheet.audit)
        sheet.submitted_by = None
        sheet.submitted_on = None
        fire(
            sheet,
            "reopen",
            actor=actor,
            reason=f"退回修改：{reason}",
            fields=["submitted_by", "submitted_on"],
            label="评分表",
        )
    return sheet


def catalogue_new_version(
    *, source: IndicatorCatalogue, actor, version: str, title: str = ""
) -> IndicatorCatalogue:
    """Copy ``source`` and its indicators into a new, editable, not current version.

    The way to change the points of a locked version (one used by a score sheet): edit the
    copy, then ``catalogue_make_current``. ``version``: a new, unique version label (at most
    20 characters); ``title`` defaults to the source's. Audit department or technical manager.
    """
    policy.require(actor, "audits.manage_catalogue")
    version = _text(version, _("the version number"))
    if len(version) > IndicatorCatalogue._meta.get_field("version").max_length:
        raise RuleViolation(_("The version number is too long."))
    with transaction.atomic():
        if IndicatorCatalogue.objects.filter(version=version).exists():
            raise RuleViolation(
                _('The indicator catalogue version "%(version)s" exists already.')
                % {"version": version}
            )
        catalogue = IndicatorCatalogue(
            version=version,
            title=(title or "").strip() or source.title,
            is_current=False,
            notes=f"复制自版本 {source.version}",
        )
        record(catalogue, actor=actor, reason=f"复制自版本 {source.version}")
        catalogue.save()
        Indicator.objects.bulk_create(
            Indicator(
                catalogue=catalogue,
                part=indicator.part,
                code=indicator.code,
                name=indicator.name,
                max_points=indicator.max_points,
                method=indicator.method,
                guidance=indicator.guidance,
                position=indicator.position,
            )
            for indicator in source.indicators.all()
        )
    return catalogue


def catalogue_make_current(*, catalogue: IndicatorCatalogue, actor) -> IndicatorCatalogue:
    """Make ``catalogue`` the version new score sheets use; the previous one stops being current.

    Refused when its indicators' points do not add up to 40 / 35 / 25 per part
    (004 §5.6.5.2). Sheets already opened keep their version. Audit department or technical
    manager.
    """
    policy.require(actor, "audits.manage_catalogue")
    with transaction.atomic():
        catalogue = lock(IndicatorCatalogue, catalogue.pk)
        problems = part_total_problems(catalogue.indicators.values_list("part", "max_points"))
        if problems:
            raise RuleViolation(
                _(
                    'The parts\' points of the indicator catalogue "%(version)s" are wrong: '
                    "%(problems)s"
                )
                % {"version": catalogue.version, "problems": _("; ").join(problems)},
                _RULE_SCORING,
            )
        if catalogue.is_current:
            return catalogue
        for previous in IndicatorCatalogue.objects.select_for_update().filter(is_current=True):
            previous.is_current = False
            record(previous, actor=actor, reason=f"由版本 {catalogue.version} 取代")
            previous.save(update_fields=["is_current"])
        catalogue.is_current = True
        record(catalogue, actor=actor, reason="设为当前版本")
        catalogue.save(update_fields=["is_current"])
    return catalogue


def _indicator_values(indicator: Indicator, row) -> dict:
    """The new values a row gives ``indicator`` (keys left out keep theirs), checked."""
    values = {}
    code = indicator.code
    if "name" in row:
        name = _text(
            row["name"], _("the name of indicator %(code)s") % {"code": code}, _RULE_SCORING
        )
        if len(name) > Indicator._meta.get_field("name").max_length:
            raise RuleViolation(_("The name of indicator %(code)s is too long.") % {"code": code})
        values["name"] = name
    if "max_points" in row:
        try:
            points = Decimal(str(row["max_points"]))
        except ArithmeticError:
            raise RuleViolation(
                _("The points of indicator %(code)s must be a number.") % {"code": code}
            ) from None
        if not points.is_finite() or points <= 0 or points >= 1000:
            raise RuleViolation(
                _("The points of indicator %(code)s must be above 0 and below 1000.")
                % {"code": code},
                _RULE_SCORING,
            )
        if points != points.quantize(Decimal("0.01")):
            raise RuleViolation(
                _("The points of indicator %(code)s have at most two decimals.") % {"code": code}
            )
        values["max_points"] = points.quantize(Decimal("0.01"))
    if "method" in row:
        if row["method"] not in Indicator.Method.values:
            raise RuleViolation(
                _("The scoring method of indicator %(code)s is not valid.") % {"code": code},
                _RULE_SCORING,
            )
        values["method"] = row["method"]
    if "guidance" in row:
        values["guidance"] = (row["guidance"] or "").strip()
    return values


def catalogue_indicators_update(
    *, catalogue: IndicatorCatalogue, actor, rows
) -> IndicatorCatalogue:
    """Change the name, points, scoring method and guidance of a version's indicators.

    ``rows``: mappings ``{"id": <indicator pk>, "name": str, "max_points": Decimal (more than
    0, at most 2 decimals), "method": "qualitative" | "sampled", "guidance": str}``; a key left
    out keeps the indicator's value and an indicator left out is unchanged. Refused
    (``RuleViolation``) when the version is used by a score sheet (locked: copy it with
    ``catalogue_new_version``), when a row names an indicator of another version or holds a
    bad value, and, for the current version, when a part's points would no longer add up to
    40 / 35 / 25 (004 §5.6.5.2). Audit department or technical manager.
    """
    policy.require(actor, "audits.manage_catalogue")
    with transaction.atomic():
        catalogue = lock(IndicatorCatalogue, catalogue.pk)
        # 004 §5.6.5.2: the points a sheet was scored against are evidence; never change them.
        if catalogue.is_locked:
            raise RuleViolation(
                _(
                    'The indicator catalogue "%(version)s" is used by score sheets and '
                    "cannot change; copy it to a new version and change that."
                )
                % {"version": catalogue.version},
                _RULE_SCORING,
            )
        indicators = {i.pk: i for i in catalogue.indicators.select_for_update()}
        changed: dict[int, list[str]] = {}
        for row in rows:
            try:
                indicator = indicators.get(int(row.get("id")))
            except (TypeError, ValueError):
                indicator = None
            if indicator is None:
                raise RuleViolation(
                    _('Indicator %(id)s is not in the indicator catalogue "%(version)s".')
                    % {"id": row.get("id"), "version": catalogue.version}
                )
            if indicator.pk in changed:
                raise RuleViolation(
                    _("Indicator %(code)s appears twice.") % {"code": indicator.code}
                )
            fields = []
            for name, value in _indicator_values(indicator, row).items():
                if getattr(indicator, name) != value:
                    setattr(indicator, name, value)
                    fields.append(name)
            changed[indicator.pk] = fields
        if catalogue.is_current:
            problems = part_total_problems((i.part, i.max_points) for i in indicators.values())
            if problems:
                raise RuleViolation(
                    _(
                        'The indicator catalogue "%(version)s" is the current version: its '
                        "parts must total 40/35/25: %(problems)s"
                    )
                    % {"version": catalogue.version, "problems": _("; ").join(problems)},
                    _RULE_SCORING,
                )
        codes = []
        for pk, fields in changed.items():
            if fields:
                indicator = indicators[pk]
                indicator.catalogue = catalogue
                indicator.save(update_fields=fields)
                codes.append(indicator.code)
        if codes:
            # Indicators keep no history of their own: the version's history says who and why.
            record(catalogue, actor=actor, reason="修改指标 " + "、".join(codes))
            catalogue.save()
    return catalogue
