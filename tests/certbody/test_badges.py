"""Status badges (certbody.badges): every state of every model has a considered tone, and a
badge carries an icon besides its colour, hidden from screen readers, with the label escaped."""

import pytest
from django.apps import apps
from django.utils import translation

from certbody import badges


def _state_values():
    for model in apps.get_models():
        if model.__name__.startswith("Historical"):
            continue
        for name in ("State", "Status"):
            choices = getattr(model, name, None)
            if choices is not None and hasattr(choices, "choices"):
                for value, _label in choices.choices:
                    yield model._meta.model_name, value


def test_every_state_value_has_a_tone_chosen_for_it():
    unlisted = [
        (model, value)
        for model, value in _state_values()
        if value not in badges.TONE_BY_VALUE and (model, value) not in badges.TONE_BY_MODEL
    ]
    assert unlisted == []


@pytest.mark.parametrize(
    ("model", "value", "tone"),
    [
        ("certificate", "valid", "ok"),
        ("certificate", "suspended", "warn"),
        ("certificate", "withdrawn", "bad"),
        ("application", "withdrawn", "neutral"),
        ("application", "submitted", "info"),
        ("scoresheet", "submitted", "ok"),
        ("nonconformity", "closed", "ok"),
        ("audit", "closed", "neutral"),
    ],
)
def test_tones(model, value, tone):
    assert badges.tone(value, model) == tone


def test_a_badge_has_an_icon_hidden_from_screen_readers_and_an_escaped_label():
    html = badges.badge("withdrawn", "<b>撤销</b>", model_name="certificate")
    assert 'class="badge tone-bad"' in html
    assert '<span class="badge-icon" aria-hidden="true">✕</span>' in html
    assert "&lt;b&gt;撤销&lt;/b&gt;" in html
    assert 'data-state="withdrawn"' in html


@pytest.mark.django_db
def test_state_badge_reads_the_choice_label_in_the_readers_language():
    from certificates.models import Certificate

    certificate = Certificate(status=Certificate.Status.SUSPENDED)
    with translation.override("en"):
        assert ">Suspended</span>" in badges.state_badge(certificate)
    with translation.override("zh-hans"):
        assert ">暂停</span>" in badges.state_badge(certificate)
