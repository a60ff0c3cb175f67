"""Screens and mails speak through the catalogue (issue #15): no template a person reads on
screen carries Chinese text of its own. Chinese appears only in what the rules keep Chinese:
certificates, notices and reports as PDFs (004 §6.2.4) and the Chinese twin of each e-mail
(``templates/emails/*.txt``; the English twins live in ``templates/emails/en/``)."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")


def kept_chinese(path: Path) -> bool:
    parts = path.relative_to(TEMPLATES).parts
    return "pdf" in parts or (parts[0] == "emails" and "en" not in parts)


def test_no_screen_template_has_chinese_text_of_its_own():
    found = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file() and path.suffix in {".html", ".txt"} and not kept_chinese(path):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for run in CJK.findall(line):
                    found.append(f"{path.relative_to(TEMPLATES)}:{number}: {run}")
    assert not found, "\n".join(found)
