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
