"""Who may do what in the certificates app: the ``certificates.*`` rows of ``certbody.policy``
pinned as data, the services asking them through ``policy.require`` only, the public surface of
``certificates.services`` and ``certificates.models``, and refusals in the reader's language."""

import ast
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import models as django_models
from django.utils import translation

import certificates
from certbody import dates, policy, roles
from certbody.lifecycle import RuleViolation
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.conftest import make_staff

STAFF = {
    "market": roles.MARKET,
    "audit_department": roles.AUDIT_DEPARTMENT,
    "auditor": roles.AUDITOR,
    "decision_maker": roles.DECISION_MAKER,
    "reporting_officer": roles.REPORTING_OFFICER,
    "technical_manager": roles.TECHNICAL_MANAGER,
}
ALL_STAFF = set(STAFF)

# Role-level answers (no object). Object rows: "decide" also needs the decider off the audit
# team (004 §5.12.1); "conclude_surveillance" is the audit's team leader; "decide_appeal" the
# appeal's assigned handler or a technical manager.
EXPECTED = {
    "certificates.view_desk": ALL_STAFF,
    "certificates.decide": {"decision_maker"},
    "certificates.conclude_surveillance": set(),
    "certificates.change_status": {"decision_maker", "technical_manager", "audit_department"},
    "certificates.record_regulatory_event": {"technical_manager", "audit_department"},
    "certificates.handle_proposal": {"decision_maker", "technical_manager", "audit_department"},
    "certificates.assign_appeal": {"technical_manager"},
    "certificates.handle_appeal": {"technical_manager", "decision_maker", "market"},
    "certificates.decide_appeal": {"technical_manager"},
    "certificates.handle_client_request": {"technical_manager", "audit_department", "market"},
    "certificates.submit_client_request": {"client"},
    "certificates.regenerate_document": {"technical_manager"},
    "certificates.report_obligation": {
        "decision_maker",
        "technical_manager",
        "audit_department",
        "reporting_officer",
    },
}
# The system user (scheduled jobs): the overdue-surveillance suspension and the expiry job
# change status; verify_documents --regenerate makes a lost or altered document again.
SYSTEM_ROWS = {"certificates.change_status", "certificates.regenerate_document"}


@pytest.fixture
def users(db):
    found = {name: make_staff(f"rows-{name}", role) for name, role in STAFF.items()}
    found["client"] = ClientUserFactory(organization=OrganizationFactory())
    return found


def test_every_certificates_row_is_pinned():
    rows = {name for name in policy.MATRIX if name.startswith("certificates.")}
    assert rows == set(EXPECTED), "pin the new or removed certificates.* row here"


@pytest.mark.parametrize("permission", sorted(EXPECTED))
def test_certificates_rows(users, permission):
    holders = {name for name, user in users.items() if user.has_perm(permission)}
    assert holders == EXPECTED[permission]


def test_system_user_holds_only_the_rows_its_jobs_need(system_user):
    held = {name for name in EXPECTED if system_user.has_perm(name)}
    assert held == SYSTEM_ROWS


def test_the_assigned_handler_decides_an_appeal(users):
    handler = users["auditor"]
    appeal = SimpleNamespace(handler_id=handler.pk)
    assert policy.allowed(handler, "certificates.decide_appeal", appeal)
    assert not policy.allowed(users["market"], "certificates.decide_appeal", appeal)
    assert policy.allowed(users["technical_manager"], "certificates.decide_appeal", appeal)


ROLE_CHECKS = {"has_role", "SYSTEM_USERNAME", "STATUS_ROLES", "EVENT_ROLES", "HANDLER_ROLES"}


def _service_modules():
    root = Path(certificates.__file__).parent
    yield from sorted((root / "services").glob("*.py"))
    for name in ("selectors.py", "guards.py", "pdf.py"):
        yield root / name


def test_services_ask_the_matrix_and_nothing_else():
    """A role check in the certificates services is ``policy.require``; no ``has_role`` lists."""
    found = []
    for path in _service_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "id", None) or getattr(node, "attr", None)
            if name in ROLE_CHECKS:
                found.append(f"{path.name}:{node.lineno} {name}")
    assert found == []


PUBLIC_SERVICES = [
    "allocate_sequence",
    "appeal_acknowledge",
    "appeal_assign",
    "appeal_decide",
    "appeal_involved_user_ids",
    "appeal_receive",
    "certificate_cancel",
    "certificate_expire",
    "certificate_issue",
    "certificate_reduce_scope",
    "certificate_reissue",
    "certificate_restore",
    "certificate_suspend",
    "certificate_withdraw",
    "client_request_handle",
    "client_request_submit",
    "decision_make",
    "evaluation_failure",
    "nonconformities_blocking_decision",
    "notice_issue",
    "proposal_accept",
    "proposal_dismiss",
    "proposal_open",
    "regulatory_event_record",
    "reporting_obligation_done",
    "surveillance_conclude",
    "surveillance_conclusion_failures",
    "suspension_ended_due",
    "suspension_ended_propose",
    "suspension_ended_step",
    "working_day_deadline",
]


def test_every_service_function_is_importable_from_the_package():
    from certificates import services

    assert sorted(services.__all__) == PUBLIC_SERVICES
    for name in PUBLIC_SERVICES:
        assert callable(getattr(services, name)), name


def test_every_model_is_importable_from_the_package():
    from certificates import models

    exported = {
        name
        for name in models.__all__
        if isinstance(getattr(models, name), type)
        and issubclass(getattr(models, name), django_models.Model)
    }
    assert exported == {
        "Appeal",
        "Certificate",
        "CertificateDocument",
        "CertificateEvent",
        "CertificateSequence",
        "ClientRequest",
        "Decision",
        "Proposal",
        "PublicCertificate",
        "RegulatoryEvent",
        "ReportingObligation",
    }


def test_refusals_read_in_the_language_of_the_request(users):
    """A rule message is translated where it is raised (inside the request, in its language);
    a role refusal (``NotPermitted``) when it is shown."""
    from certificates import guards

    tomorrow = dates.today() + timedelta(days=1)
    for language, text in (
        ("en", "The suspension start date cannot be later than today."),
        ("zh-hans", "暂停开始日期不能晚于今天"),
    ):
        with translation.override(language), pytest.raises(RuleViolation) as refused:
            guards.not_future(tomorrow, translation.gettext_lazy("The suspension start date"))
        assert str(refused.value) == text

    with pytest.raises(policy.NotPermitted) as refused:
        policy.require(users["market"], "certificates.change_status")
    with translation.override("en"):
        assert "may not do this" in str(refused.value)
