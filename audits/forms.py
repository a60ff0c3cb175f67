"""Forms of the audits app, shared by the staff workspace (``audits.desks``), the client portal
(``audits.portal``).

They bind and validate input and propose values for the object (``ActionForm`` receives it
as ``obj``); the services decide whether the change is allowed. Nonconformity uploads go
through ``audits.nonconformities.attachment_check``, so a bad file is a form error.
"""

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, Contract, Organization, Site
from audits import rules, selectors, services
from audits.models import (
    AsrpAuditActivity,
    AsrpEligibilityCheck,
    AsrpIndicator,
    Audit,
    AuditMeeting,
    Auditor,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
    Indicator,
    Nonconformity,
)
from certbody import roles, uploads
from certbody.bounds import BoundedForm
from certbody.lifecycle import RuleViolation
from certbody.models import BusinessScope, CertificationBody
from certbody.widgets import DateInput
from certbody.workspace import ActionForm


def _textarea(rows=5):
    return forms.Textarea(attrs={"rows": rows})


class NonconformityAnswerForm(BoundedForm):
    """The client's answer: cause analysis, correction, corrective action, evidence files
    (004 §5.10.1); for a minor NC, optionally a plan verified at the next audit (§5.10.2)."""

    bounds_model = "audits.NonconformityResponse"

    cause_analysis = forms.CharField(label=_("Cause analysis"), widget=_textarea())
    correction = forms.CharField(label=_("Correction"), widget=_textarea())
    corrective_action = forms.CharField(label=_("Corrective action"), widget=_textarea())
    is_plan = forms.BooleanField(
        label=_("This is a corrective action plan, to be verified at the next audit"),
        required=False,
    )
    attachments = uploads.MultipleFileField(
        label=_("Evidence files"),
        required=False,
        help_text=_("PDF, JPEG, PNG, DOCX or XLSX; at most 10 files of 10 MB each."),
    )

    def __init__(self, *args, nonconformity: Nonconformity | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if nonconformity is not None and nonconformity.severity != Nonconformity.Severity.MINOR:
            del self.fields["is_plan"]  # 004 §5.10.2: plans for minor NCs only

    def clean_attachments(self):
        files = self.cleaned_data["attachments"]
        try:
            services.attachments_check(files)
        except RuleViolation as exc:
            raise forms.ValidationError(str(exc)) from None
        return files


class NonconformityRaiseForm(forms.Form):
    """Staff raise an NC on an audit in progress or completed (004 §5.10.1)."""

    audit = forms.ModelChoiceField(
        label=_("audit"),
        queryset=Audit.objects.filter(
            state__in=[Audit.State.IN_PROGRESS, Audit.State.COMPLETED]
        ).select_related("programme__organization"),
    )
    severity = forms.ChoiceField(label=_("severity"), choices=Nonconformity.Severity.choices)
    clause = forms.CharField(label=_("clause of the criteria"), max_length=60)
    description = forms.CharField(label=_("nonconformity"), widget=_textarea(4))
    evidence = forms.CharField(label=_("objective evidence"), widget=_textarea(4))
    raised_on = forms.DateField(label=_("raised on"), widget=DateInput, initial=timezone.localdate)


class NonconformityReviewForm(forms.Form):
    """The team's verification record when accepting an answer."""

    note = forms.CharField(label=_("verification / reasons"), widget=_textarea(3), required=False)
    reviewed_on = forms.DateField(
        label=_("reviewed on"), widget=DateInput, initial=timezone.localdate
    )


class NonconformityRejectForm(NonconformityReviewForm):
    """Rejecting needs the reasons the client must address (004 §5.10.2)."""

    note = forms.CharField(label=_("reasons"), widget=_textarea(3))


class NonconformityVerifyPlanForm(ActionForm):
    """Verification of a minor NC's accepted plan at a later audit (004 §5.10.2).

    Given the NC (``obj``) and the user, the audits offered are the organisation's later audits
    in progress or completed on whose team the user audits (the service checks it again).
    """

    audit = forms.ModelChoiceField(
        label=_("verified at audit"),
        queryset=Audit.objects.filter(
            state__in=[Audit.State.IN_PROGRESS, Audit.State.COMPLETED]
        ).select_related("programme__organization"),
    )
    effective = forms.BooleanField(
        label=_("corrective action effective"),
        required=False,
        help_text=_("If not effective, raise a new nonconformity on that audit first."),
    )
    note = forms.CharField(label=_("what was verified"), widget=_textarea(3))
    verified_on = forms.DateField(
        label=_("verified on"), widget=DateInput, initial=timezone.localdate
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        nc = self.obj
        if nc is None:
            return
        audits = (
            self.fields["audit"]
            .queryset.filter(programme__organization_id=nc.audit.programme.organization_id)
            .exclude(pk=nc.audit_id)
        )
        if self.user is not None and not self.user.is_superuser:
            audits = audits.filter(
                team__user=self.user, team__role__in=selectors.AUDITING_ROLES
            ).distinct()
        self.fields["audit"].queryset = audits


# --- programmes and audits --------------------------------------------------------------


class HeadcountForm(ActionForm):
    headcount = forms.IntegerField(label=_("effective headcount"), min_value=1)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        self.fields["headcount"].initial = obj.planning_headcount


class SpecialAuditForm(forms.Form):
    special_kind = forms.ChoiceField(label=_("special audit kind"), choices=Audit.SpecialKind)
    reason = forms.CharField(label=_("reason"), widget=forms.Textarea(attrs={"rows": 2}))
    short_notice = forms.BooleanField(label=_("short-notice audit"), required=False)
    notified_on = forms.DateField(
        label=_("regulator's notice date"),
        required=False,
        widget=DateInput,
        help_text=_("For a regulator's written finding: the audit is due within 30 days."),
    )
    due_on = forms.DateField(label=_("due on"), required=False, widget=DateInput)


class AsrpForm(forms.Form):
    reliance = forms.CharField(
        label=_("reliance on internal audit and management review"), widget=forms.Textarea
    )
    witnessing_criteria = forms.CharField(
        label=_("internal audit witnessing criteria"), widget=forms.Textarea
    )
    internal_auditor_criteria = forms.CharField(
        label=_("acceptance of internal auditors and their reports"), widget=forms.Textarea
    )
    adjustment_criteria = forms.CharField(
        label=_("criteria for adjusting the programme"), widget=forms.Textarea
    )
    audit_components = forms.CharField(
        label=_("components each audit must cover"), widget=forms.Textarea
    )
    special_competences = forms.CharField(
        label=_("special auditor competences"), widget=forms.Textarea
    )


class ScheduleForm(forms.Form):
    planned_start = forms.DateField(label=_("planned start"), widget=DateInput)
    planned_end = forms.DateField(label=_("planned end"), widget=DateInput)
    planned_days = forms.DecimalField(
        label=_("audit time (auditor-days)"),
        min_value=0.5,
        decimal_places=1,
        required=False,
        help_text=_("Leave empty to keep the proposed or determined time."),
    )


class TeamMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("member"), queryset=None)
    role = forms.ChoiceField(label=_("role"), choices=AuditTeamMember.Role.choices)
    whole_audit = forms.BooleanField(
        label=_("present for the whole audit"), required=False, initial=True
    )
    tasks = forms.CharField(label=_("tasks in the audit plan"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(is_staff=True, is_active=True)
        self.fields["user"].queryset = (
            (users.filter(groups__name=roles.AUDITOR) | users.filter(auditor_profile__active=True))
            .distinct()
            .order_by("username")
        )


class TeamRemoveForm(ActionForm):
    user = forms.ModelChoiceField(label=_("member"), queryset=None)
    reason = forms.CharField(label=_("reason"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        self.fields["user"].queryset = get_user_model().objects.filter(audit_memberships__audit=obj)


class StartForm(forms.Form):
    started_on = forms.DateField(
        label=_("actual start"), widget=DateInput, initial=timezone.localdate
    )


class CompleteForm(forms.Form):
    ended_on = forms.DateField(label=_("actual end"), widget=DateInput, initial=timezone.localdate)
    findings = forms.CharField(label=_("findings"), required=False, widget=forms.Textarea)
    recommendation_positive = forms.TypedChoiceField(
        label=_("team recommendation"),
        choices=[("1", _("Recommend certification / maintenance")), ("0", _("Do not recommend"))],
        coerce=lambda v: v == "1",
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("termination reason"), widget=forms.Textarea)


def parse_adjustments(text: str) -> list[tuple[Decimal, str]]:
    """Lines "+0.5 理由" / "-1 理由" → [(days, reason)]; ValidationError on a bad line."""
    result = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        days, _sep, reason = line.partition(" ")
        try:
            value = Decimal(days.replace("＋", "+").replace("－", "-"))
        except ArithmeticError:
            raise ValidationError(f"第 {number} 行应以增减的人日开头，如“-0.5 理由”") from None
        result.append((value, reason.strip()))
    return result


class DetermineTimeForm(ActionForm):
    bounds_model = "audits.AuditTimeDetermination"

    full_time_headcount = forms.IntegerField(label=_("full-time people in scope"), min_value=0)
    part_time_hours = forms.DecimalField(
        label=_("hours of part-time and temporary staff"),
        min_value=0,
        decimal_places=1,
        initial=0,
        help_text=_("Converted to full-time equivalents (004 Appendix A notes 1–2)."),
    )
    standard_hours = forms.DecimalField(
        label=_("hours of one full-time person"),
        min_value=1,
        decimal_places=1,
        initial=rules.STANDARD_ANNUAL_HOURS,
    )
    adjustments = forms.CharField(
        label=_("adjustments"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_('One per line: days then reason, e.g. "-0.5 服务网点集中，流程简单".'),
    )
    onsite_days = forms.DecimalField(label=_("on-site time"), min_value=0, decimal_places=1)
    remote_days = forms.DecimalField(
        label=_("of which remote"), min_value=0, decimal_places=1, initial=0
    )
    remote_reason = forms.CharField(
        label=_("remote methods and why"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    asrp_justification = forms.CharField(
        label=_("ASRP justification"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        proposal = selectors.audit_time_propose(obj)
        determination = getattr(obj, "time_determination", None)
        self.fields["full_time_headcount"].initial = (
            determination.full_time_headcount if determination else proposal.effective_headcount
        )
        self.fields["onsite_days"].initial = (
            determination.onsite_days if determination else proposal.onsite_days
        )
        if determination:
            self.fields["part_time_hours"].initial = determination.part_time_hours
            self.fields["standard_hours"].initial = determination.standard_hours
            self.fields["remote_days"].initial = determination.remote_days
            self.fields["remote_reason"].initial = determination.remote_reason
            self.fields["adjustments"].initial = "\n".join(
                f"{a.days:+} {a.reason}" for a in determination.adjustments.all()
            )
        reference = (
            f"，初次认证审核时间 {proposal.reference_days}" if proposal.reference_days else ""
        )
        self.fields["adjustments"].help_text = (
            f"附录A {proposal.table_days} 人日{reference}，最少 {proposal.least_days} 人日，"
            f"建议 {proposal.total_days} 人日。每行一项：增减人日 + 空格 + 理由，如“-0.5 理由”。"
        )
        if not proposal.asrp:
            del self.fields["asrp_justification"]

    def clean_adjustments(self):
        return parse_adjustments(self.cleaned_data.get("adjustments", ""))


class SamplingForm(ActionForm):
    similar_sites = forms.ModelMultipleChoiceField(
        label=_("similar sites (same activities, processes and risk)"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sampled_sites = forms.ModelMultipleChoiceField(
        label=_("sites audited"),
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    similarity_reason = forms.CharField(
        label=_("why the sampled sites are similar"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        sites = Site.objects.filter(organization_id=obj.programme.organization_id)
        self.fields["similar_sites"].queryset = sites
        self.fields["sampled_sites"].queryset = sites
        proposal = selectors.sampling_plan_propose(obj)
        self.fields["similar_sites"].initial = [p.site.pk for p in proposal.sites if p.similar]
        self.fields["sampled_sites"].initial = [p.site.pk for p in proposal.sites if p.selected]
        self.fields["sampled_sites"].help_text = (
            f"建议：相似场所 X={proposal.similar_sites_count}，"
            f"最少抽取 Y={proposal.minimum_sample}（004 §5.4.3.2）"
        )
        for item in proposal.sites:
            self.fields[f"days_{item.site.pk}"] = forms.DecimalField(
                label=f"{item.site} 现场审核人日",
                required=False,
                min_value=0,
                max_digits=5,  # the column of SamplingPlanSite.onsite_days
                decimal_places=1,
                initial=item.onsite_days,
                help_text=f"附录A现场审核时间 {item.table_onsite_days} 人日，不少于其 50 %",
            )

    @staticmethod
    def service_kwargs(data: dict) -> dict:
        """The ``sampling_plan_record`` arguments from the cleaned data."""
        return {
            "similar_sites": list(data["similar_sites"]),
            "sampled_sites": list(data["sampled_sites"]),
            "similarity_reason": data["similarity_reason"],
            "site_onsite_days": {
                int(name.removeprefix("days_")): value
                for name, value in data.items()
                if name.startswith("days_") and value is not None
            },
        }


_OBJECTIVES = {
    Audit.Kind.DOCUMENT_REVIEW: "审查售后服务体系文件的符合性、适宜性和充分性（004 §5.6.2）",
    Audit.Kind.STAGE2: "评价售后服务认证的实施情况，对 GB/T 27922 的符合性和体系有效性，确定星级"
    "（004 §5.6.4）",
    Audit.Kind.SURVEILLANCE: "确认获证组织持续有效运行售后服务认证体系并符合认证要求（004 §5.7.1）",
    Audit.Kind.RECERTIFICATION: "判断售后服务认证体系作为一个整体持续符合 GB/T 27922 并有效运行"
    "（004 §5.8.2）",
    Audit.Kind.SPECIAL: "调查并核实特殊审核的原因所涉及的情况（004 §5.9）",
}


class PlanForm(ActionForm):
    objectives = forms.CharField(label=_("objectives"), widget=forms.Textarea(attrs={"rows": 2}))
    criteria = forms.CharField(label=_("criteria"), widget=forms.Textarea(attrs={"rows": 2}))
    scope_text = forms.CharField(label=_("scope"), widget=forms.Textarea(attrs={"rows": 2}))
    sites = forms.ModelMultipleChoiceField(
        label=_("sites covered"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    schedule = forms.CharField(
        label=_("times and activities"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    shifts_covered = forms.CharField(label=_("shifts audited"))
    unaudited_shifts = forms.CharField(label=_("shifts not audited"), required=False)
    unaudited_shifts_reason = forms.CharField(
        label=_("why not audited"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    remote_methods = forms.CharField(
        label=_("remote audit methods"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        sites = Site.objects.filter(organization_id=obj.programme.organization_id)
        self.fields["sites"].queryset = sites
        plan = AuditPlan.objects.filter(audit=obj).first()
        if plan is not None:
            for name in self.fields:
                if name != "sites":
                    self.fields[name].initial = getattr(plan, name)
            self.fields["sites"].initial = list(plan.sites.values_list("pk", flat=True))
            return
        try:
            body = CertificationBody.get()
            standard = body.standard
        except CertificationBody.DoesNotExist:
            standard = "GB/T 27922《商品售后服务评价体系》"
        scheme = dict(AuditProgramme._meta.get_field("scheme").choices)[obj.programme.scheme]
        self.fields["objectives"].initial = _OBJECTIVES[obj.kind]
        self.fields["criteria"].initial = f"{standard}；{scheme}；认证合同及适用的法律法规"
        self.fields["scope_text"].initial = obj.programme.application.scope_text
        sampled = obj.sampling_plan.rows.filter(selected=True) if _has(obj, "sampling_plan") else []
        self.fields["sites"].initial = [r.site_id for r in sampled] or [s.pk for s in sites]
        self.fields["shifts_covered"].initial = "正常营业班次"


class MeetingForm(forms.Form):
    """The opening or closing meeting (004 §5.5.2); attendees one a line: name, role, position."""

    kind = forms.ChoiceField(label=_("meeting"), choices=AuditMeeting.Kind.choices)
    held_on = forms.DateField(label=_("held on"), widget=DateInput, initial=timezone.localdate)
    attendees = forms.CharField(
        label=_("attendees"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One a line: name, role, position (e.g. 王五, 最高管理者, 总经理)."),
    )
    top_manager_present = forms.BooleanField(
        label=_("top manager present"), required=False, initial=True
    )
    absence_reason = forms.CharField(
        label=_("why the top manager was absent"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    delegate = forms.CharField(label=_("senior manager delegated"), required=False)
    check_in_confirmed = forms.BooleanField(label=_("CNCA on-site check-in done"), required=False)

    def clean_attendees(self) -> list[dict]:
        rows = []
        for line in self.cleaned_data["attendees"].splitlines():
            parts = [p.strip() for p in re.split(r"[,，、\t]", line)]
            if not any(parts):
                continue
            parts += ["", "", ""]
            rows.append({"name": parts[0], "role": parts[1], "position": parts[2]})
        return rows


class PlanSendForm(forms.Form):
    sent_on = forms.DateField(
        label=_("sent to the client on"), widget=DateInput, initial=timezone.localdate
    )


class PlanConfirmForm(BoundedForm):
    bounds_model = "audits.AuditPlan"

    confirmed_on = forms.DateField(
        label=_("confirmed on"), widget=DateInput, initial=timezone.localdate
    )
    confirmed_by = forms.CharField(label=_("confirmed for the client by"))


class PlanReportForm(forms.Form):
    reported_on = forms.DateField(
        label=_("reported to CNCA on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpActivityForm(ActionForm):
    activity = forms.ChoiceField(label=_("activity"), choices=())
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        obj = self.obj
        self.fields["activity"].choices = [
            (a.activity, a.get_activity_display()) for a in obj.asrp_activities.all()
        ]


def _has(obj, name) -> bool:
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


# --- workspace forms ------------------------------------------------------------------------


class ProgrammeCreateForm(forms.Form):
    """The accepted application, with a signed contract, whose cycle the programme plans."""

    application = forms.ModelChoiceField(
        label=_("application"), queryset=Application.objects.none()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = (
            Application.objects.filter(
                state=Application.State.ACCEPTED,
                contract__state=Contract.State.SIGNED,
                programme__isnull=True,
            )
            .select_related("organization")
            .order_by("organization__name", "pk")
        )


class PlanCycleForm(forms.Form):
    """The decision date and expiry that the rest of the cycle is planned from (004 §5.4.1)."""

    decision_date = forms.DateField(label=_("certification decision date"), widget=DateInput)
    expires_on = forms.DateField(label=_("certificate expires on"), widget=DateInput)

    def clean(self):
        data = super().clean()
        decided, expires = data.get("decision_date"), data.get("expires_on")
        if decided and expires and expires <= decided:
            raise ValidationError(_("The expiry must be after the decision date."))
        return data


class ReplanForm(forms.Form):
    reason = forms.CharField(label=_("reason"), required=False, max_length=90)


class NonconformityRaiseOnAuditForm(NonconformityRaiseForm):
    """Raise an NC from the audit's page: the audit is the page's (no choice)."""

    def __init__(self, *args, obj=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["audit"]


class ReportSignForm(forms.Form):
    signed_on = forms.DateField(label=_("signed on"), widget=DateInput, initial=timezone.localdate)


class ReportDeliverForm(forms.Form):
    delivered_on = forms.DateField(
        label=_("delivered on"), widget=DateInput, initial=timezone.localdate
    )
    evidence = forms.CharField(
        label=_("proof of delivery"),
        max_length=300,
        help_text=_("Signed receipt, courier number or e-mail (004 §5.11.5)."),
    )


def _scope_choices():
    return [(s.code, str(s)) for s in BusinessScope.objects.order_by("code")]


class AuditorRegisterForm(forms.Form):
    """Register a staff member as an auditor or technical expert (004 §4.2)."""

    user = forms.ModelChoiceField(label=_("user"), queryset=None)
    qualification = forms.ChoiceField(
        label=_("qualification"), choices=Auditor.Qualification.choices
    )
    registration_number = forms.CharField(
        label=_("registration number"), required=False, max_length=40
    )
    registration_valid_until = forms.DateField(
        label=_("registration valid until"), required=False, widget=DateInput
    )
    is_full_time = forms.BooleanField(label=_("full-time (专职)"), required=False)
    notes = forms.CharField(label=_("notes"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(
                is_staff=True,
                is_active=True,
                organization__isnull=True,
                auditor_profile__isnull=True,
            )
            .order_by("username")
        )


class CompetenceGrantForm(forms.Form):
    """Competence for one business scope category with its evidence (004 §3.5, §3.6)."""

    scope_code = forms.TypedChoiceField(
        label=_("business scope category"), choices=_scope_choices, coerce=int
    )
    evidence = forms.CharField(label=_("evidence"), widget=_textarea(3))
    granted_on = forms.DateField(
        label=_("granted on"), widget=DateInput, initial=timezone.localdate
    )
    valid_until = forms.DateField(label=_("valid until"), required=False, widget=DateInput)


class ConflictDeclareForm(forms.Form):
    """A declaration of interest (or of none) in one client (004 §4.3)."""

    organization = forms.ModelChoiceField(
        label=_("organisation"), queryset=Organization.objects.order_by("name")
    )
    has_interest = forms.BooleanField(
        label=_("has an interest in the client"),
        required=False,
        help_text=_("Checked: a conflict of interest; the auditor may not audit this client."),
    )
    description = forms.CharField(label=_("description"), required=False, widget=_textarea(3))
    declared_on = forms.DateField(
        label=_("declared on"), widget=DateInput, initial=timezone.localdate
    )


# --- ASRP (seed 000) ------------------------------------------------------------------------


class AsrpCreateForm(AsrpForm):
    """Design an ASRP for a programme of a recertification cycle (000 §4.1.1) with the six
    contents of 000 §4.3.1–4.3.6; the service checks the full normal cycle."""

    programme = forms.ModelChoiceField(label=_("programme"), queryset=AuditProgramme.objects.none())

    field_order = ["programme"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = (
            AuditProgramme.objects.filter(
                state=AuditProgramme.State.ACTIVE,
                cycle__gte=1,
                application__kind=Application.Kind.RECERTIFICATION,
                asrp__isnull=True,
            )
            .select_related("organization")
            .order_by("organization__name", "cycle")
        )


class AsrpEligibilityForm(forms.Form):
    """One precondition of 000 §4.1.2–4.1.6 / §4.4.1 with its evidence; the full cycle
    (000 §4.1.1) is checked by the system, so it is not offered."""

    criterion = forms.ChoiceField(
        label=_("criterion"),
        choices=[
            c
            for c in AsrpEligibilityCheck.Criterion.choices
            if c[0] != AsrpEligibilityCheck.Criterion.FULL_CYCLE
        ],
    )
    met = forms.BooleanField(label=_("met"), required=False)
    evidence = forms.CharField(label=_("evidence"), widget=_textarea(2))
    checked_on = forms.DateField(
        label=_("checked on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpIndicatorForm(forms.Form):
    name = forms.CharField(label=_("indicator"), max_length=200)
    target = forms.CharField(label=_("target"), max_length=200)
    method = forms.CharField(label=_("how and how often it is measured"), required=False)
    agreed_on = forms.DateField(label=_("agreed on"), widget=DateInput)


class AsrpIndicatorResultForm(ActionForm):
    """A result of one of the ASRP's (``obj``) indicators for a period (000 §4.1.3)."""

    indicator = forms.ModelChoiceField(label=_("indicator"), queryset=AsrpIndicator.objects.none())
    period = forms.CharField(label=_("period"), max_length=40)
    period_end = forms.DateField(label=_("period ends on"), widget=DateInput)
    value = forms.CharField(label=_("result"), max_length=200)
    met = forms.BooleanField(label=_("target met"), required=False)
    evidence = forms.CharField(label=_("evidence"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = self.obj.indicators.all()


class AsrpApproveForm(forms.Form):
    approved_on = forms.DateField(
        label=_("approved on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpNotifyForm(forms.Form):
    notified_on = forms.DateField(
        label=_("accreditation body notified on"), widget=DateInput, initial=timezone.localdate
    )


class AsrpEndForm(forms.Form):
    ended_on = forms.DateField(label=_("ended on"), widget=DateInput, initial=timezone.localdate)
    reason = forms.CharField(label=_("why ended"), widget=_textarea(2))


class AsrpActivityChoiceForm(ActionForm):
    """A mandatory activity (000 §4.2.2 b) still open on one of the ASRP's (``obj``) audits."""

    activity = forms.ModelChoiceField(
        label=_("activity"), queryset=AsrpAuditActivity.objects.none()
    )
    notes = forms.CharField(label=_("notes"), required=False, widget=_textarea(2))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["activity"]
        field.queryset = AsrpAuditActivity.objects.filter(
            audit__programme_id=self.obj.programme_id,
            audit__state__in=[Audit.State.PLANNED, Audit.State.IN_PROGRESS],
            covered=False,
        ).select_related("audit")
        field.label_from_instance = lambda row: f"{row.audit} · {row.get_activity_display()}"


# --- indicator catalogue (004 §5.6.5.2) -----------------------------------------------------


class CatalogueNewVersionForm(forms.Form):
    version = forms.CharField(label=_("new version"), max_length=20)
    title = forms.CharField(
        label=_("title"), max_length=200, required=False, help_text=_("Empty: keep the title.")
    )


class CatalogueIndicatorsForm(ActionForm):
    """Name, points, scoring method and guidance of every indicator of a version (``obj``),
    four fields per indicator (``name_<pk>``, ``max_points_<pk>``, ``method_<pk>``,
    ``guidance_<pk>``) in the catalogue's order. ``rows`` turns the cleaned data into the rows
    of ``score_sheets.catalogue_indicators_update``, which checks the totals and the lock."""

    ROW_FIELDS = ("name", "max_points", "method", "guidance")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for indicator in self.obj.indicators.all():
            pk, code = indicator.pk, indicator.code
            self.fields[f"name_{pk}"] = forms.CharField(
                label=f"{code} {_('indicator')}",
                max_length=Indicator._meta.get_field("name").max_length,
                initial=indicator.name,
            )
            self.fields[f"max_points_{pk}"] = forms.DecimalField(
                label=f"{code} {_('points')}",
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0.01"),
                initial=indicator.max_points,
                help_text=indicator.get_part_display(),  # the label names the part's total
            )
            self.fields[f"method_{pk}"] = forms.ChoiceField(
                label=f"{code} {_('scoring')}",
                choices=Indicator.Method.choices,
                initial=indicator.method,
            )
            self.fields[f"guidance_{pk}"] = forms.CharField(
                label=f"{code} {_('guidance for the auditor')}",
                required=False,
                widget=_textarea(2),
                initial=indicator.guidance,
            )

    @classmethod
    def rows(cls, data: dict) -> list[dict]:
        """``[{"id": pk, "name": …, "max_points": Decimal, "method": …, "guidance": …}]``."""
        rows: dict[int, dict] = {}
        for key, value in data.items():
            name, _sep, pk = key.rpartition("_")
            if name in cls.ROW_FIELDS and pk.isdigit():
                rows.setdefault(int(pk), {"id": int(pk)})[name] = value
        return list(rows.values())
