"""The audits services ask ``certbody.policy`` who may act, and nothing else (style.md
"Permission is asked, not restated"): no ``roles.has_role`` and no role list of their own, and
every permission they name is a row of the matrix."""

import ast
from pathlib import Path

import pytest

from certbody.policy import MATRIX

SERVICES = sorted((Path(__file__).parents[2] / "audits" / "services").glob("*.py"))


def _calls(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_no_role_check_but_policy_require(path):
    source = path.read_text()
    assert "has_role" not in source
    assert "certbody.roles" not in source and "from certbody import roles" not in source


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_permission_asked_is_in_the_matrix(path):
    for call in _calls(path):
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("require", "allowed"):
            name = call.args[1]
            assert isinstance(name, ast.Constant), f"{path.name}:{call.lineno}"
            assert name.value in MATRIX, f"{path.name}:{call.lineno} {name.value}"
