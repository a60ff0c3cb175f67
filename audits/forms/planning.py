"""Programme and audit forms: programmes, special audits, schedule, time, sampling, team, plan,
meetings, start, complete, reports, terminate (004 §5.4–5.11)."""

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import Application, Contract, Site
from audits import rules, selectors
from audits.forms._common import _has
from audits.models import (
    Audit,
    AuditMeeting,
    AuditPlan,
    AuditProgramme,
    AuditTeamMember,
)
from certbody import roles
from certbody.bounds import BoundedForm
from certbody.models import CertificationBody
from certbody.widgets import DateInput
from certbody.workspace import ActionForm


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
            raise ValidationError(
                _(
                    "Line %(number)s must start with the auditor-days added or removed, e.g. "
                    '"-0.5 reason".'
                )
                % {"number": number}
            ) from None
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
        help_text=_(
            'One per line: days then reason, e.g. "-0.5 outlets close together, simple processes".'
        ),
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
        help_text=_(
            "One a line: name, role, position (e.g. Wang Wu, top manager, general manager)."
        ),
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
