"""django-tables2 reads a render function's arguments once (certbody.workspace.tables
``cache_render_signatures``, installed at start-up), not once per cell."""

import inspect

from django_tables2 import utils


class Column:
    def render(self, value, record):
        return (value, record)


def test_a_render_functions_arguments_are_read_once_for_every_cell(monkeypatch):
    asked = []
    real = inspect.signature
    monkeypatch.setattr(
        inspect, "signature", lambda fn, **kwargs: asked.append(fn) or real(fn, **kwargs)
    )
    column = Column()
    cells = [
        utils.call_with_appropriate(column.render, {"value": n, "record": "r", "table": None})
        for n in range(25)
    ]
    assert cells == [(n, "r") for n in range(25)]
    assert len(asked) == 1


def test_bound_and_unbound_functions_keep_their_own_arguments():
    assert utils.signature(Column().render) == (("value", "record"), None)
    assert utils.signature(Column.render) == (("self", "value", "record"), None)
    assert utils.signature(lambda **kwargs: None) == ((), "kwargs")
    # A function missing an argument is still not called.
    assert utils.call_with_appropriate(Column().render, {"value": 1}) is None
