"""Form widgets shared by the workspace and portal forms of every app."""

from django import forms


class DateInput(forms.DateInput):
    """A browser date picker; its value must be ISO (yyyy-mm-dd) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format=format)
