"""Client portal for applications: register by invitation, apply online with the documents of
004 §5.1.3, follow the review, add documents, sign off the contract.

A client user sees the applications of their own organisation only; every queryset goes through
``certbody.access.visible_to``, so another organisation's application, contract or document is
a 404, never a 403. Acting (apply, add documents, sign) needs ``applications.apply_online``
(an active client user, ``certbody.policy``); the services check the organisation again. Staff
opening a portal page are sent to the workspace, and may download the documents (the staff
application page links here).
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from applications import pending_uploads, quotations, services
from applications.forms import (
    ClientSignForm,
    DocumentAnswerForm,
    DocumentsForm,
    OnlineApplicationForm,
    RegisterForm,
)
from applications.models import (
    Application,
    ApplicationDocument,
    Contract,
    DocumentRequest,
    RejectionNotice,
)
from certbody import uploads
from certbody.access import visible_to
from certbody.lifecycle import RuleViolation
from certbody.pdf import PdfError
from certbody.workspace import require, run_service

APPLY = "applications.apply_online"
State = Application.State

# The steps a client follows, in order (004 §5.1–5.3).
STEPS = (
    ("submitted", gettext_lazy("Submitted")),
    ("review", gettext_lazy("Review")),
    ("decision", gettext_lazy("Accepted")),
    ("contract", gettext_lazy("Contract signed")),
)


def _visible(request):
    return visible_to(Application.objects.all(), request.user).select_related(
        "organization", "contract"
    )


def _contract(application: Application) -> Contract | None:
    try:
        return application.contract
    except Contract.DoesNotExist:
        return None


def review_progress(application: Application) -> list[tuple[str, str, str]]:
    """The application's steps as ``(key, label, status)``; status is "done", "current",
    "refused" or "todo"."""
    contract = _contract(application)
    reached = {
        State.DRAFT: 0,
        State.SUBMITTED: 1,
        State.UNDER_REVIEW: 1,
        State.ACCEPTED: 3,
        State.REJECTED: 2,
        State.WITHDRAWN: 0,
    }[application.state]
    if contract is not None and contract.state == Contract.State.SIGNED:
        reached = 4
    steps = []
    for index, (key, label) in enumerate(STEPS):
        if index < reached:
            status = "done"
        elif index == reached and application.state in (State.REJECTED, State.WITHDRAWN):
            status = "refused"
            label = application.get_state_display()
        elif index == reached:
            status = "current"
        else:
            status = "todo"
        steps.append((key, label, status))
    return steps


def next_step(application: Application) -> str:
    """What happens next, in the client's words."""
    contract = _contract(application)
    if application.state == State.DRAFT:
        return _("Not submitted yet.")
    if application.state == State.SUBMITTED:
        return _("Submitted: the market department will start the review.")
    if application.state == State.UNDER_REVIEW:
        return _("Under review by the market department; it may ask for more documents.")
    if application.state == State.REJECTED:
        return _("Not accepted: %(reason)s") % {"reason": application.rejection_reason}
    if application.state == State.WITHDRAWN:
        return _("Withdrawn.")
    if contract is None:
        return _("Accepted: the certification contract is being drafted.")
    if contract.state == Contract.State.DRAFT:
        return _("Accepted: please read and sign off the certification contract.")
    return _("Contract signed: the audit department will plan the audit.")


@login_required
@require_GET
def application_list(request):
    """The organisation's applications with their state and review progress."""
    if request.user.is_staff:
        return redirect("workspace:list", key="applications")
    rows = [
        {"application": a, "steps": review_progress(a), "next_step": next_step(a)}
        for a in _visible(request)
    ]
    return render(
        request,
        "applications/portal/list.html",
        {"rows": rows, "can_apply": request.user.has_perm(APPLY)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def application_new(request):
    """Apply online: the application form and its documents, submitted in one step."""
    require(request.user, APPLY)
    post = request.method == "POST"
    if post:
        # Files that pass the checks are kept whatever else fails (issue #14).
        for name in request.FILES:
            if name.startswith("documents_"):
                pending_uploads.stash(request.user, name, request.FILES.getlist(name))
    form = OnlineApplicationForm(
        request.POST if post else None,
        request.FILES if post else None,
        pending=pending_uploads.pending_for(request.user),
    )
    if post and form.is_valid():
        result, _error = run_service(
            form,
            lambda data: services.application_submit_online(
                organization=request.user.organization,
                actor=request.user,
                **form.service_kwargs(),
            ),
        )
        if result is not None:
            pending_uploads.clear(request.user)
            messages.success(
                request, _("Application %(reference)s submitted.") % {"reference": result.reference}
            )
            return redirect("applications_portal:detail", pk=result.pk)
    return render(
        request, "applications/portal/new.html", {"form": form}, status=422 if post else 200
    )


def _detail(request, application, *, documents_form=None, status=200):
    may_act = request.user.has_perm(APPLY)
    contract = _contract(application)
    return render(
        request,
        "applications/portal/detail.html",
        {
            "application": application,
            "steps": review_progress(application),
            "next_step": next_step(application),
            "documents": application.documents.all(),
            "contract": contract,
            "rejection_notice": RejectionNotice.objects.filter(application=application).first(),
            "quotation": quotations.application_quotation(application),
            "can_sign": may_act and contract is not None and contract.state == Contract.State.DRAFT,
            "documents_form": (documents_form or DocumentsForm())
            if may_act and application.state in services.DOCUMENT_STATES
            else None,
        },
        status=status,
    )


@login_required
@require_GET
def application_detail(request, pk: int):
    """One application: progress, documents (download), contract (sign-off when drafted)."""
    application = get_object_or_404(_visible(request), pk=pk)
    if request.user.is_staff:
        return redirect("workspace:object", key="applications", pk=application.pk)
    return _detail(request, application)


@login_required
@require_http_methods(["POST"])
def documents_add(request, pk: int):
    """More documents for an application not decided yet (multipart POST)."""
    application = get_object_or_404(_visible(request), pk=pk)
    require(request.user, APPLY)
    form = DocumentsForm(request.POST, request.FILES)
    if form.is_valid():
        result, _error = run_service(
            form,
            lambda data: services.application_documents_add(
                application=application, actor=request.user, documents=form.documents()
            ),
        )
        if result is not None:
            messages.success(request, _("Documents added."))
            return redirect("applications_portal:detail", pk=application.pk)
    application.refresh_from_db()
    if application.state not in services.DOCUMENT_STATES:
        # decided meanwhile (e.g. in another tab): there is no form left to show the error on
        messages.error(request, "；".join(form.non_field_errors()) or _("Not possible any more."))
        return redirect("applications_portal:detail", pk=application.pk)
    return _detail(request, application, documents_form=form, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def document_request_answer(request, pk: int):
    """The client uploads the document the review asked for (from the portal's to-do); another
    organisation's request is a 404, an answered one goes back to the application."""
    document_request = get_object_or_404(
        visible_to(
            DocumentRequest.objects.select_related("application"),
            request.user,
            "application__organization",
        ),
        pk=pk,
    )
    require(request.user, APPLY)
    application = document_request.application
    if document_request.answered_at is not None:
        messages.info(request, _("This document request is answered already."))
        return redirect("applications_portal:detail", pk=application.pk)
    post = request.method == "POST"
    form = DocumentAnswerForm(request.POST if post else None, request.FILES if post else None)
    if post and form.is_valid():
        result, _error = run_service(
            form,
            lambda data: services.document_request_answer(
                document_request=document_request, actor=request.user, files=data["files"]
            ),
        )
        if result is not None:
            messages.success(request, _("Documents added."))
            return redirect("applications_portal:detail", pk=application.pk)
    return render(
        request,
        "applications/portal/document_request.html",
        {"document_request": document_request, "application": application, "form": form},
        status=422 if post else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def contract_sign(request, pk: int):
    """The client signs off the drafted contract of application ``pk`` (004 §5.3): signed
    today by the signed-in user."""
    application = get_object_or_404(_visible(request), pk=pk)
    contract = get_object_or_404(Contract, application=application)
    require(request.user, APPLY)
    if contract.state != Contract.State.DRAFT:
        messages.error(request, _("This contract is already signed."))
        return redirect("applications_portal:detail", pk=application.pk)
    post = request.method == "POST"
    form = ClientSignForm(request.POST if post else None)
    if post and form.is_valid():
        user = request.user
        result, _error = run_service(
            form,
            lambda data: services.contract_sign(
                contract=contract,
                actor=user,
                signed_on=timezone.localdate(),
                signed_by_client=user.display_name or user.get_full_name() or user.username,
            ),
        )
        if result is not None:
            messages.success(request, _("Contract %(number)s signed.") % {"number": contract})
            return redirect("applications_portal:detail", pk=application.pk)
    return render(
        request,
        "applications/portal/sign.html",
        {"application": application, "contract": contract, "form": form},
        status=422 if post else 200,
    )


@login_required
@require_GET
def document_download(request, pk: int):
    """One application document as a download; 404 for another organisation's document."""
    document = get_object_or_404(
        visible_to(ApplicationDocument.objects.all(), request.user, "application__organization"),
        pk=pk,
    )
    return uploads.download_response(
        document.file, content_type=document.content_type, filename=document.original_name
    )


@login_required
@require_GET
def rejection_notice_download(request, pk: int):
    """The written notice of non-acceptance (001 §6.1.5) as a PDF download, checked against the
    SHA-256 recorded when it was made; 404 for another organisation's notice."""
    notice = get_object_or_404(
        visible_to(RejectionNotice.objects.all(), request.user, "application__organization"),
        pk=pk,
    )
    return uploads.download_response(
        notice.file,
        content_type="application/pdf",
        filename=f"{notice.reference}.pdf",
        sha256=notice.sha256,
        label=notice.reference,
    )


@login_required
@require_GET
def quotation_download(request, pk: int):
    """The application's quotation (004 §5.1.1; 001 §6.1.7(7)) as a Chinese PDF made on demand:
    for the client's own organisation, or staff of the market department
    (``applications.manage_contract``); 404 for another organisation's application or when no
    quotation can be made, 503 when the PDF cannot be made."""
    application = get_object_or_404(_visible(request), pk=pk)
    if request.user.is_staff:
        require(request.user, "applications.manage_contract", application)
    quotation = quotations.application_quotation(application)
    if quotation is None:
        raise Http404
    try:
        content = quotations.quotation_pdf(quotation)
    except PdfError as exc:
        return HttpResponse(
            _("The quotation could not be made: %(error)s") % {"error": exc},
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quotation.reference}.pdf"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def register(request, token: str):
    """Register as a client user through an invitation link: 404 for an unknown link, 410 for
    an expired or used one; on success the new user is signed in."""
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(
            request,
            "applications/portal/invitation_invalid.html",
            {"message": _("This registration link is not valid.")},
            status=404,
        )
    if not invitation.is_open:
        message = (
            _("This invitation has already been used. Please log in.")
            if invitation.accepted_at
            else _("This invitation has expired. Please ask the market department for a new one.")
        )
        return render(
            request,
            "applications/portal/invitation_invalid.html",
            {"message": message},
            status=410,
        )
    post = request.method == "POST"
    form = RegisterForm(request.POST if post else None, invitation=invitation)
    if post and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.client_register(
                invitation=invitation,
                username=data["username"],
                password=data["password1"],
                display_name=data["display_name"],
            )
        except (RuleViolation, ValidationError) as exc:
            form.add_error(None, "；".join(getattr(exc, "messages", [str(exc)])))
        else:
            login(request, user, backend="certbody.policy.ModelPermissionBackend")
            messages.success(request, _("Welcome, %(name)s.") % {"name": user})
            return redirect("applications_portal:list")
    return render(
        request,
        "applications/portal/register.html",
        {"form": form, "invitation": invitation},
        status=422 if post else 200,
    )
