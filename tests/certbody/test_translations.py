"""The Chinese catalogue (locale/zh_Hans) is complete, compiled and up to date.

The compiled django.mo is committed so that a machine without gettext still shows Chinese;
these tests catch a .po edited without "make messages" (stale .mo), untranslated English
strings, fuzzy entries (msgfmt leaves them out) and broken placeholders.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from applications.models import GRADE_CHOICES, Application
from certificates.models import Certificate

CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")
NAMED_PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdf]")


@dataclass
class Entry:
    msgid: str
    msgstr: str
    msgctxt: str | None
    fuzzy: bool
    line: int
    plural: str | None = None


def _unquote(text: str) -> str:
    """The value of one quoted PO string, e.g. '"a \\"b\\"\\n"' -> 'a "b"\n'."""
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a PO file (header and obsolete "#~" entries left out). A plural entry keeps
    its ``msgid_plural`` and its first form (``msgstr[0]``, Chinese has one form) as msgstr."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    current: str | None = None
    fuzzy = False
    start = 0

    def flush():
        nonlocal fields, current, fuzzy
        if "msgid" in fields and fields["msgid"] != "":
            assert "msgstr" in fields, f"{path}:{start}: msgid without msgstr"
            entries.append(
                Entry(
                    fields["msgid"],
                    fields["msgstr"],
                    fields.get("msgctxt"),
                    fuzzy,
                    start,
                    fields.get("msgid_plural"),
                )
            )
        fields, current, fuzzy = {}, None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if "msgid" in fields:  # a comment starts the next entry
                flush()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgid_plural" and "msgid" in fields:
            current = keyword
            fields[keyword] = _unquote(rest)
            continue
        if keyword.startswith("msgstr["):
            # msgstr[0] is the entry's translation; further forms are kept apart.
            keyword = "msgstr" if keyword == "msgstr[0]" else keyword
        if keyword.startswith("msgstr[") and "msgid" in fields:
            current = keyword
            fields[keyword] = _unquote(rest)
            continue
        if keyword in ("msgctxt", "msgid", "msgstr"):
            if keyword in ("msgctxt", "msgid") and "msgid" in fields:
                flush()
            if not fields:
                start = number
            assert keyword != "msgstr" or "msgid" in fields, f"{path}:{number}: stray msgstr"
            current = keyword
            fields[keyword] = _unquote(rest)
        elif line.startswith('"') and current:
            fields[current] += _unquote(line)
        else:
            raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    flush()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO_FILE.is_file(), f"{PO_FILE} is missing: run make messages"
    found = parse_po(PO_FILE)
    assert len(found) > 100, "the parser found suspiciously few entries"
    return found


def _translate(entry: Entry) -> str:
    if entry.plural is not None:
        return translation.ngettext(entry.msgid, entry.plural, 1)
    if entry.msgctxt is not None:
        return translation.pgettext(entry.msgctxt, entry.msgid)
    return translation.gettext(entry.msgid)


def test_compiled_catalogue_is_present():
    assert MO_FILE.is_file(), f"{MO_FILE} is missing: run make messages and commit it"


def test_labels_are_chinese_by_default_language():
    with translation.override("zh-hans"):
        assert Certificate.Status.VALID.label == "有效"
        assert Certificate.Status.SUSPENDED.label == "暂停"
        assert Certificate.Status.WITHDRAWN.label == "撤销"
        assert str(dict(GRADE_CHOICES)["four_star"]) == "四星级"
        assert Certificate(star_grade="four_star").get_star_grade_display() == "四星级"
        assert Application.State.UNDER_REVIEW.label == "评审中"
        # Same English word, different Chinese: a withdrawn application is not 撤销.
        assert Application.State.WITHDRAWN.label == "已撤回"


def test_labels_are_english_in_english():
    with translation.override("en"):
        assert Certificate.Status.VALID.label == "Valid"
        assert Certificate.Status.WITHDRAWN.label == "Withdrawn"
        assert str(dict(GRADE_CHOICES)["four_star"]) == "Four star"
        assert Certificate(star_grade="four_star").get_star_grade_display() == "Four star"
        assert Application.State.UNDER_REVIEW.label == "Under review"
        assert Application.State.WITHDRAWN.label == "Withdrawn"


def test_no_entry_is_fuzzy(entries):
    fuzzy = [f"{PO_FILE.name}:{e.line} {e.msgid!r}" for e in entries if e.fuzzy]
    assert not fuzzy, "fuzzy entries are not compiled; review them and drop the flag"


def test_every_english_string_is_translated(entries):
    missing = [
        f"{PO_FILE.name}:{e.line} {e.msgid!r}"
        for e in entries
        if not e.msgstr and not CJK.search(e.msgid)
    ]
    assert not missing, "untranslated strings"


def test_placeholders_are_kept(entries):
    broken = [
        f"{PO_FILE.name}:{e.line} {e.msgid!r}"
        for e in entries
        if e.msgstr
        and sorted(NAMED_PLACEHOLDER.findall(e.msgid))
        != sorted(NAMED_PLACEHOLDER.findall(e.msgstr))
    ]
    assert not broken, "placeholders differ between msgid and msgstr"


def test_compiled_catalogue_matches_the_po_file(entries):
    """A stale django.mo (the .po changed, "make messages" not run) shows here."""
    with translation.override("zh-hans"):
        stale = [
            f"{PO_FILE.name}:{e.line} {e.msgid!r}: .po {e.msgstr!r}, .mo {_translate(e)!r}"
            for e in entries
            if e.msgstr and not e.fuzzy and _translate(e) != e.msgstr
        ]
    assert not stale, "django.mo is stale: run make messages"


def test_msgids_are_english(entries):
    """English is the source language: a msgid with Chinese in it reads half Chinese on an
    English screen (the Chinese belongs in the translation)."""
    mixed = [f"{PO_FILE.name}:{e.line} {e.msgid!r}" for e in entries if CJK.search(e.msgid)]
    assert not mixed, "msgids with Chinese characters"


SOURCE_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "var", "bench-results", "__pycache__", "*.sqlite3*", ".ruff_cache", "*.mo"
)


def test_every_translatable_string_is_in_the_catalogue(tmp_path):
    """Extract the messages of a copy of the source tree with Django's own makemessages (the
    same extraction ``make messages`` runs) and find each one in the committed catalogue: a
    string marked for translation in a template, form, table column, message or e-mail but
    missing from locale/ would be shown untranslated."""
    if shutil.which("xgettext") is None:
        pytest.fail("gettext is not installed: the Makefile's setup step installs it")
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(root, copy, ignore=SOURCE_IGNORE)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(copy)},
    )
    extracted = parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    # makemessages merged the committed catalogue: a string it lacks comes back untranslated
    # (or fuzzy, matched to a look-alike).
    missing = sorted(
        repr(e.msgid) + (f" (context {e.msgctxt!r})" if e.msgctxt else "")
        for e in extracted
        if not e.msgstr or e.fuzzy
    )
    assert not missing, "strings outside the catalogue: run make messages and translate them"
