"""Records that certification evidence rests on are never deleted.

Foreign keys between them are ``PROTECT``, which guards a parent with children; a record
nothing points at (a signed contract, a submitted score sheet, a terminated audit, a decision,
a regulator report) needs its own guard: :func:`never_delete`. Corrections go through the
services' transitions (withdraw, terminate, cancel, revise), which keep the history.

The guard runs on ``pre_delete``, so it also stops queryset deletes and cascades. It raises
inside Django's deletion transaction: a caller that wants to go on after the refusal wraps the
delete in ``transaction.atomic()``.
"""

from django.db.models import ProtectedError
from django.db.models.signals import pre_delete
from django.utils.translation import gettext_lazy as _


def never_delete(model):
    """Class decorator: deleting an instance of ``model`` raises ``ProtectedError``."""

    def refuse(sender, instance, **kwargs):
        raise ProtectedError(
            _("%(model)s records are certification evidence and are never deleted.")
            % {"model": sender._meta.verbose_name},
            {instance},
        )

    pre_delete.connect(
        refuse, sender=model, weak=False, dispatch_uid=f"never_delete:{model._meta.label}"
    )
    return model
