"""System checks of the CB's own data (registered in ``CertbodyConfig.ready``)."""

from django.core.checks import Error, Warning, register
from django.db import DatabaseError
from django.utils import timezone


def calendar_published_check(app_configs=None, **kwargs):
    """certbody.W001: the working-day calendar of this year (from 1 December also next year) is
    not published, so deadlines in it count Monday–Friday only (domain.md §19)."""
    if app_configs is not None and not any(c.label == "certbody" for c in app_configs):
        return []
    from certbody.workdays import published_years

    today = timezone.localdate()
    needed = [today.year, today.year + 1] if today.month == 12 else [today.year]
    try:
        published = published_years()
    except DatabaseError:
        # OperationalError / ProgrammingError: no database yet, or before `migrate`.
        return []
    return [
        Warning(
            f"The working-day calendar for {year} is not published.",
            hint=(
                f"Working-day deadlines in {year} count Monday–Friday only. Run "
                f"`manage.py load_calendar --year {year}` after upgrading chinesecalendar, or "
                f"enter {year}'s holidays and make-up working days in the admin and add the "
                "published calendar year."
            ),
            obj="certbody.CalendarYear",
            id="certbody.W001",
        )
        for year in needed
        if year not in published
    ]


@register("pdf")
def pdf_fonts_check(app_configs=None, **kwargs):
    """certbody.E010 (certbody.W010 when ``PDF_ENABLED`` is off): the font families the PDF
    templates name do not resolve to a font with Chinese glyphs, so certificates, notices and
    audit reports would show empty boxes (issue #11). Rendering refuses then and documents stay
    pending; install ``fonts-noto-cjk``. Asked of fontconfig, as WeasyPrint does."""
    if app_configs is not None and not any(c.label == "certbody" for c in app_configs):
        return []
    from django.conf import settings

    from certbody.pdf import font_problems

    problems = font_problems()
    if not problems:
        return []
    enabled = settings.PDF_ENABLED
    level = Error if enabled else Warning
    return [
        level(
            f"PDF fonts: {problem}",
            hint=(
                "Install the Noto CJK fonts (Debian: apt-get install fonts-noto-cjk "
                "libharfbuzz-subset0) and restart. Until then certificates and notices stay "
                "pending and audit reports cannot be generated."
                if enabled
                else "PDF_ENABLED is off here: this process renders no PDFs; make sure the "
                "process that does has the fonts."
            ),
            obj="certbody.pdf",
            id="certbody.E010" if enabled else "certbody.W010",
        )
        for problem in problems
    ]
