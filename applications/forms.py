"""Forms for applications and contracts: the staff's (workspace and admin) and the client
portal's (online application with documents, more documents, contract sign-off, registration).

Each staff form's cleaned data are the keyword arguments of the service it confirms. Uploads are
checked by ``certbody.uploads`` in the form already (a bad file is a form error) and again by
the service.
"""

from decimal import Decimal

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import UsernameField
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications import eligibility, pending_uploads, selectors, services
from applications.models import (
    GRADE_CHOICES,
    ApplicationDocument,
    ApplicationReview,
    Contract,
    Invoice,
)
from certbody import uploads
from certbody.bounds import BoundedForm
from certbody.lifecycle import RuleViolation
from certbody.models import BusinessScope, User
from certbody.widgets import DateInput
from certbody.workspace import ActionForm

_FILES_HELP = _("PDF, JPEG, PNG, DOCX or XLSX; at most 10 files of 10 MB each.")


class NewApplicationForm(BoundedForm):
    bounds_model = "applications.Application"

    scope_text = forms.CharField(
        label=_("requested scope"), widget=forms.Textarea(attrs={"rows": 2})
    )
    headcount = forms.IntegerField(label=_("effective headcount in scope"), min_value=1)
    # A checkbox list (works without JavaScript) with a search box added by a static script
    # (applications/static/applications/scope_picker.js) on the portal's form (issue #14).
    business_scope_codes = forms.TypedMultipleChoiceField(
        label=_("business scope categories"),
        coerce=int,
        choices=(),
        widget=forms.CheckboxSelectMultiple,
    )
    requested_grade = forms.ChoiceField(label=_("requested star grade"), choices=GRADE_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["business_scope_codes"].choices = [
            (s.code, str(s)) for s in BusinessScope.objects.all()
        ]


class ReviewForm(ActionForm):
    """The review checklist with the applicant's eligibility (004 §5.1.2(3)–(7)); each
    eligibility condition has a note, pre-filled (with the condition unticked) from what the
    CB's records say about the organisation, or from the review already recorded."""

    information_sufficient = forms.BooleanField(label=_("information sufficient"), required=False)
    legal_status_verified = forms.BooleanField(label=_("legal status verified"), required=False)
    differences_resolved = forms.BooleanField(
        label=_("differences of understanding resolved"), required=False
    )
    scope_defined = forms.BooleanField(label=_("scope defined"), required=False)
    competence_available = forms.BooleanField(label=_("CB competent for the scope"), required=False)
    sites_considered = forms.BooleanField(
        label=_("sites, headcount and audit time considered"), required=False
    )
    notes = forms.CharField(
        label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        notes = self.fields.pop("notes")
        application = self.obj
        review = getattr(application, "review", None) if application is not None else None
        prefilled = {}
        if application is not None and review is None:
            prefilled = eligibility.prefill(
                eligibility.findings(application.organization, timezone.localdate())
            )
        for name, (label, clause) in eligibility.CONDITIONS.items():
            self.fields[name] = forms.BooleanField(label=f"{label} ({clause})", required=False)
            self.fields[f"{name}_note"] = forms.CharField(
                label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
            if review is not None:
                self.initial.setdefault(name, getattr(review, name))
                self.initial.setdefault(f"{name}_note", getattr(review, f"{name}_note"))
            elif name in prefilled:
                self.initial.setdefault(f"{name}_note", prefilled[name][1])
        if review is not None:
            for name in ApplicationReview.CHECKS[:6]:
                self.initial.setdefault(name, getattr(review, name))
            self.initial.setdefault("notes", review.notes)
        self.fields["notes"] = notes


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("reasons for rejection"), widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectionNoticeForm(forms.Form):
    by_post = forms.BooleanField(
        label=_("sent by post (the applicant has no e-mail address)"), required=False
    )


def _fee_field(label):
    return forms.DecimalField(label=label, min_value=0, decimal_places=2, initial=0, required=False)


class ContractFeesForm(ActionForm):
    """The contract's fee schedule (CNY); the contract's fee is their total. On a contract's
    page the fields start from its present fees."""

    bounds_model = "applications.Contract"

    application_fee = _fee_field(_("application fee (CNY)"))
    audit_fee = _fee_field(_("audit fee (CNY)"))
    certificate_fee = _fee_field(_("certificate fee (CNY)"))
    surveillance_fee = _fee_field(_("surveillance fee per audit (CNY)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if isinstance(self.obj, Contract):
            for name in Contract.FEE_FIELDS:
                self.fields[name].initial = getattr(self.obj, name)


class ContractForm(ContractFeesForm):
    terms = forms.CharField(
        label=_("terms"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class InvoiceForm(BoundedForm):
    bounds_model = "applications.Invoice"

    number = forms.CharField(label=_("invoice number"), max_length=40)
    kind = forms.ChoiceField(label=_("fee invoiced"), choices=Invoice.Kind.choices)
    amount = forms.DecimalField(
        label=_("amount (CNY)"), min_value=Decimal("0.01"), decimal_places=2
    )
    issued_on = forms.DateField(label=_("invoiced on"), widget=DateInput)
    due_on = forms.DateField(label=_("payment due on"), widget=DateInput)
    note = forms.CharField(label=_("note"), required=False, max_length=300)


class PaymentForm(ActionForm):
    """A payment; on the contract's page the invoice is chosen among its unpaid ones."""

    bounds_model = "applications.Payment"

    amount = forms.DecimalField(
        label=_("amount (CNY)"), min_value=Decimal("0.01"), decimal_places=2
    )
    received_on = forms.DateField(label=_("received on"), widget=DateInput)
    reference = forms.CharField(label=_("payment reference"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _invoice_choice(self, waived=True)


class WaiverForm(ActionForm):
    """The technical manager's waiver of an unpaid invoice, with the reason."""

    reason = forms.CharField(
        label=_("reason for the waiver"), widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _invoice_choice(self, waived=False)


def _invoice_choice(form, *, waived: bool) -> None:
    """On a contract's page, a first field choosing among the contract's unpaid invoices
    (``waived``: all of them, else those that hold back the certificate); on an invoice's
    page, none."""
    if not isinstance(form.obj, Contract):
        return
    if waived:
        rows = selectors.unpaid_invoices(form.obj)
    else:  # a waiver: only what holds back the certificate
        rows = selectors.unpaid_certification_invoices(form.obj)
    unpaid = [row.invoice.pk for row in rows]
    field = forms.ModelChoiceField(
        label=_("invoice"), queryset=Invoice.objects.filter(pk__in=unpaid).order_by("issued_on")
    )
    form.fields = {"invoice": field, **form.fields}


class SignForm(forms.Form):
    signed_on = forms.DateField(label=_("signed on"), widget=DateInput)
    signed_by_client = forms.CharField(label=_("signed for the client by"), max_length=50)


def payment_record(*, actor, invoice, contract=None, **payment):
    """``PaymentForm`` → ``services.payment_record``; from a contract's page the invoice must
    be one of that contract's."""
    _same_contract(invoice, contract)
    return services.payment_record(invoice=invoice, actor=actor, **payment)


def fee_waiver_record(*, actor, invoice, reason, contract=None):
    """``WaiverForm`` → ``services.fee_waiver_record`` (the invoice checked as above)."""
    _same_contract(invoice, contract)
    return services.fee_waiver_record(invoice=invoice, actor=actor, reason=reason)


def _same_contract(invoice, contract) -> None:
    if contract is not None and invoice.contract_id != contract.pk:
        raise RuleViolation(_("The invoice belongs to another contract."))


def review_record(*, application, actor, notes="", **fields):
    """``ReviewForm``'s flat check and note fields → ``services.application_review_record``."""
    eligibility_notes = {
        name.removesuffix("_note"): fields.pop(name)
        for name in list(fields)
        if name.endswith("_note")
    }
    return services.application_review_record(
        application=application,
        actor=actor,
        checks=fields,
        notes=notes,
        eligibility_notes=eligibility_notes,
    )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("e-mail of the person invited"))


# --- client portal --------------------------------------------------------------------------


def _document_field(kind) -> str:
    return f"documents_{kind}"


def _check_uploads(files) -> None:
    try:
        uploads.check_files(files)
    except RuleViolation as exc:
        raise forms.ValidationError(str(exc)) from None


class OnlineApplicationForm(NewApplicationForm):
    """A client's application with its documents (004 §5.1.3): one file field per kind of
    document, the required kinds marked as required."""

    outsourced_processes = forms.CharField(
        label=_("outsourced processes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, pending=None, **kwargs):
        """``pending``: the user's kept uploads by field (``pending_uploads.pending_for``),
        used for a field where no new file is chosen."""
        super().__init__(*args, **kwargs)
        self.pending = pending or {}
        for kind in ApplicationDocument.Kind:
            name = _document_field(kind)
            self.fields[name] = uploads.MultipleFileField(
                label=kind.label,
                required=kind in ApplicationDocument.REQUIRED and not self.pending.get(name),
            )

    def document_fields(self):
        return [self[_document_field(kind)] for kind in ApplicationDocument.Kind]

    def kept(self) -> dict:
        """Field name → names of the files kept from an earlier attempt."""
        return {name: [row.original_name for row in rows] for name, rows in self.pending.items()}

    def application_fields(self):
        return [f for f in self if not f.name.startswith("documents_")]

    def clean(self):
        cleaned = super().clean()
        documents = [
            (kind.value, upload)
            for kind in ApplicationDocument.Kind
            for upload in cleaned.get(_document_field(kind))
            or pending_uploads.as_uploads(self.pending.get(_document_field(kind), []))
        ]
        try:
            uploads.check_files([upload for _kind, upload in documents])
        except RuleViolation as exc:
            raise forms.ValidationError(str(exc)) from None
        cleaned["documents"] = documents
        return cleaned

    def service_kwargs(self) -> dict:
        """The keyword arguments of ``services.application_submit_online`` (besides the
        organisation and the actor)."""
        data = self.cleaned_data
        return {
            "documents": data["documents"],
            "scope_text": data["scope_text"],
            "headcount": data["headcount"],
            "business_scope_codes": data["business_scope_codes"],
            "requested_grade": data["requested_grade"],
            "outsourced_processes": data.get("outsourced_processes", ""),
        }


class DocumentsForm(BoundedForm):
    """More documents of one kind for an application under review."""

    kind = forms.ChoiceField(label=_("document"), choices=ApplicationDocument.Kind.choices)
    files = uploads.MultipleFileField(label=_("files"), help_text=_FILES_HELP)

    def clean_files(self):
        files = self.cleaned_data["files"]
        _check_uploads(files)
        return files

    def documents(self) -> list[tuple[str, object]]:
        return [(self.cleaned_data["kind"], upload) for upload in self.cleaned_data["files"]]


class ClientSignForm(BoundedForm):
    """The client's sign-off of the drafted contract."""

    agree = forms.BooleanField(
        label=_("I have read the contract and sign it for my organisation"), required=True
    )


class RegisterForm(BoundedForm):
    """The invited client user chooses a user name and a password (Django's validators)."""

    bounds_model = "certbody.User"

    username = UsernameField(
        label=_("user name"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    display_name = forms.CharField(label=_("your name"), max_length=100)
    password1 = forms.CharField(
        label=_("password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, invitation=None, **kwargs):
        self.invitation = invitation
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is already taken."))
        return username

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords differ."))
        elif password1:
            candidate = User(
                username=cleaned.get("username", ""),
                display_name=cleaned.get("display_name", ""),
                email=self.invitation.email if self.invitation else "",
            )
            try:
                password_validation.validate_password(password1, user=candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


def documents_add(*, application, actor, kind, files):
    """``DocumentsForm``'s kind and files → ``services.application_documents_add``."""
    return services.application_documents_add(
        application=application, actor=actor, documents=[(kind, upload) for upload in files]
    )


class DocumentRequestForm(BoundedForm):
    """Ask the applicant for a document during the review (004 §5.2)."""

    bounds_model = "applications.DocumentRequest"

    kind = forms.ChoiceField(label=_("document"), choices=ApplicationDocument.Kind.choices)
    note = forms.CharField(label=_("what is needed"), widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label=_("due on"), widget=DateInput)


class DocumentAnswerForm(BoundedForm):
    """The client's files answering a document request."""

    files = uploads.MultipleFileField(label=_("files"), help_text=_FILES_HELP)

    def clean_files(self):
        files = self.cleaned_data["files"]
        _check_uploads(files)
        return files
