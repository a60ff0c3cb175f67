"""simple-history: one history manager class per model, not one per access.

``simple_history.manager.HistoryDescriptor.__get__`` (``instance.history``, and every history
row written: ``create_historical_record`` reads the manager through it) builds a new manager
class with ``Manager.from_queryset`` on each access, which copies the queryset's methods with
``inspect.getmembers``: about 5 % of a grant's CPU for its four history rows (issue #16).

The class depends only on the descriptor's manager and queryset classes, so ``install()`` makes
``__get__`` build it once per descriptor and reuse it; each access still gets its own manager
instance bound to the model and instance, exactly as before.
"""

from __future__ import annotations

from simple_history.manager import HistoryDescriptor

_MARK = "_certbody_cached_manager_class"


def install() -> None:
    """Replace ``HistoryDescriptor.__get__`` once (idempotent); called from
    ``CertbodyConfig.ready``."""
    if getattr(HistoryDescriptor.__get__, _MARK, False):
        return

    def __get__(self, instance, owner):
        manager_class = self.__dict__.get(_MARK)
        if manager_class is None:
            manager_class = self.manager_class.from_queryset(self.queryset_class)
            setattr(self, _MARK, manager_class)
        return manager_class(self.model, instance)

    setattr(__get__, _MARK, True)
    HistoryDescriptor.__get__ = __get__
