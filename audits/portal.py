"""Client portal: the organisation's nonconformities, their answers and evidence (004 §5.10).

A client user sees the NCs of their own organisation, answers open or rejected ones with files
and downloads the evidence already sent; staff see every NC. Every queryset goes through
``certbody.access.visible_to``: another organisation's NC or file is a 404, never a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from audits import nonconformities
from audits.forms import NonconformityAnswerForm
from audits.models import Nonconformity, NonconformityAttachment
from certbody.access import visible_to
from certbody.lifecycle import RuleViolation

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
        nc.next_step = nonconformities.next_step(nc)
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
            "next_step": nonconformities.next_step(nc),
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
            nonconformities.nonconformity_answer(
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
            messages.success(request, "答复已提交，审核组将进行验证。")
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
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
