"""django-fsm-2's transition receivers are not connected for migration-state models
(``certbody.fsm``): rendering the project's migration state leaves no ``class_prepared``
receiver behind for historical fields, while the project's own models keep theirs."""

from django.apps import apps as global_apps
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import class_prepared
from django.dispatch.dispatcher import _make_id
from django_fsm import FSMFieldMixin


def _connected_ids() -> set:
    return {entry[0][0] for entry in class_prepared.receivers}


def _key(field) -> object:
    return _make_id(field._collect_transitions)


def test_historical_fsm_fields_connect_no_receiver():
    state_apps = MigrationLoader(None, ignore_no_migrations=True).project_state().apps
    historical = [
        field
        for model in state_apps.get_models()
        for field in model._meta.local_fields
        if isinstance(field, FSMFieldMixin)
    ]
    assert len(historical) >= 5  # applications, audits, certificates each have state machines
    connected = _connected_ids()
    assert not {_key(field) for field in historical} & connected


def test_project_fsm_fields_keep_their_receiver():
    fields = [
        field
        for model in global_apps.get_models()
        for field in model._meta.local_fields
        if isinstance(field, FSMFieldMixin) and field.model is model
    ]
    assert fields
    connected = _connected_ids()
    assert {_key(field) for field in fields} <= connected
