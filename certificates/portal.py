"""Client portal: a client user's certificates, notices and documents (002 §4.1.2), the reports
and results of its decided audits (004 §5.11.5), its appeals (004 §8.1) and its requests for a
change, a cancellation or a suspension (``certificates.services.client_requests``). Every
queryset goes through ``certbody.access.visible_to``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods

from audits.models import Audit, AuditReport
from audits.selectors import grade_label
from certbody.access import visible_to
from certbody.lifecycle import RuleViolation
from certbody.uploads import download_response, unavailable_response
from certbody.workspace import object_url_for
from certificates import pdf, portal_todo, services
from certificates.forms import AppealForm, ClientRequestForm
from certificates.models import Appeal, Certificate, CertificateDocument, ClientRequest, Decision


@login_required
@require_GET
def home(request):
    """The client's to-do list (``portal_todo``: contract to sign, plan to confirm, NCs to
    answer, invoices due, the next audit) above its certificates with their documents; staff
    go to their own workspace. Appeal and request links are offered only where they apply."""
    if request.user.is_staff:
        return redirect("home")
    today = timezone.localdate()
    certificates = (
        visible_to(Certificate.objects.all(), request.user)
        .select_related("head", "organization")
        .prefetch_related(Prefetch("documents", queryset=_current_documents()))
        .order_by("-issued_on", "number")  # a head, then its -1, -2 … sub-certificates
    )
    # Refusal notices and written results of appeals belong to no certificate.
    other_documents = visible_to(
        _current_documents().filter(certificate__isnull=True), request.user
    ).select_related("appeal", "decision")
    appeals = visible_to(Appeal.objects.all(), request.user).order_by("-received_on", "-pk")
    return render(
        request,
        "certificates/portal.html",
        {
            "certificates": certificates,
            "other_documents": other_documents,
            "decided_audits": _decided_audits(request.user),
            "appeals": appeals,
            "client_requests": _client_requests(request.user)[:5],
            "todo": portal_todo.portal_todo(request.user, today),
            "next_audit": portal_todo.next_audit(request.user),
            "today": today,
            "may_appeal": portal_todo.may_appeal(request.user),
            "may_request": portal_todo.holds_certificate(request.user),
        },
    )


def _current_documents():
    """Documents a client is offered: a version replaced by a regenerated one (its file lost
    or altered) is kept on record but listed to staff only."""
    return CertificateDocument.objects.filter(replacements__isnull=True)


def _client_requests(user):
    return visible_to(ClientRequest.objects.select_related("certificate"), user)


ORGANIZATION_OF_AUDIT = "programme__organization"


def _delivered_reports(user):
    """Reports given to the client: an audit report after the decision (004 §5.11.5), a
    termination report after the termination (004 §5.11.6); the delivery is recorded."""
    return visible_to(
        AuditReport.objects.filter(delivered_on__isnull=False),
        user,
        f"audit__{ORGANIZATION_OF_AUDIT}",
    )


def _decided_audits(user) -> list[dict]:
    """The client's audits with a decision (and terminated ones with a delivered report):
    the score and grade of the evaluation and the delivered reports, newest first."""
    reports = {}
    for report in _delivered_reports(user).order_by("-version"):
        reports.setdefault(report.audit_id, []).append(report)
    audits = (
        visible_to(Audit.objects.all(), user, ORGANIZATION_OF_AUDIT)
        .filter(Q(decisions__isnull=False) | Q(pk__in=list(reports)))
        .distinct()
        .select_related("score_sheet")
        .prefetch_related("decisions")
        .order_by("-actual_end", "-pk")
    )
    rows = []
    for audit in audits:
        sheet = getattr(audit, "score_sheet", None)
        decided = list(audit.decisions.all())
        rows.append(
            {
                "audit": audit,
                "decision": decided[0] if decided else None,
                # Only a signed-off evaluation is a result the client is told (004 §5.6.5.3).
                "sheet": sheet if sheet and sheet.state == sheet.State.SUBMITTED else None,
                "grade": grade_label(sheet.grade) if sheet else "",
                "reports": reports.get(audit.pk, []),
            }
        )
    return rows


@login_required
@require_GET
def download(request, pk: int):
    """Serve one issued document; 404 when it belongs to another organisation, 409 while it is
    still being prepared, 503 when its stored file fails the SHA-256 check."""
    document = get_object_or_404(
        visible_to(CertificateDocument.objects.all(), request.user).select_related(
            "certificate", "decision", "appeal"
        ),
        pk=pk,
    )
    if document.is_pending:
        return unavailable_response(
            _("This document is being prepared. Please try again in a few minutes."), status=409
        )
    subject = document.certificate or document.decision or document.appeal
    return download_response(
        document.file,
        content_type="application/pdf",
        filename=document.file.name.rsplit("/", 1)[-1],
        sha256=document.sha256,
        label=pdf.describe(document),
        link=object_url_for(subject) if subject is not None else "",
    )


def _own(model_queryset, request, pk, path):
    if not pk:
        return None
    try:
        return visible_to(model_queryset, request.user, path).get(pk=int(pk))
    except (ValueError, model_queryset.model.DoesNotExist):
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def appeal_new(request):
    """A client files an appeal against one of its organisation's decisions or certificate
    status changes (004 §8.1); another organisation's decision or certificate is a 404."""
    if request.user.is_staff or not request.user.organization_id:
        raise Http404
    if not portal_todo.may_appeal(request.user):
        messages.error(request, _(NOTHING_TO_APPEAL))
        return redirect("certificates:portal")
    decisions = visible_to(
        Decision.objects.select_related("audit"), request.user, "audit__programme__organization"
    )
    certificates = visible_to(Certificate.objects.filter(head__isnull=True), request.user)
    source = request.POST if request.method == "POST" else request.GET
    # A link or a tampered form naming someone else's decision: not found, not "invalid".
    _own(Decision.objects.all(), request, source.get("decision"), "audit__programme__organization")
    _own(Certificate.objects.all(), request, source.get("certificate"), "organization")
    initial = {key: source.get(key) for key in ("decision", "certificate") if source.get(key)}
    form = AppealForm(
        request.POST or None, initial=initial, decisions=decisions, certificates=certificates
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            appeal = services.appeal_receive(
                actor=request.user,
                kind=Appeal.Kind.APPEAL,
                received_on=timezone.localdate(),
                subject=data["subject"],
                description=data["description"],
                decision=data["decision"],
                certificate=data["certificate"],
            )
        except RuleViolation as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "Appeal submitted, reference %(reference)s. We will tell you the outcome in "
                    "writing by %(due_on)s."
                )
                % {"reference": appeal.reference, "due_on": f"{appeal.due_on:%Y-%m-%d}"},
            )
            return redirect("certificates:portal")
    return render(request, "certificates/appeal_form.html", {"form": form})


# Only what applies is offered (issue #14); the views refuse what the page does not offer.
NOTHING_TO_APPEAL = gettext_noop(
    "Your organisation has no certification decision or certificate to appeal yet."
)
NO_CERTIFICATE = gettext_noop(
    "Your organisation holds no certificate in force: there is nothing to change, suspend or "
    "cancel yet."
)


def _client_only(request) -> None:
    if request.user.is_staff or not request.user.organization_id:
        raise Http404


@login_required
@require_GET
def requests_list(request):
    """The organisation's requests for a change, a cancellation or a suspension, newest first."""
    _client_only(request)
    return render(
        request,
        "certificates/portal_requests.html",
        {
            "client_requests": _client_requests(request.user),
            "may_request": portal_todo.holds_certificate(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    """A client asks for a change, a cancellation or a suspension of one of its organisation's
    certificates; another organisation's certificate (a link or a tampered form) is a 404."""
    _client_only(request)
    if not portal_todo.holds_certificate(request.user):
        messages.error(request, _(NO_CERTIFICATE))
        return redirect("certificates:portal")
    certificates = visible_to(
        Certificate.objects.filter(
            head__isnull=True, status__in=[Certificate.Status.VALID, Certificate.Status.SUSPENDED]
        ),
        request.user,
    ).order_by("number")
    source = request.POST if request.method == "POST" else request.GET
    _own(Certificate.objects.all(), request, source.get("certificate"), "organization")
    initial = {key: source.get(key) for key in ("kind", "certificate") if source.get(key)}
    form = ClientRequestForm(request.POST or None, initial=initial, certificates=certificates)
    if request.method == "POST" and form.is_valid():
        try:
            submitted = services.client_request_submit(actor=request.user, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Request submitted (%(kind)s). We will let you know once it is handled.")
                % {"kind": submitted.get_kind_display()},
            )
            return redirect("certificates:portal_requests")
    status = 422 if request.method == "POST" else 200
    return render(request, "certificates/portal_request_form.html", {"form": form}, status=status)
