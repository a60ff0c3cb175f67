"""HTML to PDF, the one place WeasyPrint is called (certificates, notices, audit reports).

A4 pages in Chinese need the Noto CJK fonts and HarfBuzz subsetting (``fonts-noto-cjk``,
``libharfbuzz-subset0``); the font configuration is built once per process because the first
render loads the fonts (~2 s).
"""

from functools import lru_cache

from django.conf import settings
from django.template.loader import render_to_string


@lru_cache(maxsize=1)
def font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    """Render an HTML document (``str``) to PDF bytes; relative URLs resolve from BASE_DIR."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(font_config=font_config())


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render the Django template ``template_name`` with ``context`` to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, context))
