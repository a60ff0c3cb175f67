"""Forms of the public complaint page, the client portal and the staff actions (status changes,
reissue, regulatory events, proposals, appeals). They only bind and validate input; the
services decide whether the change is allowed."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import GRADE_CHOICES
from certbody.bounds import BoundedForm
from certbody.reference import read_json
from certbody.widgets import DateInput
from certbody.workspace import ActionForm
from certificates import causes, numbering
from certificates.models import Appeal, Certificate, ClientRequest, Decision, RegulatoryEvent


def cnca_choices(table: str, codes=None) -> list[tuple[str, str]]:
    return [
        (code, f"{code} {label}")
        for code, label in read_json("cnca_codes.json")[table].items()
        if codes is None or code in codes
    ]


# --- public and portal ---------------------------------------------------------------------


class ComplaintForm(BoundedForm):
    """A complaint from anyone, without log-in (004 §8.1)."""

    bounds_model = "certificates.Appeal"

    name = forms.CharField(label=_("Your name or organisation"), max_length=100)
    contact = forms.CharField(
        label=_("Contact details"),
        max_length=200,
        help_text=_("Phone, e-mail or postal address, for the written answer."),
    )
    about_organization = forms.CharField(
        label=_("Certified organisation complained about (if any)"), max_length=200, required=False
    )
    certificate_number = forms.CharField(
        label=_("Certificate number (if any)"), max_length=24, required=False
    )
    subject = forms.CharField(label=_("Subject of the complaint"), max_length=200)
    description = forms.CharField(
        label=_("What happened"), max_length=5000, widget=forms.Textarea(attrs={"rows": 8})
    )
    # Left empty by people; bots fill every field.
    website = forms.CharField(
        label=_("Website"), required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError(_("The submission did not pass the check."))
        return ""

    def clean_contact(self):
        contact = self.cleaned_data["contact"].strip()
        if len(contact) < 5:
            raise forms.ValidationError(
                _("Enter a phone number, e-mail or address where we can reach you.")
            )
        return contact

    def clean_certificate_number(self):
        number = self.cleaned_data["certificate_number"].strip()
        if not number:
            return None
        try:
            number = str(numbering.parse_number(number))
        except ValueError:
            raise forms.ValidationError(_("This is not a valid certificate number.")) from None
        certificate = Certificate.objects.filter(number=number).first()
        if certificate is None:
            raise forms.ValidationError(_("No certificate has this number."))
        return certificate


class AppealForm(BoundedForm):
    """A client's appeal against a decision or a status change of its certificate (004 §8.1)."""

    bounds_model = "certificates.Appeal"

    decision = forms.ModelChoiceField(
        label=_("Certification decision appealed against"),
        queryset=Decision.objects.none(),
        required=False,
    )
    certificate = forms.ModelChoiceField(
        label=_("Certificate concerned (for a suspension, withdrawal or other status change)"),
        queryset=Certificate.objects.none(),
        required=False,
    )
    subject = forms.CharField(label=_("Subject of the appeal"), max_length=200)
    description = forms.CharField(
        label=_("Grounds of the appeal and what you ask for"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, decisions, certificates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].queryset = decisions
        self.fields["decision"].label_from_instance = lambda d: (
            f"{d.decided_on:%Y-%m-%d} {d.get_outcome_display()} · {d.audit.get_kind_display()}"
        )
        self.fields["certificate"].queryset = certificates
        self.fields["certificate"].label_from_instance = lambda c: (
            f"{c.number} ({c.get_status_display()})"
        )

    def clean(self):
        data = super().clean()
        if not data.get("decision") and not data.get("certificate"):
            raise forms.ValidationError(
                _("Choose the certification decision or the certificate you appeal against.")
            )
        return data


class ClientRequestForm(BoundedForm):
    """A client's request for a change, a cancellation or a suspension of its certificate."""

    bounds_model = "certificates.ClientRequest"

    kind = forms.ChoiceField(label=_("request"), choices=ClientRequest.Kind.choices)
    certificate = forms.ModelChoiceField(
        label=_("certificate"), queryset=Certificate.objects.none(), required=False
    )
    details = forms.CharField(
        label=_("what you ask for and why"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "For a change: the new name, address or scope. For a cancellation or a "
            "suspension: the reason and the date you wish it to take effect."
        ),
    )

    def __init__(self, *args, certificates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificate"].queryset = certificates
        self.fields["certificate"].label_from_instance = lambda c: (
            f"{c.number} ({c.get_status_display()})"
        )


# --- staff (workspace actions) -------------------------------------------------------------


def _today_input(label):
    return forms.DateField(label=label, widget=DateInput, initial=timezone.localdate)


class GrantForm(ActionForm):
    """Grant: the grade is the submitted score sheet's, shown and not chosen (004 §5.6.5.3)."""

    decided_on = _today_input(_("decided on"))
    star_grade = forms.ChoiceField(
        label=_("star grade (from the score sheet)"),
        choices=[("", "—"), *GRADE_CHOICES],
        required=False,
        disabled=True,
    )
    reasons = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sheet = getattr(self.obj, "score_sheet", None) if self.obj is not None else None
        submitted = sheet is not None and sheet.state == sheet.State.SUBMITTED
        self.fields["star_grade"].initial = sheet.grade if submitted else ""


class RefuseForm(forms.Form):
    decided_on = _today_input(_("decided on"))
    reasons = forms.CharField(
        label=_("reasons for refusal (told to the client in writing)"), widget=forms.Textarea
    )


class MaintainForm(forms.Form):
    decided_on = _today_input(_("decided on"))
    reasons = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea)


class _SchemeCauseForm(ActionForm):
    """A status change form whose ``cause`` choices are the certificate's scheme's table
    (``certificates.causes``: ZXRZ 004 §7.2.1 / §7.3.1, CAS 001 §9.3.2.1 / §9.3.3.1)."""

    cause_kind = "suspension"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scheme = getattr(self.obj, "scheme", None)
        if scheme is None:
            return
        table = causes.scheme_causes(scheme)
        field = self.fields["cause"]
        if self.cause_kind == "suspension":
            field.choices = causes.choices(table.suspension)
            field.label = _("suspension cause (%(rule)s)") % {"rule": table.suspension_rule}
        else:
            field.choices = causes.choices(table.withdrawal)
            field.label = _("withdrawal cause (%(rule)s)") % {"rule": table.withdrawal_rule}


class SuspendForm(_SchemeCauseForm):
    cause = forms.TypedChoiceField(
        label=_("cause (004 §7.2.1)"),
        coerce=int,
        choices=causes.choices(causes.SUSPENSION_CAUSES),
    )
    verified_on = forms.DateField(label=_("cause verified on"), widget=DateInput)
    starts_on = forms.DateField(label=_("suspended from"), widget=DateInput)
    ends_on = forms.DateField(label=_("suspended until"), widget=DateInput)
    licensing_decision_on = forms.DateField(
        label=_("licensing decision expected on"),
        required=False,
        widget=DateInput,
        help_text=_("Only for an expired licence whose renewal was accepted (001 §9.3.2.2)."),
    )
    reason = forms.CharField(label=_("particulars"), required=False, widget=forms.Textarea)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)


class RestoreForm(forms.Form):
    restored_on = forms.DateField(label=_("restored on"), widget=DateInput)
    evidence = forms.CharField(label=_("evidence"), widget=forms.Textarea)


class WithdrawForm(_SchemeCauseForm):
    cause_kind = "withdrawal"
    cause = forms.TypedChoiceField(
        label=_("cause (004 §7.3.1)"),
        coerce=int,
        choices=causes.choices(causes.WITHDRAWAL_CAUSES),
    )
    verified_on = forms.DateField(label=_("cause verified on"), widget=DateInput)
    withdrawn_on = forms.DateField(label=_("withdrawn on"), widget=DateInput)
    reason = forms.CharField(label=_("particulars"), required=False, widget=forms.Textarea)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)


class CancelForm(forms.Form):
    reason_code = forms.ChoiceField(label=_("reason"), choices=())
    cancelled_on = forms.DateField(label=_("cancelled on"), widget=DateInput)
    evidence = forms.CharField(
        label=_("the client's request"), required=False, widget=forms.Textarea
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_code"].choices = cnca_choices("cancellation_reason")


class ReissueForm(forms.Form):
    reason = forms.ChoiceField(label=_("change type"), choices=())
    reissued_on = forms.DateField(label=_("reissued on"), widget=DateInput)
    organization_name = forms.CharField(label=_("new organisation name"), required=False)
    registered_address = forms.CharField(label=_("new registered address"), required=False)
    scope_text = forms.CharField(label=_("new scope"), required=False, widget=forms.Textarea)
    business_scope_codes = forms.CharField(
        label=_("business scope codes"),
        required=False,
        help_text=_("Appendix B codes separated by commas, e.g. 24,30"),
    )
    star_grade = forms.ChoiceField(
        label=_("new star grade"), choices=[("", "—"), *GRADE_CHOICES], required=False
    )
    note = forms.CharField(label=_("note"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = cnca_choices(
            "change_type", codes={"01", "02", "05", "06", "99"}
        )

    def clean_business_scope_codes(self):
        text = self.cleaned_data["business_scope_codes"].replace("，", ",")
        try:
            return [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Enter numbers separated by commas.")) from None

    @property
    def service_data(self) -> dict:
        data = self.cleaned_data
        changes = {
            key: data[key]
            for key in ("organization_name", "registered_address", "scope_text", "star_grade")
            if data[key]
        }
        if data["business_scope_codes"]:
            changes["business_scope_codes"] = data["business_scope_codes"]
        return {
            "reason": data["reason"],
            "reissued_on": data["reissued_on"],
            "changes": changes,
            "note": data["note"],
        }


class ReissueActionForm(ReissueForm):
    """The reissue form whose cleaned data is ``certificate_reissue``'s keyword arguments."""

    def clean(self):
        super().clean()
        if self.errors:
            return self.cleaned_data
        return self.service_data


class ReduceScopeForm(_SchemeCauseForm):
    cause = forms.TypedChoiceField(
        label=_("cause (004 §7.2.1)"),
        coerce=int,
        choices=causes.choices(causes.SUSPENSION_CAUSES),
    )
    verified_on = forms.DateField(label=_("cause verified on"), widget=DateInput)
    reduced_on = forms.DateField(label=_("reduced on"), widget=DateInput)
    scope_text = forms.CharField(label=_("new scope"), widget=forms.Textarea)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)


class RegulatoryEventForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=RegulatoryEvent.Kind.choices)
    occurred_on = forms.DateField(label=_("occurred on"), widget=DateInput)
    notified_on = forms.DateField(
        label=_("notified on"),
        required=False,
        widget=DateInput,
        help_text=_("When the regulator issued its notice or the CB learned of the event."),
    )
    source = forms.CharField(label=_("source"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea)
    level = forms.ChoiceField(
        label=_("level"), choices=[("", "—"), *RegulatoryEvent.Level.choices], required=False
    )
    result = forms.ChoiceField(
        label=_("result"), choices=[("", "—"), *RegulatoryEvent.Result.choices], required=False
    )
    written_finding = forms.BooleanField(label=_("written nonconformity"), required=False)
    client_failed_to_report = forms.BooleanField(
        label=_("client failed to report"),
        required=False,
        help_text=_(
            "The client did not report this written nonconformity to the CB: the certificate "
            "is suspended at once (004 §5.9.2(3) note)."
        ),
    )
    failure_learned_on = forms.DateField(
        label=_("CB learned of the failure on"),
        required=False,
        widget=DateInput,
        help_text=_("The suspension starts on this day (default today)."),
    )
    major = forms.BooleanField(label=_("major accident"), required=False)


class RegulatoryEventCreateForm(RegulatoryEventForm):
    """A regulatory event recorded on its own page, about a certificate (by its number) or an
    organisation (by its USCC): typed, not chosen from lists that grow with the register.
    The cleaned data hold ``certificate`` and ``organization`` for the service."""

    certificate_number = forms.CharField(
        label=_("certificate number"),
        max_length=24,
        required=False,
        help_text=_("Leave empty to use the organisation's current certificate."),
    )
    organization_uscc = forms.CharField(
        label=_("organisation (unified social credit code)"), max_length=18, required=False
    )

    def clean_certificate_number(self):
        number = self.cleaned_data["certificate_number"].strip()
        if not number:
            return None
        certificate = Certificate.objects.filter(number=number).first()
        if certificate is None:
            raise forms.ValidationError(_("No certificate with this number."))
        return certificate

    def clean_organization_uscc(self):
        from applications.models import Organization

        uscc = self.cleaned_data["organization_uscc"].strip().upper()
        if not uscc:
            return None
        organization = Organization.objects.filter(uscc=uscc).first()
        if organization is None:
            raise forms.ValidationError(_("No organisation with this code."))
        return organization

    def clean(self):
        data = super().clean()
        data["certificate"] = data.pop("certificate_number", None)
        data["organization"] = data.pop("organization_uscc", None)
        if not self.errors and not data["certificate"] and not data["organization"]:
            raise forms.ValidationError(_("Give the certificate number or the organisation."))
        return data


class SurveillanceConclusionForm(forms.Form):
    """The team leader's conclusion on a completed surveillance audit (004 §5.12.6)."""

    concluded_on = forms.DateField(label=_("concluded on"), widget=DateInput)
    positive = forms.TypedChoiceField(
        label=_("conclusion"),
        choices=[
            ("yes", _("Positive: maintain the certification")),
            ("no", _("Not positive: refer to a decision maker")),
        ],
        coerce=lambda value: value == "yes",
    )
    note = forms.CharField(label=_("conclusion text"), required=False, widget=forms.Textarea)


class ProposalAcceptForm(forms.Form):
    verified_on = forms.DateField(label=_("cause verified on"), widget=DateInput)
    withdrawn_on = forms.DateField(label=_("withdrawn on"), widget=DateInput)
    evidence = forms.CharField(label=_("evidence"), required=False, widget=forms.Textarea)


class ProposalDismissForm(forms.Form):
    note = forms.CharField(label=_("why not"), widget=forms.Textarea)


class StaffAppealForm(forms.Form):
    """An appeal or complaint received by letter, e-mail or telephone, recorded by staff."""

    kind = forms.ChoiceField(label=_("kind"), choices=Appeal.Kind.choices)
    received_on = forms.DateField(label=_("received on"), widget=DateInput)
    organization = forms.ModelChoiceField(
        label=_("from organisation"), queryset=None, required=False
    )
    name = forms.CharField(label=_("name"), required=False, max_length=100)
    contact = forms.CharField(label=_("contact"), required=False, max_length=200)
    decision = forms.ModelChoiceField(
        label=_("about the decision"), queryset=Decision.objects.none(), required=False
    )
    certificate = forms.ModelChoiceField(
        label=_("about the certificate"), queryset=Certificate.objects.none(), required=False
    )
    about_organization = forms.CharField(
        label=_("about the organisation"), required=False, max_length=200
    )
    subject = forms.CharField(label=_("subject"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        from applications.models import Organization

        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = Organization.objects.order_by("name")
        self.fields["decision"].queryset = Decision.objects.select_related(
            "audit__programme__organization"
        )
        self.fields["certificate"].queryset = Certificate.objects.filter(head__isnull=True)


class AppealAcknowledgeForm(forms.Form):
    acknowledged_on = forms.DateField(label=_("acknowledged on"), widget=DateInput)


class AppealAssignForm(forms.Form):
    handler = forms.ModelChoiceField(label=_("handler"), queryset=None)

    def __init__(self, *args, **kwargs):
        from certbody.models import User

        super().__init__(*args, **kwargs)
        self.fields["handler"].queryset = User.objects.filter(
            is_staff=True, is_active=True
        ).order_by("username")


class AppealDecideForm(forms.Form):
    decided_on = forms.DateField(label=_("decided on"), widget=DateInput)
    outcome = forms.ChoiceField(label=_("outcome"), choices=Appeal.Outcome.choices)
    decision_text = forms.CharField(label=_("written decision"), widget=forms.Textarea)


class ObligationDoneForm(forms.Form):
    done_on = forms.DateField(label=_("reported on"), widget=DateInput)


class ClientRequestHandleForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("outcome"),
        choices=[
            (ClientRequest.State.HANDLED, _("Handled (carried out or under way)")),
            (ClientRequest.State.DECLINED, _("Declined")),
        ],
    )
    note = forms.CharField(
        label=_("what was done, or why not (told to the client)"), widget=forms.Textarea
    )
