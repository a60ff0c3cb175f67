"""One screen label per evaluation result (audits.selectors.grade_label), in the reader's
language, whose Chinese is the word the pure rules and the printed documents use."""

import pytest
from django.utils import translation

from audits import scoring
from audits.selectors import grade_label
from audits.selectors.score_sheets import GRADE_LABELS


def test_every_result_has_a_label():
    assert set(GRADE_LABELS) == set(scoring.GRADES)


@pytest.mark.parametrize("code", list(scoring.GRADES))
def test_chinese_label_is_the_documents_word(code):
    with translation.override("zh-hans"):
        assert grade_label(code) == scoring.GRADES[code]


def test_english_labels():
    with translation.override("en"):
        assert [grade_label(code) for code in scoring.GRADE_ORDER] == [
            "Fail",
            "Standard",
            "Three star",
            "Four star",
            "Five star",
        ]
        assert grade_label("") == ""
        assert grade_label("unknown") == "unknown"
