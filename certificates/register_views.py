"""Public register pages without log-in (004 §9.4; 002 §4.1.2): the browsable list of certified
organisations with its CSV download, and the monthly list of status changes.

Query-string values that are not offered choices are ignored and named on the page (never a
400 or a 500); reads are in ``certificates.register``.
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from certbody import spreadsheets
from certbody.dates import add_months
from certbody.models import BusinessScope
from certbody.security import throttle
from certificates import register


def _filter_form(request) -> register.RegisterFilter:
    scopes = list(BusinessScope.objects.values_list("code", "name"))
    return register.RegisterFilter(request.GET, scopes=scopes)


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def register_list(request):
    """The register: certificates with their public fields, filtered by region, business
    scope, star grade, status and year of issue, sorted by a whitelisted key, 50 a page."""
    form = _filter_form(request)
    filters = form.filters()
    page = Paginator(register.register_queryset(filters), register.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = dict(filters)
    sort = filters.get("sort", register.DEFAULT_SORT)
    return render(
        request,
        "certificates/register.html",
        {
            "form": form,
            "ignored": form.ignored(),
            "rows": register.register_rows(page),
            "page": page,
            "count": page.paginator.count,
            "query": urlencode(query),
            "sort": sort,
            "sort_links": _sort_links(query, sort, ["number", "organization", "issued", "expires"]),
        },
    )


def _sort_links(query: dict, sort: str, keys: list[str]) -> dict:
    """For each sortable column key, the query string that sorts by it (ascending, or
    descending when it is the current ascending sort) and its current direction."""
    links = {}
    for key in keys:
        target = f"-{key}" if sort == key else key
        direction = "ascending" if sort == key else "descending" if sort == f"-{key}" else ""
        links[key] = {"query": urlencode({**query, "sort": target}), "direction": direction}
    return links


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def register_csv(request):
    """The filtered register as CSV (UTF-8 with BOM, formula injection neutralised), public
    fields only, named ``register-<local date>.csv``."""
    filters = _filter_form(request).filters()
    content = spreadsheets.to_csv(register.register_report(filters))
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    filename = f"register-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@throttle("verify", "RATELIMIT_VERIFY")
@require_safe
def register_changes(request):
    """The monthly list of suspensions, restorations, withdrawals and cancellations
    (``?month=YYYY-MM``, default this month; a malformed month is ignored and named)."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    given = request.GET.get("month", "")
    month = register.parse_month(given)
    ignored = bool(given) and month is None
    if month is None or month > this_month:
        ignored = ignored or month is not None
        month = this_month
    previous = add_months(month, -1)
    following = add_months(month, 1)
    return render(
        request,
        "certificates/register_changes.html",
        {
            "month": month,
            "ignored": ignored,
            "changes": register.monthly_changes(month),
            "previous": previous.strftime("%Y-%m"),
            "following": following.strftime("%Y-%m") if following <= this_month else "",
        },
    )
