"""Small helpers shared by the audits forms."""

from django import forms


def _textarea(rows=5):
    return forms.Textarea(attrs={"rows": rows})


def _has(obj, name) -> bool:
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True
