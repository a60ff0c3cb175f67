"""The permission matrix walked for every role and every workspace URL (certbody.policy,
certbody.workspace): each registered desk's list, "new" page, object page and every action's
confirm URL, GET and POST.

The desks are read from ``certbody.workspace.DESKS`` when the test runs, so a desk added later
is walked too; its object is the first row of its own queryset in a world holding one record
of every kind (a certificate, an answered NC on a completed audit awaiting its decision, a
proposal, a regulatory event, an appeal, a client request, a report run …).

Expected answers: anonymous → the log-in page; a client user → 403 everywhere (the workspace is
staff-only; clients have the portal); staff → list/object 200 with the desk's permission, else
403; an action → 403 (GET and POST) for a role without ``user.has_perm(action.permission,
obj)``, and never 200; with the permission its confirm page answers 200 (or 409 when the
object's state does not allow it). Forged POSTs by roles without the permission change nothing.
"""

import re

import pytest
from django.urls import reverse

from certbody.policy import MATRIX
from certbody.workspace import DESKS
from tests.certbody.world import World, desk_request
from tests.shared import shared_fixture

pytestmark = pytest.mark.usefixtures("cb")

ROLES = [
    "market",
    "audit_department",
    "auditor",  # team leader of the world's audits
    "auditor_off_team",  # an auditor on no team
    "decision_maker",
    "reporting_officer",
    "technical_manager",
    "client",
    "anonymous",
]


@shared_fixture
def world(cb):
    return World()


def snapshot(obj):
    """What a refused POST must leave unchanged: the row and its history."""
    fresh = type(obj).objects.get(pk=obj.pk)
    history = fresh.history.count() if hasattr(fresh, "history") else None
    return {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}, history


def expect_refused(response, role) -> int | str:
    """The answer a role without access gets: the log-in page for anonymous, else 403."""
    if role == "anonymous":
        location = response.get("Location", "")
        return (
            302 if location.startswith(reverse("login")) else f"{response.status_code} {location}"
        )
    return 403


@pytest.mark.parametrize("role", ROLES)
def test_every_workspace_url_answers_as_the_matrix_says(client, world, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    staff = user is not None and user.has_perm("certbody.use_workspace")
    wrong = []
    walked = []

    def check(what, response, expected):
        walked.append(what)
        if response.status_code not in (expected if isinstance(expected, tuple) else (expected,)):
            wrong.append(f"{what}: {response.status_code}, expected {expected}")

    def refused(what, response):
        check(what, response, expect_refused(response, role))
        if response.status_code == 200:
            wrong.append(f"{what}: 200 for a role without the permission")

    assert DESKS, "no desks registered"
    for key, desk in DESKS.items():
        may_open = staff and user.has_perm(desk.permission)
        list_url = reverse("workspace:list", args=[key])
        response = client.get(list_url)
        check(f"GET {list_url}", response, 200) if may_open else refused(
            f"GET {list_url}", response
        )

        if desk.create is not None:
            url = reverse("workspace:create", args=[key])
            if may_open and user.has_perm(desk.create.permission):
                check(f"GET {url}", client.get(url), 200)
            else:
                refused(f"GET {url}", client.get(url))
                refused(f"POST {url}", client.post(url, {}))

        obj = world.first_row(desk)
        if obj is None:
            continue  # test_the_world_has_a_row_for_every_desk says which
        object_url = reverse("workspace:object", args=[key, obj.pk])
        response = client.get(object_url)
        if may_open:
            # A desk may narrow its rows per user: then the object is not found (404).
            visible = desk.queryset(desk_request(desk, user)).filter(pk=obj.pk).exists()
            check(f"GET {object_url}", response, 200 if visible else 404)
        else:
            refused(f"GET {object_url}", response)

        for action in desk.actions:
            url = reverse("workspace:action", args=[key, obj.pk, action.name])
            allowed = may_open and user.has_perm(action.permission, obj)
            if allowed:
                # GET only: a POST would perform it. 409 when the state does not allow it.
                check(f"GET {url}", client.get(url), (200, 409))
                continue
            before = snapshot(obj)
            refused(f"GET {url}", client.get(url))
            refused(f"POST {url}", client.post(url, {"reason": "forged", "confirm": "1"}))
            if snapshot(obj) != before:
                wrong.append(f"POST {url}: a refused POST changed the {type(obj).__name__}")

    assert wrong == []
    assert len(walked) >= 2 * len(DESKS) + sum(len(d.actions) for d in DESKS.values())


def test_the_world_has_a_row_for_every_desk(world):
    """A desk needs a record in ``World`` (tests/certbody/world.py) for its object and action
    URLs to be walked: a desk without one fails here (never skips)."""
    missing = sorted(key for key, desk in DESKS.items() if world.first_row(desk) is None)

    assert missing == [], f"no row for desk(s) {', '.join(missing)}: add one to World"


def test_every_permission_a_desk_uses_is_in_the_matrix():
    used = set()
    for desk in DESKS.values():
        used.add(desk.permission)
        used.update(action.permission for action in desk.actions)
        if desk.create is not None:
            used.add(desk.create.permission)

    assert used - set(MATRIX) == set()
    assert "certbody.use_workspace" in MATRIX


# --- the whole matrix, pinned as data ------------------------------------------------------
# Permission → who holds it: each entry is one alternative, a role name (certbody.roles), an
# object or user predicate name (``on_audit_team``, ``leads_audit`` …, ``is_staff_member``), or
# a conjunction "a & b". Written out by hand, so any change to certbody.policy.MATRIX — a row
# added, removed or changed — is a visible decision in this file.
STAFF = {"is_staff_member"}
EXPECTED_MATRIX = {
    # project-wide
    "certbody.use_workspace": STAFF,
    "certbody.view_personal_data": {
        "market",
        "audit_department",
        "reporting_officer",
        "technical_manager",
        # an API token given the personal-data scope (certbody.api, issue #17)
        "api_scope:personal_data",
    },
    # the staff read API's token scopes (certbody.policy.API_SCOPES; issue #17): tokens only
    "api.read_certificates": {"api_scope:certificates"},
    "api.read_organizations": {"api_scope:organizations"},
    "certbody.view_outbox": {"technical_manager", "is_superuser"},
    "certbody.retry_email": {"technical_manager", "is_superuser"},
    # applications
    "applications.view_desk": STAFF,
    "applications.manage_organization": {"market", "technical_manager"},
    "applications.create_application": {"market"},
    "applications.review_application": {"market"},
    "applications.manage_contract": {"market"},
    "applications.invite_client": {"market"},
    "applications.apply_online": {"is_client_user"},
    "applications.record_invoice": {"market"},
    "applications.waive_fee": {"technical_manager"},
    # audits
    "audits.view_desk": STAFF,
    # the technical manager stands in for the audit department on planning (policy.MATRIX)
    "audits.plan_programme": {"audit_department", "technical_manager"},
    "audits.determine_audit_time": {"audit_department", "technical_manager"},
    "audits.manage_team": {"audit_department", "technical_manager"},
    "audits.schedule_audit": {"audit_department", "technical_manager"},
    "audits.manage_plan": {"audit_department", "technical_manager", "leads_audit"},
    "audits.run_audit": {"leads_audit"},
    "audits.start_audit": {"audit_department", "technical_manager", "leads_audit"},
    "audits.close_audit": {
        "audit_department",
        "technical_manager",
        "decision_maker",
        "leads_audit",
    },
    "audits.terminate_audit": {"audit_department", "technical_manager"},
    "audits.score": {"on_audit_team"},
    "audits.open_score_sheet": {"audit_department", "on_audit_team"},
    "audits.sign_score_sheet": {"leads_audit"},
    "audits.raise_nonconformity": {"on_audit_team"},
    "audits.verify_nonconformity": {"on_audit_team"},
    "audits.answer_nonconformity": {"audit_department", "on_audit_team"},
    "audits.remind_nonconformity": {"audit_department", "on_audit_team"},
    "audits.sign_audit_report": {"leads_audit", "audit_department & audit_has_no_leader"},
    "audits.deliver_audit_report": {"audit_department", "leads_audit"},
    "audits.manage_auditors": {"audit_department", "technical_manager"},
    "audits.manage_catalogue": {"audit_department", "technical_manager"},
    "audits.manage_asrp": {"audit_department", "technical_manager"},
    "audits.approve_asrp": {"technical_manager"},
    "audits.declare_conflict": {"is_own_record", "audit_department", "technical_manager"},
    "audits.plan_sampling": {"audit_department", "technical_manager"},
    "audits.report_plan": {"audit_department", "technical_manager", "reporting_officer"},
    "audits.verify_nonconformity_plan": {"auditor", "on_audit_team"},
    "audits.block_days": {"is_own_record", "audit_department", "technical_manager"},
    # certificates
    "certificates.view_desk": STAFF,
    "certificates.decide": {"decision_maker & not_on_audit_team"},
    "certificates.conclude_surveillance": {"leads_audit"},
    # the system user: the overdue-surveillance job suspends, the expiry job expires
    "certificates.change_status": {
        "decision_maker",
        "technical_manager",
        "audit_department",
        "is_system_user",
    },
    "certificates.regenerate_document": {"technical_manager", "is_system_user"},
    "certificates.record_regulatory_event": {"technical_manager", "audit_department"},
    "certificates.handle_proposal": {"decision_maker", "technical_manager", "audit_department"},
    "certificates.assign_appeal": {"technical_manager"},
    "certificates.handle_appeal": {"technical_manager", "decision_maker", "market"},
    "certificates.decide_appeal": {"handles_appeal", "technical_manager"},
    "certificates.submit_client_request": {"is_client_user"},
    "certificates.handle_client_request": {"technical_manager", "audit_department", "market"},
    "certificates.report_obligation": {
        "decision_maker",
        "technical_manager",
        "audit_department",
        "reporting_officer",
    },
    # reporting
    "reporting.view_desk": STAFF,
    "reporting.generate_report": {"reporting_officer", "technical_manager"},
    "reporting.submit_report": {"reporting_officer"},
    "reporting.manage_layouts": {"reporting_officer"},
    "reporting.view_cb_changes": {"reporting_officer", "technical_manager"},
    "reporting.record_cb_change": {"reporting_officer", "technical_manager"},
    "reporting.view_personnel": {"audit_department", "reporting_officer", "technical_manager"},
    "reporting.manage_personnel": {"audit_department", "reporting_officer"},
    # reports owed to CNAS; the system user opens next year's plan obligation
    "reporting.record_accreditation_obligation": {
        "reporting_officer",
        "technical_manager",
        "is_system_user",
    },
    "reporting.submit_accreditation_obligation": {"reporting_officer", "technical_manager"},
}


def alternatives(predicate_name: str) -> set[str]:
    """A matrix predicate's name (django-rules writes ``((role:a | b) | (role:c & d))``) as the
    set of its alternatives in the notation of ``EXPECTED_MATRIX``. The matrix combines with
    ``|`` and ``&`` only; an ``&`` of alternatives is not flattened (none exists)."""
    tokens = re.findall(r"[A-Za-z_:]+|[()|&]", predicate_name.replace("role:", ""))
    position = 0

    def term():  # a name, or a parenthesised expression
        nonlocal position
        token = tokens[position]
        position += 1
        if token != "(":
            return {token}
        inner = expression()
        position += 1  # ")"
        return inner

    def conjunction():
        nonlocal position
        parts = [term()]
        while position < len(tokens) and tokens[position] == "&":
            position += 1
            parts.append(term())
        if len(parts) == 1:
            return parts[0]
        assert all(len(part) == 1 for part in parts), predicate_name
        return {" & ".join(next(iter(part)) for part in parts)}

    def expression():
        nonlocal position
        result = conjunction()
        while position < len(tokens) and tokens[position] == "|":
            position += 1
            result |= conjunction()
        return result

    result = expression()
    assert position == len(tokens), predicate_name
    return result


def test_the_matrix_is_the_pinned_table():
    """Every row of ``certbody.policy.MATRIX`` and no other, each with exactly the pinned
    holders."""
    assert sorted(set(MATRIX) - set(EXPECTED_MATRIX)) == [], "matrix rows not pinned here"
    assert sorted(set(EXPECTED_MATRIX) - set(MATRIX)) == [], "pinned rows gone from the matrix"
    wrong = {
        name: sorted(alternatives(MATRIX[name].name))
        for name in MATRIX
        if alternatives(MATRIX[name].name) != EXPECTED_MATRIX[name]
    }

    assert wrong == {}


def test_every_desk_and_action_has_a_pinned_row():
    """A desk's list, its "new" page and each of its actions name a pinned row (fails, never
    skips, for a desk or action added without one)."""
    missing = []
    for key, desk in DESKS.items():
        names = [("desk", desk.permission)] + [
            (f"action {a.name}", a.permission) for a in desk.actions
        ]
        if desk.create is not None:
            names.append(("create", desk.create.permission))
        missing += [f"{key} {what}: {name}" for what, name in names if name not in EXPECTED_MATRIX]

    assert missing == []


ROLE_NAMES = {
    "market",
    "audit_department",
    "auditor",
    "decision_maker",
    "reporting_officer",
    "technical_manager",
}
# The rows whose holders are roles only (no object, no user predicate): asked of each role.
EXPECTED_ROLES = {
    name: holders for name, holders in EXPECTED_MATRIX.items() if holders <= ROLE_NAMES
}


@pytest.mark.parametrize("permission", sorted(EXPECTED_ROLES))
def test_role_level_permissions(world, permission):
    holders = {
        role
        for role, user in world.users.items()
        if user is not None and role in ROLE_NAMES and user.has_perm(permission)
    }

    assert holders == EXPECTED_ROLES[permission]


def test_workspace_views_are_staff_only(world):
    for role in ("client", "anonymous"):
        user = world.users[role]
        assert not (user and user.has_perm("certbody.use_workspace"))
    for role in ROLES[:-2]:
        assert world.users[role].has_perm("certbody.use_workspace"), role


def test_audit_team_predicates_follow_the_object(world):
    """004 §5.12.1: a decision maker never decides on an audit they were on; team work is for
    the team (§5.4.4)."""
    leader, off_team = world.users["auditor"], world.users["auditor_off_team"]
    decider = world.users["decision_maker"]

    assert leader.has_perm("audits.verify_nonconformity", world.nc)
    assert not off_team.has_perm("audits.verify_nonconformity", world.nc)
    assert decider.has_perm("certificates.decide", world.stage2)
    leader.groups.add(*decider.groups.all())
    leader = type(leader).objects.get(pk=leader.pk)
    assert not leader.has_perm("certificates.decide", world.stage2)


def test_api_token_scopes_are_matrix_rows_held_by_the_scope_alone(world):
    """Issue #17: each scope a superuser may give a token is a pinned matrix row; a token holds
    exactly its scopes' rows and no role's, and no staff role holds a token row."""
    from certbody.api import TokenPrincipal
    from certbody.policy import API_SCOPES

    assert set(API_SCOPES.values()) <= set(EXPECTED_MATRIX)
    for scope, row in API_SCOPES.items():
        assert f"api_scope:{scope}" in EXPECTED_MATRIX[row]
        holder = TokenPrincipal(token_id=0, name="t", scopes={scope})
        assert {name for name in MATRIX if holder.has_perm(name)} == {row}
    nobody = TokenPrincipal(token_id=0, name="t", scopes=set())
    assert [name for name in MATRIX if nobody.has_perm(name)] == []
    for role in ROLE_NAMES:
        user = world.users[role]
        assert not user.has_perm("api.read_certificates")
        assert not user.has_perm("api.read_organizations")
