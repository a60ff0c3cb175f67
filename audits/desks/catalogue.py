"""The indicator catalogue versions desk (004 §5.6.5.2)."""

from decimal import Decimal

import django_filters
import django_tables2 as tables
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audits import forms, scoring, selectors, services
from audits.desks._common import _yes_no
from audits.models import (
    Indicator,
    IndicatorCatalogue,
    ScoreSheet,
)
from certbody.workspace import Action, Desk, register
from certbody.workspace.tables import BaseTable, ObjectLinkColumn


def _points(value) -> str:
    """Points without trailing zeros or an exponent: 40, 5.5."""
    return f"{(value or Decimal(0)).normalize():f}"


def _part_totals_text(sums: dict) -> str:
    return "；".join(
        f"{scoring.PART_NAMES[part]} {_points(sums.get(part))}/{total}"
        + ("" if (sums.get(part) or Decimal(0)) == total else " ✗")
        for part, total in scoring.PART_TOTALS.items()
    )


def _annotated_sums(catalogue) -> dict:
    return {part: getattr(catalogue, f"points_{part}", None) for part in scoring.PART_TOTALS}


class CatalogueTable(BaseTable):
    version = ObjectLinkColumn("catalogues", verbose_name=_("version"))
    title = tables.Column(verbose_name=_("title"))
    is_current = tables.BooleanColumn(verbose_name=_("current"))
    locked = tables.BooleanColumn(verbose_name=_("used by score sheets (locked)"))
    indicator_count = tables.Column(verbose_name=_("indicators"))
    totals = tables.Column(
        empty_values=(), orderable=False, accessor="pk", verbose_name=_("points per part")
    )

    class Meta:
        model = IndicatorCatalogue
        fields = ("version", "title", "is_current", "locked", "indicator_count", "totals")
        attrs = BaseTable.Meta.attrs

    def render_totals(self, record):
        return _part_totals_text(_annotated_sums(record))

    def value_totals(self, record):
        return _part_totals_text(_annotated_sums(record))


class CatalogueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    is_current = django_filters.BooleanFilter(label=_("current"))

    class Meta:
        model = IndicatorCatalogue
        fields = ["q", "is_current"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(version__icontains=value) | Q(title__icontains=value))


def _catalogues(request):
    """Versions with their lock, indicator count and points per part, in one query."""
    return IndicatorCatalogue.objects.annotate(
        locked=Exists(ScoreSheet.objects.filter(catalogue_id=OuterRef("pk"))),
        indicator_count=Count("indicators"),
        **{
            f"points_{part}": Sum("indicators__max_points", filter=Q(indicators__part=part))
            for part in scoring.PART_TOTALS
        },
    ).order_by("-is_current", "-created_at", "-pk")


def _catalogue_summary(catalogue: IndicatorCatalogue, user):
    return [
        (_("version"), catalogue.version),
        (_("title"), catalogue.title),
        (_("current"), _yes_no(catalogue.is_current)),
        (_("used by score sheets (locked)"), _yes_no(catalogue.locked)),
        (_("indicators"), catalogue.indicator_count),
        (_("points per part"), _part_totals_text(_annotated_sums(catalogue))),
        (_("notes"), catalogue.notes),
    ]


def _catalogue_sections(catalogue: IndicatorCatalogue, request) -> dict:
    indicators = list(catalogue.indicators.all())
    parts = []
    for part, total in scoring.PART_TOTALS.items():
        rows = [i for i in indicators if i.part == part]
        for indicator in rows:
            indicator.points_text = _points(indicator.max_points)
        points = sum((i.max_points for i in rows), Decimal(0))
        parts.append(
            {
                "part": part,
                "label": Indicator.Part(part).label,
                "indicators": rows,
                "points": _points(points),
                "total": total,
                "ok": points == total,
            }
        )
    return {
        "catalogue_parts": parts,
        "catalogue_problems": selectors.part_total_problems(
            (i.part, i.max_points) for i in indicators
        ),
        "catalogue_sheets": catalogue.score_sheets.count(),
    }


def _catalogue_indicators_update(*, catalogue, actor, **data):
    return services.catalogue_indicators_update(
        catalogue=catalogue, actor=actor, rows=forms.CatalogueIndicatorsForm.rows(data)
    )


register(
    Desk(
        key="catalogues",
        model=IndicatorCatalogue,
        title=_("Indicator catalogues"),
        permission="audits.view_desk",
        queryset=_catalogues,
        table_class=CatalogueTable,
        filterset_class=CatalogueFilter,
        summary=_catalogue_summary,
        sections_template="audits/desk_catalogue.html",
        sections_context=_catalogue_sections,
        order=25,
        actions=[
            Action(
                "edit-indicators",
                _("Edit the indicators"),
                _catalogue_indicators_update,
                "audits.manage_catalogue",
                "catalogue",
                form_class=forms.CatalogueIndicatorsForm,
                available=lambda c: not c.is_locked,
                confirm=_(
                    "A version used by a score sheet cannot change; the current version's parts "
                    "must still add up to 40 / 35 / 25 (004 §5.6.5.2)."
                ),
            ),
            Action(
                "copy",
                _("Copy as a new version"),
                services.catalogue_new_version,
                "audits.manage_catalogue",
                "source",
                form_class=forms.CatalogueNewVersionForm,
                next_url=lambda new, source: reverse(
                    "workspace:object", args=["catalogues", new.pk]
                ),
            ),
            Action(
                "make-current",
                _("Make the current version"),
                services.catalogue_make_current,
                "audits.manage_catalogue",
                "catalogue",
                available=lambda c: not c.is_current,
                confirm=_(
                    "New score sheets will use this version; sheets already opened keep theirs."
                ),
            ),
        ],
    )
)
