"""The certificates app's object predicates for ``certbody.policy`` (registered from ``ready``).

The matrix in ``certbody.policy`` names them; this module says what they mean for the objects of
this app.
"""

from certbody import policy


def handles_appeal(user, obj) -> bool:
    """The user is the handler assigned to the appeal or complaint ``obj`` (004 §8.3)."""
    handler_id = getattr(obj, "handler_id", None)
    return handler_id is not None and handler_id == user.pk


def register() -> None:
    """Register the predicates above with ``certbody.policy`` (idempotent)."""
    policy.register_object_predicate("handles_appeal", handles_appeal)
