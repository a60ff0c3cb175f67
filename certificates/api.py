"""Certificates in the JSON API (issues #16, #17; ``certbody.api``).

Public, no log-in (002 §4.1.2; 004 §9.4): one certificate by number, and a paginated search by
organisation name, USCC or number. Both read the precomputed ``PublicCertificate`` rows
(``certificates.public_rows``), kept in step with every status change in the same transaction:
one indexed query, the stored JSON bytes sent as they are, an ETag from the row's digest and
``Cache-Control: no-cache`` so a client re-checks cheaply (304) and never keeps a stale status.

Staff integrations (``/api/v1/staff/certificates``): a token with the ``certificates`` scope.
"""

import hashlib
import json
from datetime import date
from typing import Literal

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema

from certbody.api import ERRORS, ErrorOut, TokenAuth, error, require_scope, staff_token_key
from certbody.security import throttle
from certificates import numbering
from certificates.models import Certificate, PublicCertificate
from certificates.public import name_query, normalize_number
from certificates.public_rows import payload_field, public_row_read

PAGE_SIZE = 20
MAX_QUERY = 100

public = Router(tags=["public"])
staff = Router(tags=["staff"], auth=TokenAuth())


class BusinessScopeOut(Schema):
    code: str
    name: str


class HistoryOut(Schema):
    date: str
    kind: str
    label: str
    status_code: str
    text: str


class CertificateOut(Schema):
    """``certificates.public.certificate_json``: public facts only, no personal data."""

    number: str
    organization: str
    uscc: str
    registered_address: str
    head_number: str | None
    field: str
    standard: str
    scope: str
    business_scopes: list[BusinessScopeOut]
    star_grade: str
    star_grade_label: str
    status: str
    status_code: str
    status_label: str
    status_meaning: str
    status_since: str
    status_changed_on: str | None
    status_reason: str
    issued_on: str | None
    expires_on: str | None
    reissued_on: str | None
    reissue_reason: str
    suspended_from: str | None
    suspended_until: str | None
    withdrawn_on: str | None
    cancelled_on: str | None
    expired_on: str | None
    superseded_on: str | None
    superseded_by: str | None
    number_void: bool
    history: list[HistoryOut]


class MalformedOut(ErrorOut):
    pass


class NotFoundOut(ErrorOut):
    number: str


class CertificateSummaryOut(Schema):
    number: str
    organization: str
    uscc: str
    status: str
    status_code: str
    status_label: str
    star_grade: str
    issued_on: str | None
    expires_on: str | None
    url: str


class CertificatePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[CertificateSummaryOut]


def _language(request) -> str:
    return getattr(request, "LANGUAGE_CODE", None) or get_language() or "zh-hans"


def _cacheable(request, response: HttpResponse, etag: str) -> HttpResponse:
    """ETag + ``no-cache``: caches may keep the answer but must re-check it every time."""
    response["ETag"] = f'"{etag}"'
    response["Cache-Control"] = "public, no-cache"
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _not_modified(request, etag: str) -> bool:
    presented = request.headers.get("If-None-Match", "")
    return bool(presented) and (presented.strip() == "*" or f'"{etag}"' in presented)


@public.get(
    "/certificates/{number}",
    response={200: CertificateOut, 400: MalformedOut, 404: NotFoundOut, 429: ErrorOut},
    summary="One certificate by number",
    operation_id="certificate",
)
@throttle("api", "RATELIMIT_API")
def certificate(request, number: str):
    """A certificate's public facts and status history. The number is read forgivingly (any
    case, spaces, full-width characters). 400 for a malformed number, 404 for an unknown one.
    Answers carry an ETag: send it back in ``If-None-Match`` for a 304."""
    canonical = normalize_number(number)
    if canonical is None:
        detail = "not a certificate number"
        try:
            numbering.parse_number(number)
        except ValueError as exc:
            detail = str(exc)
        return error(request, 400, "malformed certificate number", detail)
    language = _language(request)
    field = payload_field(language)
    row = public_row_read(canonical, language)
    if row is None:
        return error(
            request,
            404,
            "certificate not found",
            "no certificate has this number",
            number=canonical,
        )
    payload, etag, _token = row
    etag = f"{etag}-{field[-2:]}"
    if _not_modified(request, etag):
        return _cacheable(request, HttpResponse(status=304), etag)
    return _cacheable(
        request, HttpResponse(payload.encode(), content_type="application/json"), etag
    )


@public.api_operation(["HEAD"], "/certificates/{number}", include_in_schema=False)
@throttle("api", "RATELIMIT_API")
def certificate_head(request, number: str):
    return certificate.__wrapped__(request, number)


class SearchIn(Schema):
    name: str = Field("", max_length=MAX_QUERY)
    uscc: str = Field("", max_length=MAX_QUERY)
    number: str = Field("", max_length=MAX_QUERY)
    status: Literal["", *Certificate.Status.values] = ""  # type: ignore[valid-type]
    page: int = Field(1, ge=1)


@public.get(
    "/certificates",
    response={200: CertificatePageOut, **ERRORS},
    summary="Search certificates",
    operation_id="certificate_search",
)
@throttle("api", "RATELIMIT_API")
def certificate_search(request, filters: Query[SearchIn]):
    """Certificates by organisation name (its characters in order: ``苏州金桥`` finds
    ``苏州市金桥电器有限公司``), by USCC (exact) or by number, optionally of one status;
    ``PAGE_SIZE`` per page, ordered by organisation and number. At least one of ``name``
    (two characters or more), ``uscc`` or ``number`` is needed."""
    name = filters.name.replace("\x00", "").strip()[:MAX_QUERY]
    uscc = filters.uscc.replace("\x00", "").strip().upper()[:MAX_QUERY]
    number = filters.number.replace("\x00", "").strip()[:MAX_QUERY]
    if not (name or uscc or number):
        return error(request, 400, "invalid request", "give name, uscc or number")
    if name and len(name) < 2:
        return error(request, 400, "invalid request", "name needs at least two characters")
    rows = PublicCertificate.objects.all()
    if number:
        canonical = normalize_number(number)
        if canonical is None:
            return error(request, 400, "malformed certificate number", "not a certificate number")
        rows = rows.filter(number=canonical)
    if uscc:
        rows = rows.filter(uscc=uscc)
    if name:
        rows = rows.filter(certificate__in=Certificate.objects.filter(name_query(name)))
    if filters.status:
        rows = rows.filter(status=filters.status)
    field = "payload_en" if _language(request).startswith("en") else "payload_zh"
    rows = rows.order_by("organization_name", "number").values_list(field, "etag", "token")
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.page(min(filters.page, paginator.num_pages))
    results, digest = [], hashlib.sha256(field.encode())
    for payload, etag, token in page.object_list:
        data = json.loads(payload)
        digest.update(etag.encode())
        results.append(
            {
                "number": data["number"],
                "organization": data["organization"],
                "uscc": data["uscc"],
                "status": data["status"],
                "status_code": data["status_code"],
                "status_label": data["status_label"],
                "star_grade": data["star_grade"],
                "issued_on": data["issued_on"],
                "expires_on": data["expires_on"],
                "url": request.build_absolute_uri(f"/verify/{token}/"),
            }
        )
    body = {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": results,
    }
    digest.update(f"{paginator.count}:{page.number}".encode())
    etag = digest.hexdigest()[:32]
    if _not_modified(request, etag):
        return _cacheable(request, HttpResponse(status=304), etag)
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False).encode(), content_type="application/json"
    )
    return _cacheable(request, response, etag)


class StaffCertificateOut(Schema):
    id: int
    number: str
    organization_id: int
    organization: str
    uscc: str
    head_number: str | None
    status: str
    status_code: str
    status_changed_on: date | None
    star_grade: str
    standard: str
    scope: str
    issued_on: date
    expires_on: date
    suspended_until: date | None
    programme_id: int | None
    verify_url: str


class StaffCertificatePageOut(Schema):
    count: int
    page: int
    pages: int
    results: list[StaffCertificateOut]


class StaffSearchIn(Schema):
    status: Literal["", *Certificate.Status.values] = ""  # type: ignore[valid-type]
    organization_id: int | None = None
    changed_since: date | None = None
    page: int = Field(1, ge=1)


@staff.get(
    "/certificates",
    response={200: StaffCertificatePageOut, **ERRORS},
    summary="Certificates (staff integrations)",
    operation_id="staff_certificates",
)
@throttle("api_staff", "RATELIMIT_API_STAFF", key=staff_token_key)
def staff_certificates(request, filters: Query[StaffSearchIn]):
    """Every certificate with its organisation's id, for the CB's website, ERP and invoicing
    (scope ``certificates``: matrix row ``api.read_certificates``); filter by status,
    organisation, or status changed on or after a date. ``PAGE_SIZE`` × 5 per page."""
    require_scope(request, "api.read_certificates")
    qs = Certificate.objects.select_related("organization", "head").order_by("pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.organization_id is not None:
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.changed_since is not None:
        qs = qs.filter(status_changed_on__gte=filters.changed_since)
    paginator = Paginator(qs, PAGE_SIZE * 5)
    page = paginator.page(min(filters.page, paginator.num_pages))
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "results": [
            {
                "id": c.pk,
                "number": c.number,
                "organization_id": c.organization_id,
                "organization": c.organization_name or c.organization.name,
                "uscc": c.organization.uscc,
                "head_number": c.head.number if c.head_id else None,
                "status": c.status,
                "status_code": c.status_code,
                "status_changed_on": c.status_changed_on,
                "star_grade": c.star_grade,
                "standard": c.standard,
                "scope": c.scope_text,
                "issued_on": c.issued_on,
                "expires_on": c.expires_on,
                "suspended_until": c.suspended_until,
                "programme_id": c.programme_id,
                "verify_url": request.build_absolute_uri(c.get_absolute_url()),
            }
            for c in page.object_list
        ],
    }
