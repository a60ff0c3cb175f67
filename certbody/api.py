"""The JSON API at ``/api/v1/`` (issue #17), built with django-ninja: one ``NinjaAPI`` whose
OpenAPI 3 description is served at ``/api/v1/openapi.json`` and read at ``/api/v1/docs``.

The apps add their routers from ``AppConfig.ready`` (``register_router``), so this module
imports no app. Two audiences:

- the public (no log-in): certificate verification, rate-limited per address;
- the CB's other systems (website, ERP, invoicing) under ``/api/v1/staff/``, with
  ``Authorization: Bearer <token>``: per-client ``certbody.models.ApiToken`` created by a
  superuser in the admin, hashed at rest, shown once. A token is a principal holding the matrix
  rows its scopes name (``certbody.policy.API_SCOPES``) and nothing else; endpoints ask the
  matrix through ``require_scope``.

Every error answers in one JSON shape, ``ErrorOut``: ``{"error": <short English phrase>,
"detail": <explanation or list of problems>}`` (some add a field, e.g. 404's ``number``).
"""

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import rules
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.docs import Swagger
from ninja.security import HttpBearer

from certbody import policy
from certbody.security import Ratelimited, ratelimited

TOKEN_PREFIX = "cbt_"
# ``last_used_at`` is written at most this often per token (not one write per request).
LAST_USED_EVERY = timedelta(minutes=5)


class ErrorOut(Schema):
    """The one shape of every error answer."""

    error: str
    detail: Any = None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 429: ErrorOut}


class TokenPrincipal:
    """Who calls the staff API: a token, holding exactly the matrix rows of its scopes.

    Quacks like a user for ``certbody.policy`` (never staff, never a client, no role), so the
    matrix's predicates and ``certbody.masking.can_see_personal_data`` answer for it.
    """

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    is_client = False
    is_anonymous = False
    pk = None

    def __init__(self, *, token_id: int, name: str, scopes):
        self.token_id = token_id
        self.name = name
        self.api_scopes = frozenset(scopes)

    def __str__(self):
        return self.name

    def has_perm(self, permission: str, obj=None) -> bool:
        return rules.has_perm(permission, self, obj)


def token_create(*, name: str, scopes, actor) -> tuple[Any, str]:
    """Create an API token for the client ``name`` with ``scopes`` (keys of
    ``policy.API_SCOPES``); returns ``(ApiToken, secret)``. The secret is not stored (its
    SHA-256 is) and cannot be shown again. ``ValueError`` for an unknown scope."""
    from certbody.models import ApiToken

    unknown = set(scopes) - set(policy.API_SCOPES)
    if unknown:
        raise ValueError(f"unknown API scopes: {sorted(unknown)}")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        prefix=prefix,
        key_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        created_by=actor,
    )
    return token, secret


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_principal(secret: str) -> TokenPrincipal | None:
    """The principal of a presented bearer token, or None when it is unknown, malformed or
    revoked (constant-time comparison of the hash)."""
    from certbody.models import ApiToken

    if not secret.startswith(TOKEN_PREFIX):
        return None
    prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True).first()
    if token is None or not hmac.compare_digest(token.key_hash, _hash(secret)):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return TokenPrincipal(token_id=token.pk, name=token.name, scopes=token.scopes)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` for ``/api/v1/staff/``."""

    def authenticate(self, request, token: str):
        return token_principal(token)


def require_scope(request, permission: str) -> TokenPrincipal:
    """The calling token, or a 403 unless it holds the matrix row ``permission``."""
    principal = request.auth
    if not policy.allowed(principal, permission):
        raise HttpError(403, f"this token does not hold {permission}")
    return principal


def staff_token_key(group: str, request) -> str:
    """Rate-limit key of the staff API: the token, whatever address it calls from."""
    principal = getattr(request, "auth", None)
    return f"token:{principal.token_id}" if principal else "token:none"


class CspSwagger(Swagger):
    """Swagger UI from the bundled static files (no CDN). Its page carries no inline script:
    the settings travel as a JSON data block read by ninja's static ``swagger-ui-init.js``, so
    the strict CSP (certbody.settings) holds unchanged."""


api = NinjaAPI(
    title="certbody API",
    version="1",
    description=(
        "Public certificate verification and read access for the certification body's own "
        'systems. Errors: `{"error": …, "detail": …}`.'
    ),
    urls_namespace="api",
    docs=CspSwagger(settings={"persistAuthorization": False}),
    docs_url="/docs",
)


def error(request, status: int, message: str, detail=None, **extra):
    """An ``ErrorOut`` response (plus ``extra`` fields) with HTTP ``status``."""
    body = {"error": message, "detail": detail, **extra}
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, cls=DjangoJSONEncoder).encode(),
        status=status,
        content_type="application/json",
    )


@api.exception_handler(ValidationError)
def _invalid(request, exc):
    return error(request, 400, "invalid request", exc.errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = error(request, 401, "authentication required", "Send Authorization: Bearer <token>.")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc):
    messages = {403: "forbidden", 404: "not found", 405: "method not allowed"}
    return error(request, exc.status_code, messages.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not found", str(exc) or None)


@api.exception_handler(Ratelimited)
def _too_many(request, exc):
    # The same answer as the project's handler (certbody.security.ratelimited).
    return ratelimited(request, exc)


def register_router(prefix: str, router: Router, *, tags=None) -> None:
    """Add an app's router under ``/api/v1/<prefix>`` (from ``AppConfig.ready``; idempotent)."""
    if router not in [r for _, r in api._routers]:
        api.add_router(prefix, router, tags=tags)
