"""The one write path for lifecycle changes, shared by every app's services.

A service locks the row, fires the django-fsm transition, saves only the changed fields and
records the actor and reason in the history (style.md "Where logic lives" 3–4).
"""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from django_fsm import can_proceed

from certbody.roles import SYSTEM_USERNAME


class RuleViolation(ValueError):
    """A requested change that the rules or the workflow do not allow.

    ``message`` says why in plain words, in the person's language: pass it through gettext
    (``gettext`` at the raise, or ``gettext_lazy``; it is turned into text only when shown).
    ``rule`` names the clause or workflow rule (e.g. "004 §5.12.1") and is kept apart from the
    words, so ``str(error)`` is "<message> (<rule>)" in the active language.
    """

    def __init__(self, message, rule: str = ""):
        super().__init__(message)
        self.message = message
        self.rule = rule

    def __str__(self) -> str:
        text = str(self.message)
        if not self.rule:
            return text
        return gettext("%(message)s (%(rule)s)") % {"message": text, "rule": self.rule}


def system_user():
    """The named system actor used by scheduled jobs and migrations."""
    return get_user_model().objects.get(username=SYSTEM_USERNAME)


def lock(model, pk):
    """Re-read one row with SELECT … FOR UPDATE (must run inside transaction.atomic())."""
    return model.objects.select_for_update().get(pk=pk)


def fire(instance, transition_name: str, *, actor, reason: str, fields=(), label: str = "") -> None:
    """Run ``instance.<transition_name>()``, save ``fields`` plus the state field, record history.

    Raises RuleViolation when the transition is not allowed from the current state.
    """
    require_transition(instance, transition_name, label=label)
    method = getattr(instance, transition_name)
    method()
    state_field = method._django_fsm.field
    name = state_field if isinstance(state_field, str) else state_field.name
    record(instance, actor=actor, reason=reason)
    instance.save(update_fields=[name, *fields])


def require_transition(instance, transition_name: str, *, label: str = "") -> None:
    """Raise RuleViolation unless ``transition_name`` is allowed from the current state."""
    method = getattr(instance, transition_name)
    if can_proceed(method):
        return
    state_field = method._django_fsm.field
    name = state_field if isinstance(state_field, str) else state_field.name
    current = getattr(instance, f"get_{name}_display")()
    raise RuleViolation(
        gettext("%(label)s “%(object)s” is %(state)s: “%(transition)s” is not possible.")
        % {
            "label": label or instance._meta.verbose_name,
            "object": instance,
            "state": current,
            "transition": transition_name,
        }
    )


def refusal(check, *args, **kwargs) -> str | None:
    """Why ``check(*args, **kwargs)`` refuses, or None when it passes.

    ``check`` is a guard a service calls before writing (it raises ``RuleViolation`` and
    changes nothing). Object pages ask it through an action's ``precheck`` so a button is
    disabled with the service's own words (issue #14); the service still checks on confirm.
    Returns ``str(error)``: the message and its clause in the active language.
    """
    try:
        check(*args, **kwargs)
    except RuleViolation as exc:
        return str(exc)
    return None


def record(instance, *, actor, reason: str) -> None:
    """Set the simple-history user and change reason for the next save of ``instance``."""
    instance._history_user = actor
    instance._change_reason = reason[:100]
