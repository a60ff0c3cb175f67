"""The house's floors, read from the source with ``ast`` (no import of the code under test).

- Apps import only downwards: certbody < applications < audits < certificates < reporting.
  ``certbody`` is the ground floor and imports no app at all, at module level or inside a
  function (apps contribute to it from ``AppConfig.ready``: desks, home sections, dashboard
  panels, jobs; URLs are included by dotted string). ``demo`` (development data) may import
  anything and nothing imports it but the benchmark driver in ``scripts/`` (and the tests).
- No module outside ``migrations/`` and ``tests/`` is over ``MAX_LINES`` lines.
- A service asks who may act only through ``certbody.policy.require``: no ``has_role``,
  ``.groups``, ``is_superuser``, ``has_perm`` or role names (``roles.MARKET``, "market" …) in a
  ``<app>/services.py`` or ``<app>/services/**.py``, except role names given to the helpers
  that choose whom to notify (``RECIPIENT_CALLS``).

Every failure lists all the offending files and lines, so one run shows the whole debt.
"""

import ast
from pathlib import Path

from certbody import roles

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {
    ".venv",
    ".git",
    "node_modules",
    "migrations",
    "tests",
    "var",
    "bench-results",
    "__pycache__",
}
# Lower index = lower floor. ``demo`` is outside the order (see the module docstring).
FLOORS = ["certbody", "applications", "audits", "certificates", "reporting"]
DEMO = "demo"
APPS = {*FLOORS, DEMO}
MAX_LINES = 800

ROLE_CONSTANTS = {
    "MARKET",
    "AUDIT_DEPARTMENT",
    "AUDITOR",
    "DECISION_MAKER",
    "REPORTING_OFFICER",
    "TECHNICAL_MANAGER",
    "STAFF_ROLES",
}
ROLE_NAMES = set(roles.STAFF_ROLES)
# Calls that take role names to choose recipients, not to decide who may act.
RECIPIENT_CALLS = {"staff_with_roles", "notify_staff"}


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS.intersection(relative.parts[:-1]):
            continue
        yield relative


def parse(relative: Path) -> ast.Module:
    return ast.parse((ROOT / relative).read_text(encoding="utf-8"), filename=str(relative))


def imported_modules(tree: ast.Module):
    """``(line, dotted name)`` of every absolute import, wherever it is (functions too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def layering_problems() -> list[str]:
    problems = []
    for relative in python_files():
        source_app = relative.parts[0] if len(relative.parts) > 1 else None
        if source_app not in APPS:
            source_app = None  # scripts/, manage.py: may import any app
        for line, module in imported_modules(parse(relative)):
            target = module.split(".")[0]
            if target not in APPS or target == source_app:
                continue
            where = f"{relative}:{line} imports {module}"
            if target == DEMO and relative.parts[0] != "scripts":
                problems.append(f"{where} (nothing imports demo)")
            elif source_app is None or source_app == DEMO:
                continue
            elif source_app == "certbody":
                problems.append(f"{where} (certbody imports no app)")
            elif FLOORS.index(target) > FLOORS.index(source_app):
                problems.append(f"{where} ({target} is above {source_app})")
    return problems


def test_apps_import_only_downwards_and_certbody_imports_no_app():
    assert layering_problems() == []


def test_no_module_is_over_800_lines():
    long = []
    for relative in python_files():
        lines = len((ROOT / relative).read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            long.append(f"{relative}: {lines} lines")

    assert long == [], f"modules over {MAX_LINES} lines"


def service_modules():
    for relative in python_files():
        parts = relative.parts
        if (
            len(parts) >= 2
            and parts[0] in APPS
            and (parts[1] == "services.py" or parts[1] == "services")
        ):
            yield relative


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


class RoleChecks(ast.NodeVisitor):
    """Collects ``(line, what)`` for every role check in a module other than policy.require."""

    def __init__(self):
        self.found: list[tuple[int, str]] = []
        self.calls: list[str] = []

    def visit_Call(self, node: ast.Call):
        name = _call_name(node)
        if name in ("has_role", "has_perm"):
            self.found.append((node.lineno, f"{name}()"))
        self.calls.append(name)
        self.generic_visit(node)
        self.calls.pop()

    def visit_Attribute(self, node: ast.Attribute):
        if node.attr in ("groups", "is_superuser"):
            self.found.append((node.lineno, f".{node.attr}"))
        elif (
            node.attr in ROLE_CONSTANTS
            and isinstance(node.value, ast.Name)
            and node.value.id == "roles"
            and not RECIPIENT_CALLS.intersection(self.calls)
        ):
            self.found.append((node.lineno, f"roles.{node.attr}"))
        self.generic_visit(node)

    def _literal(self, node):
        names = [
            e.value
            for e in node.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in ROLE_NAMES
        ]
        if names and not RECIPIENT_CALLS.intersection(self.calls):
            self.found.append((node.lineno, f"role names {names}"))
        self.generic_visit(node)

    visit_Tuple = visit_List = visit_Set = _literal


def test_services_ask_who_may_act_only_through_policy_require():
    found = []
    for relative in service_modules():
        checks = RoleChecks()
        checks.visit(parse(relative))
        found += [f"{relative}:{line}: {what}" for line, what in sorted(set(checks.found))]

    assert found == [], "role checks in services other than policy.require"
