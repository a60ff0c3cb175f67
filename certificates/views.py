"""Public pages without log-in: certificate verification (002 §4.1.2), the list of suspended,
withdrawn and cancelled certificates (004 §9.4) and the complaint form (004 §8.1); the JSON API
is ``certificates.api``.
"""

import json
from datetime import date

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from certbody.cache import CacheUnavailable, attempt
from certbody.lifecycle import RuleViolation, system_user
from certbody.public_layout import fragment, render_public
from certbody.security import throttle
from certificates import services
from certificates.forms import ComplaintForm
from certificates.models import Appeal, Certificate
from certificates.public import (
    INVALID_LIST_STATUSES,
    KEEP_VALID_REMINDER,
    STATUS_TEXT,
    invalid_queryset,
    name_query,
    normalize_number,
    organization_name,
    status_since,
)
from certificates.public_rows import public_results, public_row_by_token, public_row_read

MAX_QUERY = 100
# The search results' fixed text: each column's label is printed twice, in the header and as
# each cell's label in the phone layout. Translated once per language (``_result_labels``):
# a translate tag per cell cost a third of the page (issue #16).
RESULT_LABELS = {
    "number": _("Certificate number"),
    "organization": _("Certified organisation"),
    "scope": _("Scope of certification"),
    "star_grade": _("Star grade"),
    "status": _("Status"),
    "validity": _("Issued – valid until"),
    "field": _("Wholesale and retail service certification (SC03)"),
}
INVALID_PAGE_SIZE = 50
# The public complaint form: at most this many accepted submissions per address and hour
# (answered on the form, pointing to telephone and letter); all POSTs, valid or not, are also
# limited by settings.RATELIMIT_COMPLAINT (429, certbody/security.py).
COMPLAINTS_PER_HOUR = 5


def _result_labels() -> dict[str, str]:
    """``RESULT_LABELS`` in the active language."""
    return {key: str(label) for key, label in RESULT_LABELS.items()}


def _result(data: dict) -> dict:
    """One search result: a stored public payload with its ``token``, and the QR page's URL."""
    data["url"] = reverse("certificates:verify_token", args=[data["token"]])
    return data


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def verify(request):
    """Search by certificate number (any case, spaces allowed) or organisation name
    (fragments in order, ``certificates.public.name_query``).

    Results are the stored public rows (``certificates.public_rows``, rebuilt in the transaction
    of every change, so never stale) in the reader's language: a well-formed number is one
    indexed query on ``PublicCertificate`` (issue #16); a name search pages certificate ids,
    then reads their rows."""
    # A NUL character can never match and PostgreSQL refuses it in a query (a 500).
    query = request.GET.get("q", "").replace("\x00", "").strip()[:MAX_QUERY]
    language = get_language()
    context = {
        "query": query,
        "results": None,
        "page": None,
        "error": "",
        "labels": fragment(("verify_labels", language), _result_labels),
    }
    number = normalize_number(query)
    if number is not None:
        row = public_row_read(number, language)
        if row is None:
            context["results"] = []
        else:
            payload, etag, token = row
            # The one certificate's results depend on its row and the language only.
            context["results_html"] = fragment(
                ("verify", etag, token, language),
                lambda: render_to_string(
                    "certificates/_verify_results.html",
                    {**context, "results": [_result({**json.loads(payload), "token": token})]},
                ),
            )
    elif 0 < len(query) < 2:
        # A refused query is not run: show the hint, not "nothing found".
        context["error"] = gettext(
            "Enter at least two characters of the organisation's name, or the full "
            "certificate number."
        )
    elif query:
        ids = (
            Certificate.objects.filter(name_query(query))
            .order_by("organization__name", "number")
            .values_list("pk", flat=True)
        )
        page = Paginator(ids, 20).get_page(request.GET.get("page"))
        context["page"] = page
        context["results"] = [
            _result(data)
            for data in public_results(certificate_ids=page.object_list, language=language)
        ]
    if "results_html" not in context:
        context["results_html"] = render_to_string("certificates/_verify_results.html", context)
    return render_public(
        request, "certificates/verify.html", context, fill=("query", "results_html")
    )


# The payload's dates (ISO text) that the QR page formats.
DETAIL_DATES = (
    "issued_on",
    "expires_on",
    "reissued_on",
    "status_changed_on",
    "suspended_from",
    "suspended_until",
)


def _detail_html(payload: str, successor_token: str) -> tuple[str, str]:
    """The QR page's title and content (HTML) for one stored public payload (JSON text)."""
    certificate = json.loads(payload)
    for key in DETAIL_DATES:
        certificate[key] = date.fromisoformat(certificate[key]) if certificate[key] else None
    context = {
        "certificate": certificate,
        "successor_token": successor_token,
        "reminder": KEEP_VALID_REMINDER,
    }
    return (
        render_to_string("certificates/_verify_detail_title.html", context),
        render_to_string("certificates/_verify_detail.html", context),
    )


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def verify_token(request, token: str):
    """The QR code's target: one certificate, its status history, how a client keeps it valid.

    Read like the search page (issue #16): the certificate's stored public row
    (``certificates.public_rows``, rebuilt in the transaction of every change), one indexed
    query; its rendered facts are kept in this process under the row's ETag and language."""
    language = get_language()
    row = public_row_by_token(token, language)
    if row is None:
        raise Http404("no certificate has this token")
    payload, etag, successor_token = row
    title, content = fragment(
        ("verify_token", etag, successor_token, language),
        lambda: _detail_html(payload, successor_token),
    )
    return render_public(
        request,
        "certificates/verify_detail.html",
        {"title_html": title, "content_html": content},
        fill=("title_html", "content_html"),
    )


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def verify_invalid(request):
    """Suspended, withdrawn and cancelled certificates with dates and reasons (004 §9.4)."""
    status = request.GET.get("status", "")
    if status not in INVALID_LIST_STATUSES:
        status = ""
    page = Paginator(invalid_queryset(status), INVALID_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, STATUS_TEXT[c.status], status_since(c)) for c in page]
    return render(
        request,
        "certificates/verify_invalid.html",
        {
            "rows": rows,
            "page": page,
            "status": status,
            "statuses": [(s.value, STATUS_TEXT[s][0]) for s in INVALID_LIST_STATUSES],
        },
    )


def _client_address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _complaints_this_hour(request) -> int:
    """Accepted complaints from this address in the hour, this one included; 0 when the cache
    is down (the form stays open: RATELIMIT_COMPLAINT and the handler's review remain)."""
    key = f"certificates:complaints:{_client_address(request)}"

    def count(cache) -> int:
        cache.add(key, 0, 3600)
        return cache.incr(key)

    try:
        return attempt(count, what="complaints per hour")
    except CacheUnavailable:
        return 0


@throttle("complaint", "RATELIMIT_COMPLAINT", methods="POST")
# The complainant's name, contact and text never appear in error reports.
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
def complaint_new(request):
    """The public complaint form (no log-in, CSRF-protected, throttled per address)."""
    form = ComplaintForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        if _complaints_this_hour(request) > COMPLAINTS_PER_HOUR:
            error = gettext(
                "Too many submissions. Please try again later, or make your complaint by phone "
                "or letter."
            )
        else:
            data = form.cleaned_data
            certificate = data["certificate_number"]
            try:
                appeal = services.appeal_receive(
                    actor=system_user(),
                    kind=Appeal.Kind.COMPLAINT,
                    received_on=timezone.localdate(),
                    subject=data["subject"],
                    description=data["description"],
                    name=data["name"],
                    contact=data["contact"],
                    about_organization=data["about_organization"]
                    or (organization_name(certificate) if certificate else ""),
                    certificate=certificate,
                    channel=Appeal.Channel.PUBLIC,
                )
            except RuleViolation as exc:
                error = str(exc)
            else:
                request.session["complaint_reference"] = appeal.reference
                request.session["complaint_due"] = appeal.due_on.isoformat()
                return redirect("certificates:complaint_thanks")
    return render(request, "certificates/complaint_form.html", {"form": form, "error": error})


@require_GET
def complaint_thanks(request):
    """Thank-you page with the reference number (kept in the session, not in the URL)."""
    reference = request.session.get("complaint_reference")
    if not reference:
        return redirect("certificates:complaint_new")
    return render(
        request,
        "certificates/complaint_thanks.html",
        {"reference": reference, "due_on": request.session.get("complaint_due", "")},
    )
