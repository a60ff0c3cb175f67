"""``certbody.policy.require``: the one role check inside services, and translatable refusals."""

import pytest
from django.utils import translation

from certbody import policy
from certbody.lifecycle import RuleViolation


def test_require_passes_for_a_holder_and_refuses_others_with_who_may(market, planner):
    policy.require(market, "applications.create_application")
    with pytest.raises(policy.NotPermitted) as refused:
        policy.require(planner, "applications.create_application")
    assert refused.value.permission == "applications.create_application"
    assert isinstance(refused.value, RuleViolation)
    with translation.override("en"):
        assert str(refused.value).startswith(f"{planner} may not do this.")
        assert "Market" in str(refused.value)


def test_require_rejects_a_name_missing_from_the_matrix(market):
    with pytest.raises(KeyError):
        policy.require(market, "applications.create_aplication")


def test_object_predicates_come_from_the_owning_app():
    # audits registers the audit-team predicates from its AppConfig.ready
    assert {"on_audit_team", "leads_audit", "audit_has_no_leader", "not_on_audit_team"} <= set(
        policy._OBJECT_PREDICATES
    )


def test_rule_violation_text_follows_the_active_language():
    error = RuleViolation(translation.gettext_lazy("Reason"), "004 §5.12.1")
    with translation.override("en"):
        assert str(error) == "Reason (004 §5.12.1)"
    with translation.override("zh-hans"):
        assert str(error) == "原因（004 §5.12.1）"
    assert error.rule == "004 §5.12.1"


def test_roles_holding_reads_the_roles_of_a_row_in_matrix_order():
    assert policy.roles_holding("certificates.handle_client_request") == (
        "technical_manager",
        "audit_department",
        "market",
    )
    assert policy.roles_holding("audits.run_audit") == ()


def test_no_model_permission_carries_a_matrix_name():
    """Django's ModelBackend is not asked about matrix names (``certbody.policy.
    ModelPermissionBackend``), which is the same answer only while no model permission (the
    admin's add/change/delete/view, or a model's ``Meta.permissions``) has such a name."""
    from django.apps import apps

    model_permissions = {
        f"{model._meta.app_label}.{codename}"
        for model in apps.get_models()
        for codename in [
            *(f"{action}_{model._meta.model_name}" for action in model._meta.default_permissions),
            *(codename for codename, _name in model._meta.permissions),
        ]
    }
    assert model_permissions, "no model permissions found"
    assert not set(policy.MATRIX) & model_permissions


@pytest.mark.django_db
def test_matrix_questions_read_no_model_permissions(planner, django_assert_num_queries):
    """A staff member's matrix questions read their groups once and never Django's permission
    tables: a staff page asks the navigation's 23 questions (one per desk), and asking ModelBackend
    cost two queries a request (issue #16)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import prefetch_related_objects

    from certbody import roles

    prefetch_related_objects([planner], "groups")  # as certbody.language's middleware does
    with django_assert_num_queries(0):
        assert not planner.has_perm("applications.create_application")
        assert not policy.allowed(planner, "applications.create_application")
        assert planner.has_perm("audits.plan_programme")
    # the admin's own model permissions still come from ModelBackend
    group = Group.objects.get(name=roles.AUDIT_DEPARTMENT)
    group.permissions.add(*Permission.objects.filter(codename="view_businessscope"))
    fresh = type(planner).objects.get(pk=planner.pk)
    assert fresh.has_perm("certbody.view_businessscope")
