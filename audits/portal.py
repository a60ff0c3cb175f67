"""Client portal: the organisation's nonconformities, their answers and evidence (004 §5.10).

A client user sees the NCs of their own organisation, answers open or rejected ones with files
and downloads the evidence already sent; staff see every NC. Every queryset goes through
``certbody.access.visible_to``: another organisation's NC or file is a 404, never a 403.

Audit plans (004 §5.4.6.3): a client user sees the plans sent to their organisation (and those
already confirmed), reads the plan as sent — objectives, criteria, scope, dates and schedule,
sites, the team as sent — and confirms it. The confirmation goes through
``audits.services.audit_plan_confirm`` with the client user as actor, which records
``confirmed_by`` as the user's name (``str(user)``: the display name). Draft plans are the CB's
working papers: not shown (404). Staff confirm on the client's behalf in the workspace.

Audit reports: staff download any report here (the workspace links to it); a client user only
their organisation's reports once delivered, which the service allows only after the decision
(004 §5.11.5).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audits import selectors, services
from audits.forms import NonconformityAnswerForm
from audits.models import (
    AuditPlan,
    AuditReport,
    AuditTeamMember,
    Nonconformity,
    NonconformityAttachment,
)
from audits.plan_pdf import plan_pdf_response
from certbody.access import visible_to
from certbody.lifecycle import RuleViolation
from certbody.uploads import download_response

ORGANIZATION = "audit__programme__organization"
ANSWERABLE = (Nonconformity.State.OPEN, Nonconformity.State.REJECTED)


def _visible(request):
    return visible_to(Nonconformity.objects.all(), request.user, ORGANIZATION).select_related(
        "audit__programme__organization"
    )


@login_required
@require_GET
def nonconformity_list(request):
    """The NCs of the user's organisation (all, for staff): state, deadline, what to do."""
    # What awaits the client first, then what the team is verifying, then the settled ones;
    # each by deadline.
    order = {state: i for i, state in enumerate((*ANSWERABLE, Nonconformity.State.ANSWERED))}
    rows = sorted(
        _visible(request),
        key=lambda nc: (order.get(nc.state, len(order)), nc.due_on, nc.audit_id, nc.number),
    )
    for nc in rows:
        nc.next_step = selectors.next_step(nc)
    return render(
        request,
        "audits/portal/nonconformity_list.html",
        {"nonconformities": rows, "today": timezone.localdate()},
    )


def _detail(request, nc, form):
    responses = nc.responses.prefetch_related("attachments").select_related(
        "submitted_by", "reviewed_by"
    )
    return render(
        request,
        "audits/portal/nonconformity_detail.html",
        {
            "nc": nc,
            "next_step": selectors.next_step(nc),
            "responses": responses,
            "form": form if nc.state in ANSWERABLE else None,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def nonconformity_detail(request, pk: int):
    """One NC with the answers so far, the team's review notes and, when it awaits the client,
    the answer form."""
    nc = get_object_or_404(_visible(request), pk=pk)
    return _detail(request, nc, NonconformityAnswerForm(nonconformity=nc))


@login_required
@require_http_methods(["POST"])
def nonconformity_answer(request, pk: int):
    """Submit an answer with evidence files (multipart) through ``nonconformity_answer``."""
    nc = get_object_or_404(_visible(request), pk=pk)
    form = NonconformityAnswerForm(request.POST, request.FILES, nonconformity=nc)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.nonconformity_answer(
                nonconformity=nc,
                actor=request.user,
                cause_analysis=data["cause_analysis"],
                correction=data["correction"],
                corrective_action=data["corrective_action"],
                is_plan=data.get("is_plan", False),
                attachments=data["attachments"],
                submitted_on=timezone.localdate(),
            )
        except RuleViolation as exc:
            nc.refresh_from_db()
            if nc.state not in ANSWERABLE:
                # e.g. answered meanwhile in another tab, or closed: nothing to answer here
                messages.error(request, str(exc))
                return redirect("audits_portal:detail", pk=nc.pk)
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Answer submitted; the audit team will verify it."))
            return redirect("audits_portal:detail", pk=nc.pk)
    return _detail(request, nc, form)


@login_required
@require_GET
def attachment_download(request, pk: int):
    """Serve one evidence file as a download; 404 for another organisation's file."""
    attachment = get_object_or_404(
        visible_to(
            NonconformityAttachment.objects.all(),
            request.user,
            f"response__nonconformity__{ORGANIZATION}",
        ),
        pk=pk,
    )
    return download_response(
        attachment.file, content_type=attachment.content_type, filename=attachment.original_name
    )


# --- audit plans (004 §5.4.6.3) ----------------------------------------------------------------

PLAN_ORGANIZATION = "audit__programme__organization"
PLAN_SHOWN = (AuditPlan.State.SENT, AuditPlan.State.CONFIRMED)


def _plans(request):
    return (
        visible_to(AuditPlan.objects.all(), request.user, PLAN_ORGANIZATION)
        .filter(state__in=PLAN_SHOWN)
        .select_related("audit__programme__organization")
    )


@login_required
@require_GET
def plan_list(request):
    """The organisation's audit plans: those to confirm first, then the confirmed ones."""
    plans = sorted(
        _plans(request),
        key=lambda p: (p.state != AuditPlan.State.SENT, p.audit.planned_start or p.sent_on),
    )
    return render(request, "audits/portal/plan_list.html", {"plans": plans})


@login_required
@require_GET
def plan_detail(request, pk: int):
    """The plan as sent: objectives, criteria, scope, dates, schedule, sites and team."""
    plan = get_object_or_404(_plans(request), pk=pk)
    return render(
        request,
        "audits/portal/plan_detail.html",
        {
            "plan": plan,
            "audit": plan.audit,
            "sites": list(plan.sites.all()),
            "agenda": list(plan.agenda.select_related("site", "auditor")),
            "team": plan.team_snapshot or [],
            "roles": dict(AuditTeamMember.Role.choices),
            "can_confirm": plan.state == AuditPlan.State.SENT and request.user.is_client,
        },
    )


@login_required
@require_GET
def plan_pdf(request, pk: int):
    """The plan sent to the client as a Chinese PDF (004 §5.4.6.1); 404 as ``plan_detail``."""
    return plan_pdf_response(get_object_or_404(_plans(request), pk=pk))


@login_required
@require_http_methods(["POST"])
def plan_confirm(request, pk: int):
    """The client user confirms the plan sent to them (``audit_plan_confirm``)."""
    plan = get_object_or_404(_plans(request), pk=pk)
    if not request.user.is_client:
        raise PermissionDenied  # staff record a confirmation in the workspace
    try:
        services.audit_plan_confirm(
            plan=plan, actor=request.user, confirmed_on=timezone.localdate()
        )
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Audit plan confirmed; the audit team will carry out the audit as planned.")
        )
    return redirect("audits_client:plan", pk=plan.pk)


# --- audit reports ---------------------------------------------------------------------------


@login_required
@require_GET
def report_download(request, pk: int):
    """The signed report PDF: staff with the audits desk; a client user of the organisation once
    the report was delivered (404 otherwise)."""
    reports = visible_to(AuditReport.objects.all(), request.user, PLAN_ORGANIZATION)
    if request.user.is_staff:
        if not request.user.has_perm("audits.view_desk"):
            raise PermissionDenied
    else:
        reports = reports.filter(delivered_on__isnull=False)
    report = get_object_or_404(reports, pk=pk)
    return download_response(
        report.file,
        content_type="application/pdf",
        filename=report.file.name.rsplit("/", 1)[-1],
        # The signed report is evidence: a file altered on disk is not served.
        sha256=report.sha256,
        label=f"{report.get_kind_display()} v{report.version} {report.audit}",
    )
