"""Indicator catalogue forms (004 §5.6.5.2)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from audits.forms._common import _textarea
from audits.models import (
    Indicator,
)
from certbody.workspace import ActionForm


class CatalogueNewVersionForm(forms.Form):
    version = forms.CharField(label=_("new version"), max_length=20)
    title = forms.CharField(
        label=_("title"), max_length=200, required=False, help_text=_("Empty: keep the title.")
    )


class CatalogueIndicatorsForm(ActionForm):
    """Name, points, scoring method and guidance of every indicator of a version (``obj``),
    four fields per indicator (``name_<pk>``, ``max_points_<pk>``, ``method_<pk>``,
    ``guidance_<pk>``) in the catalogue's order. ``rows`` turns the cleaned data into the rows
    of ``audits.services.catalogue_indicators_update``, which checks the totals and the lock."""

    ROW_FIELDS = ("name", "max_points", "method", "guidance")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for indicator in self.obj.indicators.all():
            pk, code = indicator.pk, indicator.code
            self.fields[f"name_{pk}"] = forms.CharField(
                label=f"{code} {_('indicator')}",
                max_length=Indicator._meta.get_field("name").max_length,
                initial=indicator.name,
            )
            self.fields[f"max_points_{pk}"] = forms.DecimalField(
                label=f"{code} {_('points')}",
                max_digits=5,
                decimal_places=2,
                min_value=Decimal("0.01"),
                initial=indicator.max_points,
                help_text=indicator.get_part_display(),  # the label names the part's total
            )
            self.fields[f"method_{pk}"] = forms.ChoiceField(
                label=f"{code} {_('scoring')}",
                choices=Indicator.Method.choices,
                initial=indicator.method,
            )
            self.fields[f"guidance_{pk}"] = forms.CharField(
                label=f"{code} {_('guidance for the auditor')}",
                required=False,
                widget=_textarea(2),
                initial=indicator.guidance,
            )

    @classmethod
    def rows(cls, data: dict) -> list[dict]:
        """``[{"id": pk, "name": …, "max_points": Decimal, "method": …, "guidance": …}]``."""
        rows: dict[int, dict] = {}
        for key, value in data.items():
            name, _sep, pk = key.rpartition("_")
            if name in cls.ROW_FIELDS and pk.isdigit():
                rows.setdefault(int(pk), {"id": int(pk)})[name] = value
        return list(rows.values())
