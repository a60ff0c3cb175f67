"""Small uploaded files for the tests."""

import io
import zipfile


def office_file(main_part: str = "word/document.xml") -> bytes:
    """A minimal Office Open XML package (a DOCX by default; ``xl/workbook.xml`` makes an XLSX).

    Its members carry a fixed timestamp: these bytes appear in parametrized test ids, which
    every xdist worker must collect alike."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in (("[Content_Types].xml", "<Types/>"), (main_part, "<document/>")):
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return buffer.getvalue()
