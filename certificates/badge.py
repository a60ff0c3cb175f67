"""The live certificate badge (issue #17): an SVG a certified organisation embeds on its own
website, served from ``/badge/<token>.svg`` with the certificate's QR token, showing the
organisation, the star grade and the current status (red once suspended or withdrawn) and
linking, through the snippet the portal offers, to the QR verification page (002 §4.1.2).

The badge is public data only (what the verification page shows). It is kept current by HTTP
caching, not by invalidation: ``Cache-Control: public, max-age=BADGE_MAX_AGE`` plus an ETag of
the rendered SVG, so a browser or proxy shows a status change within ``BADGE_MAX_AGE`` seconds
and revalidates cheaply (304) while nothing changed.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from certbody.badges import ICONS, tone
from certbody.security import throttle
from certificates.models import Certificate
from certificates.public import STATUS_TEXT, organization_name

Status = Certificate.Status

# Seconds a badge may be reused without asking again: a suspension shows within five minutes.
BADGE_MAX_AGE = 300
# The badge's language when the snippet asks for none: the certificate's (004 §6.2.4).
DEFAULT_LANGUAGE = "zh-hans"

GREEN, RED, GREY = "#1a7f37", "#c62828", "#5c6670"
# Red once the certificate may not be used because of a sanction or a suspension; grey when it
# ended otherwise (cancelled at the client's request, expired, replaced).
COLOURS = {
    Status.VALID: GREEN,
    Status.SUSPENDED: RED,
    Status.WITHDRAWN: RED,
    Status.CANCELLED: GREY,
    Status.EXPIRED: GREY,
    Status.SUPERSEDED: GREY,
}

MIN_WIDTH, MAX_WIDTH, PADDING = 260, 480, 12
NAME_SIZE = 14  # px, the organisation's line


def text_width(text: str, size: int = NAME_SIZE) -> float:
    """Estimated width in px of ``text`` at ``size`` px: a CJK or full-width character is one
    em, other characters about 0.6 em (no font metrics needed for a badge)."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def fit(text: str, width: float, size: int = NAME_SIZE) -> str:
    """``text`` shortened with "…" so that it fits ``width`` px at ``size`` px."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def verify_url(certificate: Certificate) -> str:
    """The absolute URL of the certificate's QR verification page (``settings.SITE_URL``)."""
    return settings.SITE_URL + reverse("certificates:verify_token", args=[certificate.token])


def badge_url(certificate: Certificate) -> str:
    """The absolute URL of the certificate's badge."""
    return settings.SITE_URL + reverse("certificates:badge", args=[certificate.token])


def badge_alt(certificate: Certificate) -> str:
    """The snippet's ``alt`` text in the active language: who holds which certificate (no
    status, which the pasted snippet cannot keep current; the image itself says it)."""
    return gettext(
        "%(organization)s: after-sales service certificate %(number)s, verify its status"
    ) % {"organization": organization_name(certificate), "number": certificate.number}


def badge_svg(certificate: Certificate) -> str:
    """The badge of ``certificate`` as SVG text in the active language.

    The organisation's name is escaped by the template (it is the client's own text); the
    ``<title>`` and ``aria-label`` carry the full sentence (organisation, number, grade, status)
    as the image's text alternative. ``data-status`` names the status for tests and scripts.
    """
    name = organization_name(certificate)
    status_label = str(STATUS_TEXT[certificate.status][0])
    grade = str(certificate.get_star_grade_display())
    heading = gettext("After-sales service certification")
    status_line = f"{ICONS[tone(certificate.status)]} {status_label}"
    detail = f"{grade} · {certificate.number}"
    widest = max(
        text_width(name), text_width(f"{heading} · {status_line}", 12), text_width(detail, 11)
    )
    width = int(min(MAX_WIDTH, max(MIN_WIDTH, widest + 2 * PADDING)))
    label = gettext(
        "%(organization)s, after-sales service certificate %(number)s, %(grade)s: %(status)s"
    ) % {
        "organization": name,
        "number": certificate.number,
        "grade": grade,
        "status": status_label,
    }
    return render_to_string(
        "certificates/badge.svg",
        {
            "certificate": certificate,
            "label": label,
            "heading": heading,
            "status_line": status_line,
            "name": fit(name, width - 2 * PADDING),
            "detail": fit(detail, width - 2 * PADDING, 11),
            "colour": COLOURS[certificate.status],
            "width": width,
            "inner": width - 2,
        },
    )


@throttle("badge", "RATELIMIT_VERIFY")
@require_safe
def badge(request, token: str):
    """GET or HEAD /badge/<token>.svg: the certificate's live badge; 404 for an unknown token.

    ``?lang=en`` gives the English badge (default: Chinese). Answers 304 when the client's
    ``If-None-Match`` holds the current ETag."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("organization").only(
            "number",
            "organization_name",
            "organization__name",
            "star_grade",
            "status",
            "token",
        ),
        token=token,
    )
    language = request.GET.get("lang", DEFAULT_LANGUAGE)
    if language not in dict(settings.LANGUAGES):
        language = DEFAULT_LANGUAGE
    with translation.override(language):
        svg = badge_svg(certificate)
    etag = f'"{hashlib.sha256(svg.encode()).hexdigest()[:32]}"'
    matches = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    if etag in matches or f"W/{etag}" in matches:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={BADGE_MAX_AGE}"
    # Other websites embed it: allowed even where they require cross-origin isolation.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
