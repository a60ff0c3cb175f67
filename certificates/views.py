"""Public certificate verification (no log-in) and the JSON API (002 §4.1.2)."""

from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from certificates import numbering
from certificates.public import KEEP_VALID_REMINDER, STATUS_TEXT, certificate_json, public_queryset

MAX_QUERY = 100


@require_GET
def verify(request):
    """Search by certificate number (exact) or organisation name (contains)."""
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    results = None
    error = ""
    if query:
        qs = public_queryset()
        try:
            numbering.parse_number(query)
        except ValueError:
            if len(query) < 2:
                error = "请至少输入两个字符的组织名称，或完整的证书编号。"
                qs = qs.none()
            else:
                qs = qs.filter(organization__name__contains=query)
        else:
            qs = qs.filter(number=query)
        page = Paginator(qs.order_by("organization__name", "number"), 20).get_page(
            request.GET.get("page")
        )
        # A refused query was not run: show the hint, not "nothing found".
        results = None if error else [(c, STATUS_TEXT[c.status]) for c in page]
        return render(
            request,
            "certificates/verify.html",
            {"query": query, "results": results, "page": page, "error": error},
        )
    return render(request, "certificates/verify.html", {"query": "", "results": None})


@require_GET
def verify_token(request, token: str):
    """The QR code's target: one certificate, with how a client keeps it valid."""
    certificate = get_object_or_404(public_queryset(), token=token)
    label, meaning = STATUS_TEXT[certificate.status]
    return render(
        request,
        "certificates/verify_detail.html",
        {
            "certificate": certificate,
            "status_label": label,
            "status_meaning": meaning,
            "reminder": KEEP_VALID_REMINDER,
        },
    )


@require_GET
def api_certificate(request, number: str):
    """GET /api/v1/certificates/<number>: JSON; 400 for a malformed number, 404 if unknown."""
    try:
        number = str(numbering.parse_number(number))
    except ValueError as exc:
        return JsonResponse(
            {"error": "malformed certificate number", "detail": str(exc)}, status=400
        )
    certificate = public_queryset().filter(number=number).first()
    if certificate is None:
        return JsonResponse({"error": "certificate not found", "number": number}, status=404)
    response = JsonResponse(
        certificate_json(certificate), json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "public, max-age=60"
    return response


def not_found(*args, **kwargs):
    raise Http404
