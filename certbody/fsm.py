"""django-fsm-2 in migration state: no transition receiver for historical models.

``django_fsm.FSMFieldMixin.contribute_to_class`` connects one ``class_prepared`` receiver per
field instance (to collect the model's transition methods). Migrations render historical models
over and over (every state change re-renders the models it touches and their relations), and
each rendering clones every ``FSMField`` and connects another receiver, which stays connected as
long as the rendered model lives. Every later model class built then calls all of them: on this
project's ~80 migrations ``migrate`` spent most of its CPU in ``class_prepared`` dispatch (about
12 million receiver calls; see issue #16, the suite's database set-up).

Historical models carry no methods, so they have no transitions to collect. ``install()`` wraps
``contribute_to_class`` so that, for a model outside the global app registry (a migration's
historical model), the receiver is disconnected right after the library connects it. Models of
the running project (``django.apps.apps``) keep the library's behaviour exactly.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db.models.signals import class_prepared
from django_fsm import FSMFieldMixin

_MARK = "_certbody_historical_models_skip_transitions"


def install() -> None:
    """Wrap ``FSMFieldMixin.contribute_to_class`` once (idempotent); called from
    ``CertbodyConfig.ready`` before any migration renders its state."""
    original = FSMFieldMixin.contribute_to_class
    if getattr(original, _MARK, False):
        return

    def contribute_to_class(self, cls, name, *args, **kwargs):
        original(self, cls, name, *args, **kwargs)
        if cls._meta.apps is not global_apps:
            class_prepared.disconnect(self._collect_transitions)

    setattr(contribute_to_class, _MARK, True)
    contribute_to_class.__doc__ = original.__doc__
    FSMFieldMixin.contribute_to_class = contribute_to_class
