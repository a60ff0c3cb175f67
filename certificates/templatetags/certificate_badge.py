"""``{% badge_snippet certificate %}``: the portal's card offering a certificate's live badge
(``certificates.badge``) as HTML to paste into the client's own website."""

from django import template
from django.utils.html import escape

from certificates import badge

register = template.Library()


@register.inclusion_tag("certificates/_badge_snippet.html")
def badge_snippet(certificate) -> dict:
    """The preview and the snippet ``<a href=verify-url><img src=badge-url alt=…></a>`` of
    ``certificate``, with absolute URLs (``settings.SITE_URL``) and the alt text in the
    active language."""
    alt = badge.badge_alt(certificate)
    # Plain text: the template escapes it once more inside the copy field.
    href, src = escape(badge.verify_url(certificate)), escape(badge.badge_url(certificate))
    snippet = f'<a href="{href}"><img src="{src}" alt="{escape(alt)}" height="68"></a>'
    return {"certificate": certificate, "snippet": snippet, "alt": alt}
