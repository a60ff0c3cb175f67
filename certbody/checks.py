"""System checks of the CB's own data and deployment (registered in ``CertbodyConfig.ready``).

- ``certbody.W001`` (warning): this year's working-day calendar is not published.
- ``certbody.I001`` (info): from 1 December, next year's calendar is not published yet. Info, not
  a warning, so ``check --deploy --fail-level WARNING`` still passes in December: the calendar
  job loads it during the month, and until 1 January no deadline depends on it being complete.
  Both are tagged ``calendar`` (``manage.py check --tag calendar`` runs them alone, e.g. from
  monitoring); silence them with ``SILENCED_SYSTEM_CHECKS`` if need be.
- ``certbody.W002`` (warning): DEBUG is off but the rate limiter's cache is local to each process
  (local memory or dummy: no ``REDIS_URL``), so every gunicorn worker counts for itself and the
  limits multiply by the number of workers.
"""

from django.conf import settings
from django.core.checks import Error, Info, Warning, register
from django.db import DatabaseError
from django.utils import timezone

CALENDAR_TAG = "calendar"

# Cache backends whose counters no other process sees.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


def calendar_published_check(app_configs=None, **kwargs):
    """certbody.W001: the working-day calendar of this year is not published, so deadlines in
    it count Monday–Friday only (domain.md §19); certbody.I001: from 1 December the same for
    next year (information only)."""
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
    messages = []
    for year in needed:
        if year in published:
            continue
        this_year = year == today.year
        messages.append(
            (Warning if this_year else Info)(
                f"The working-day calendar for {year} is not published.",
                hint=(
                    f"Working-day deadlines in {year} count Monday–Friday only. Run "
                    f"`manage.py load_calendar --year {year}` after upgrading chinesecalendar, "
                    f"or enter {year}'s holidays and make-up working days in the admin and add "
                    "the published calendar year."
                ),
                obj="certbody.CalendarYear",
                id="certbody.W001" if this_year else "certbody.I001",
            )
        )
    return messages


def ratelimit_cache_shared_check(app_configs=None, **kwargs):
    """certbody.W002: with DEBUG off, rate limits counted on a cache local to each process."""
    if settings.DEBUG or not getattr(settings, "RATELIMIT_ENABLE", True):
        return []
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            f"The rate limits are counted on the cache {alias!r} ({backend}), which each "
            "process keeps for itself.",
            hint=(
                "Every web server worker counts for itself, so the limits on the public pages "
                "and the log-in multiply by the number of workers. Set REDIS_URL (a shared "
                "Redis cache) in production."
            ),
            id="certbody.W002",
        )
    ]


@register("pdf")
def pdf_fonts_check(app_configs=None, **kwargs):
    """certbody.E010 (certbody.W010 when ``PDF_ENABLED`` is off): the font families the PDF
    templates name do not resolve to a font with Chinese glyphs, so certificates, notices and
    audit reports would show empty boxes. Rendering refuses then and documents stay
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
