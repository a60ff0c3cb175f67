"""Report rendering lives in ``certbody.spreadsheets`` (shared with the staff list exports);
this module keeps the reporting app's import path."""

from certbody.spreadsheets import (  # noqa: F401
    FORMULA_PREFIXES,
    Report,
    Sheet,
    cell_text,
    neutralise,
    to_csv,
    to_xlsx,
    unneutralise,
)
