"""Who may do what: the role × action matrix, in one place (groups + ``rules`` predicates).

Every staff page and button asks ``user.has_perm(<name>, obj)``; the names and the predicates
behind them are the ``MATRIX`` below, registered with django-rules at import (certbody.apps).
Role predicates test the user's groups (``certbody.roles``); object predicates test the object
(the audit team for audit work, the organisation for client users); the apps register those
from their ``ready`` (``register_object_predicate``), so this module imports no app. Services
ask the same matrix through ``require`` (a forged POST meets the same rule as the button).

Personal data (ID numbers, phones) is shown only to the roles of ``certbody.view_personal_data``;
everyone else sees it masked (``certbody.masking``).
"""

import re

import rules
from django.contrib.auth.backends import ModelBackend
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from certbody import roles
from certbody.lifecycle import RuleViolation


def _role(name: str):
    return rules.predicate(lambda user: roles.has_role(user, name), name=f"role:{name}")


is_staff_member = rules.predicate(
    lambda user: bool(user.is_authenticated and user.is_active and user.is_staff),
    name="is_staff_member",
)
is_superuser = rules.is_superuser
is_market = _role(roles.MARKET)
is_audit_department = _role(roles.AUDIT_DEPARTMENT)
is_auditor = _role(roles.AUDITOR)
is_decision_maker = _role(roles.DECISION_MAKER)
is_reporting_officer = _role(roles.REPORTING_OFFICER)
is_technical_manager = _role(roles.TECHNICAL_MANAGER)


# Object predicates are defined by the app that owns the object and registered from its
# ``AppConfig.ready`` (``register_object_predicate``); the matrix names them, so this module
# imports no app and needs no duck typing over other apps' models.
_OBJECT_PREDICATES: dict = {}


def register_object_predicate(name: str, test) -> None:
    """Register ``test(user, obj) -> bool`` under ``name`` (idempotent; the last one wins).

    Apps call this from ``AppConfig.ready``; the matrix refers to it through ``_object(name)``.
    """
    _OBJECT_PREDICATES[name] = test


def _object(name: str):
    """A predicate that calls the object test registered as ``name`` at check time.

    An unregistered name raises ``KeyError`` (an app not loaded must not silently allow)."""

    def test(user, obj) -> bool:
        return bool(_OBJECT_PREDICATES[name](user, obj))

    return rules.predicate(test, name=name)


# Registered by audits.permissions: on the audit team as leader or auditor (004 §5.4.4); the
# team leader; a terminated audit that never had a leader (004 §5.11.6); a decision maker who was
# not on the audit's team (004 §5.12.1).
on_audit_team = _object("on_audit_team")
leads_audit = _object("leads_audit")
audit_has_no_leader = _object("audit_has_no_leader")
not_on_audit_team = _object("not_on_audit_team")


# Registered by certificates.permissions: the handler assigned to the appeal or complaint
# (004 §8.3; 001 §10).
handles_appeal = _object("handles_appeal")

# The named system user (``certbody.lifecycle.system_user``) that scheduled jobs act as. It is
# inactive and has no password, so it never opens the workspace; it appears only on the rows of
# the transitions the jobs carry out, each saying which job needs it.
is_system_user = rules.predicate(
    lambda user: getattr(user, "username", None) == roles.SYSTEM_USERNAME, name="is_system_user"
)
# A client user (portal), not staff.
is_client_user = rules.predicate(
    lambda user: bool(user.is_authenticated and user.is_active and user.is_client),
    name="is_client_user",
)


def _api_scope(scope: str):
    """A token of the staff read API holding ``scope`` (``certbody.api.TokenPrincipal``)."""
    return rules.predicate(
        lambda user: scope in getattr(user, "api_scopes", ()), name=f"api_scope:{scope}"
    )


# The scopes a superuser may give an API token (issue #17), each the matrix row it grants.
# A token holds no role: it reads what its scopes' rows allow and nothing else.
API_SCOPES = {
    "certificates": "api.read_certificates",
    "organizations": "api.read_organizations",
    "personal_data": "certbody.view_personal_data",
}
API_SCOPE_LABELS = {
    "certificates": _("Certificates: numbers, status, scope, dates (staff view)"),
    "organizations": _("Organisations: names, USCC, addresses, contacts"),
    "personal_data": _("Personal data: contacts' phone numbers and ID numbers unmasked"),
}


@rules.predicate
def is_own_record(user, obj) -> bool:
    """The object is the user's own (e.g. their auditor record)."""
    return obj is not None and getattr(obj, "user_id", None) == user.pk


# Permission name → predicate. Names: "<app>.<what>"; "view_desk" opens an app's staff pages.
MATRIX = {
    # project-wide
    "certbody.use_workspace": is_staff_member,
    "certbody.view_personal_data": is_market
    | is_audit_department
    | is_reporting_officer
    | is_technical_manager
    | _api_scope("personal_data"),
    # the staff read API for the CB's other systems (issue #17; certbody.api): a token reads
    # what its scopes name; staff read the same data in the workspace
    "api.read_certificates": _api_scope("certificates"),
    "api.read_organizations": _api_scope("organizations"),
    # applications (domain §3–§4)
    "applications.view_desk": is_staff_member,
    "applications.manage_organization": is_market | is_technical_manager,
    # applications.services asks these rows (they agreed with its old market-only checks); a
    # client user's own-organisation check stays in the service (apply_online, below)
    "applications.create_application": is_market,
    "applications.review_application": is_market,
    "applications.manage_contract": is_market,
    "applications.invite_client": is_market,
    # client portal: an active client user applies, adds documents and signs off the contract
    # for their own organisation (the views scope every object by organisation: 404 otherwise)
    "applications.apply_online": rules.predicate(
        lambda user: bool(user.is_authenticated and user.is_active and user.is_client),
        name="is_client_user",
    ),
    # fees (004 §5.3.2(1), §5.3.3(6)): the market department records invoices and payments;
    # only the technical manager lets a certificate out while an invoice is unpaid
    # (applications.services_fees)
    "applications.record_invoice": is_market,
    "applications.waive_fee": is_technical_manager,
    # audits (domain §4–§8). Every audits service asks these rows (``policy.require``).
    "audits.view_desk": is_staff_member,
    # Programmes, special audits, schedules, teams and terminations are planning: the audit
    # department's, with the technical manager standing in for it as the services always
    # allowed (domain §4; the technical manager also records regulators' findings, which add a
    # special audit, certificates.record_regulatory_event; 004 §5.5.3 "with the CB's approval").
    "audits.plan_programme": is_audit_department | is_technical_manager,
    "audits.determine_audit_time": is_audit_department | is_technical_manager,
    "audits.manage_team": is_audit_department | is_technical_manager,
    "audits.schedule_audit": is_audit_department | is_technical_manager,
    # The plan is written, sent and confirmed by the planners or the team leader (004 §5.4.6).
    "audits.manage_plan": is_audit_department | is_technical_manager | leads_audit,
    # The planners may record the start for the team, as the services always allowed; the
    # team leader completes the audit and records its meetings (004 §5.5.2, §5.11).
    "audits.start_audit": is_audit_department | is_technical_manager | leads_audit,
    "audits.run_audit": leads_audit,
    # An audit closes with its decision (the decision maker, certificates.decide), with a
    # surveillance team leader's conclusion (004 §5.12.6) or, for a document review, by the
    # planners; before, audit_close asked no role at all.
    "audits.close_audit": is_audit_department
    | is_technical_manager
    | is_decision_maker
    | leads_audit,
    "audits.terminate_audit": is_audit_department | is_technical_manager,
    "audits.score": on_audit_team,
    # the audit department may open a team's score sheet (004 §5.6.5); the team fills it
    "audits.open_score_sheet": is_audit_department | on_audit_team,
    "audits.sign_score_sheet": leads_audit,
    "audits.raise_nonconformity": on_audit_team,
    "audits.verify_nonconformity": on_audit_team,
    # staff enter a client's answer on its behalf: the audit department or the audit's team
    # (004 §5.10.1); client users answer for their own organisation in the portal
    "audits.answer_nonconformity": is_audit_department | on_audit_team,
    # Remind the client by e-mail that an NC awaits their answer (a list's bulk action, #14).
    "audits.remind_nonconformity": is_audit_department | on_audit_team,
    "audits.sign_audit_report": leads_audit | (is_audit_department & audit_has_no_leader),
    "audits.deliver_audit_report": is_audit_department | leads_audit,
    "audits.manage_auditors": is_audit_department | is_technical_manager,
    "audits.manage_catalogue": is_audit_department | is_technical_manager,
    # ASRP (seed 000): designed and recorded by the planners, approved by the technical
    # manager only (000 §3.3)
    "audits.manage_asrp": is_audit_department | is_technical_manager,
    "audits.approve_asrp": is_technical_manager,
    # an auditor declares their own interests; the audit department records them too (004 §4.3)
    "audits.declare_conflict": is_own_record | is_audit_department | is_technical_manager,
    # multi-site sampling is planning (004 §5.4.3)
    "audits.plan_sampling": is_audit_department | is_technical_manager,
    # the plan's CNCA report date (004 §9.2)
    "audits.report_plan": is_audit_department | is_technical_manager | is_reporting_officer,
    # a minor NC's plan is verified by the team of the *next* audit (004 §5.10.2); the
    # service checks that team, so any auditor may be offered the action
    "audits.verify_nonconformity_plan": is_auditor | on_audit_team,
    # blocked days on the planning calendar (leave, training, other work): the auditor for
    # themself, the planners for anyone (issue #14; audits.services.calendar)
    "audits.block_days": is_own_record | is_audit_department | is_technical_manager,
    # certificates (domain §9–§10, §13–§14, §18). The services ask these rows through
    # ``require`` (certificates.services.*); independence (not on the audit team, no declared
    # interest, not involved in an appealed matter) stays a rule check in the service.
    "certificates.view_desk": is_staff_member,
    # 004 §5.12.1: a (full-time) decision maker not on the audit team; decision_make asks the
    # role part and checks the team and interests itself, with the clause.
    "certificates.decide": is_decision_maker & not_on_audit_team,
    # 004 §5.12.6: the audit's team leader concludes a surveillance (surveillance_conclude).
    "certificates.conclude_surveillance": leads_audit,
    # suspend, restore, withdraw, cancel, expire, reissue, reduce scope (004 §7, Appendix C.3).
    # The system user: the overdue-surveillance job suspends (004 §5.7.4, §7.2.1(6)) and the
    # expiry job marks certificates expired (004 §7.5); certificate_expire now asks this row too
    # (it asked no one before).
    "certificates.change_status": is_decision_maker
    | is_technical_manager
    | is_audit_department
    | is_system_user,
    "certificates.record_regulatory_event": is_technical_manager | is_audit_department,
    # proposal_accept (carried out through certificate_withdraw, which asks change_status) and
    # proposal_dismiss; proposals are opened by jobs and rules (proposal_open asks no row: it is
    # a step of other transitions, never a person's action).
    "certificates.handle_proposal": is_decision_maker | is_technical_manager | is_audit_department,
    # 004 §8.3: the technical manager assigns an independent handler (appeal_assign).
    "certificates.assign_appeal": is_technical_manager,
    # Receiving (desk) and acknowledging an appeal or complaint. appeal_acknowledge allowed any
    # staff member before; it now follows this row (the desk's button already did).
    # appeal_receive asks no row: clients (portal), staff and the public form (system user) file.
    "certificates.handle_appeal": is_technical_manager | is_decision_maker | is_market,
    # 004 §8.3; 001 §10: the written decision is made by the assigned handler, or approved by a
    # technical manager (appeal_decide; the desk offered it to handle_appeal before, which the
    # service then refused for anyone but these). Independence of the matter is the rule check.
    "certificates.decide_appeal": handles_appeal | is_technical_manager,
    "certificates.handle_client_request": is_technical_manager | is_audit_department | is_market,
    # a client user asks for a change, cancellation or suspension in the portal
    # (client_request_submit; 004 §7.2.1(11), §7.4, Appendix C.3)
    "certificates.submit_client_request": is_client_user,
    # a stored document whose file is missing or altered is rendered again from its recorded
    # content (pdf.certificate_document_regenerate): the technical manager, or the system user
    # (verify_documents --repair)
    "certificates.regenerate_document": is_technical_manager | is_system_user,
    # reports owed after a major accident are marked sent (certificates.services
    # .reporting_obligation_done; 002 §4.3.8.2, 004 §9.5)
    "certificates.report_obligation": is_decision_maker
    | is_technical_manager
    | is_audit_department
    | is_reporting_officer,
    # reporting (domain §16–§17)
    "reporting.view_desk": is_staff_member,
    # reporting.services asks these rows (they agreed with its old role lists). The periodic job
    # generates reports as the system user, which holds no role: report_generate does not ask
    # the matrix for the system user (the only role-free path; the other reporting services do).
    "reporting.generate_report": is_reporting_officer | is_technical_manager,
    "reporting.submit_report": is_reporting_officer,
    # the file layouts of the regulator reports, loaded from the platform's template (#17)
    "reporting.manage_layouts": is_reporting_officer,
    # the CB's own changes for the monthly report (002 §4.3.2; reporting.services.cb_change_record)
    "reporting.view_cb_changes": is_reporting_officer | is_technical_manager,
    "reporting.record_cb_change": is_reporting_officer | is_technical_manager,
    # auditors' personnel records for the annual report (002 §4.3.6.1; personal data)
    "reporting.view_personnel": is_audit_department | is_reporting_officer | is_technical_manager,
    "reporting.manage_personnel": is_audit_department | is_reporting_officer,
    # reports owed to CNAS (reporting.obligations): a major change of the CB within 10 days
    # (002 §4.3.8.1, sent by the technical department) and the annual accreditation plan before
    # August (002 §4.3.7.2, the reporting officer). The system user opens next year's plan
    # obligation (the yearly step of reporting.jobs).
    "reporting.record_accreditation_obligation": is_reporting_officer
    | is_technical_manager
    | is_system_user,
    "reporting.submit_accreditation_obligation": is_reporting_officer | is_technical_manager,
    # the outbox of e-mails (certbody.notifications): who sees what was sent or failed, and
    # tries a failed one again
    "certbody.view_outbox": is_technical_manager | is_superuser,
    "certbody.retry_email": is_technical_manager | is_superuser,
}


# Object predicates as a person would name who may act (the 403 page, ``denial_message``).
OBJECT_ROLE_LABELS = {
    "on_audit_team": _("a member of this audit's team"),
    "leads_audit": _("this audit's team leader"),
    "handles_appeal": _("the handler assigned to this appeal or complaint"),
    "is_client_user": _("a user of the certified client (portal)"),
    "is_own_record": _("the person the record belongs to"),
}


def needed_roles(permission: str) -> list[str]:
    """The people who hold ``permission`` in the matrix, as labels (``certbody.roles`` names
    and the object predicates above), in matrix order; ``[]`` when the name is unknown."""
    predicate = MATRIX.get(permission)
    if predicate is None:
        return []
    labels = []
    for name in re.findall(r"[A-Za-z_:]+", predicate.name):
        role = name.removeprefix("role:")
        label = roles.STAFF_ROLES.get(role) if name.startswith("role:") else None
        label = label or OBJECT_ROLE_LABELS.get(name)
        if label is not None and label not in labels:
            labels.append(label)
    return labels


def roles_holding(permission: str) -> tuple[str, ...]:
    """The role names (``certbody.roles``) that hold ``permission`` by role alone, in matrix
    order: whom to notify about the work a row covers. ``KeyError`` for an unknown name."""
    names = re.findall(r"role:([A-Za-z_]+)", MATRIX[permission].name)
    return tuple(dict.fromkeys(names))


def denial_message(permission: str) -> str:
    """What the 403 page tells a person refused ``permission``: who may do it."""
    labels = needed_roles(permission)
    if not labels:
        return ""
    return gettext("This action needs: %(roles)s.") % {
        "roles": gettext(", ").join(str(label) for label in labels)
    }


def register() -> None:
    """Register every permission of the matrix with django-rules (idempotent)."""
    for name, predicate in MATRIX.items():
        rules.set_perm(name, predicate)


class NotPermitted(RuleViolation):
    """The actor's role does not allow the action (``policy.require``); ``permission`` names
    the matrix row. Views show it like any refused transition; the message says who may act,
    in the language active when it is shown."""

    def __init__(self, actor, permission: str):
        super().__init__(lazy(_refusal, str)(str(actor), permission))
        self.permission = permission


def _refusal(user: str, permission: str) -> str:
    labels = needed_roles(permission)
    if not labels:
        return gettext("%(user)s may not do this.") % {"user": user}
    return gettext("%(user)s may not do this. This action needs: %(roles)s.") % {
        "user": user,
        "roles": gettext(", ").join(str(label) for label in labels),
    }


def require(actor, permission: str, obj=None) -> None:
    """Raise ``NotPermitted`` unless ``actor`` holds ``permission`` (a ``MATRIX`` name) on
    ``obj``. The one role check inside services: a forged POST meets the same rule as the
    button. The system user (scheduled jobs) is checked like anyone else: give it the row's
    role or do not call ``require`` on a path only the system takes.

    Raises ``KeyError`` for a name not in the matrix (a typo must not silently deny).
    """
    if not allowed(actor, permission, obj):
        raise NotPermitted(actor, permission)


def allowed(user, permission: str, obj=None) -> bool:
    """``user.has_perm`` for a matrix permission; ``KeyError`` for a name not in the matrix
    (a typo must not silently deny or allow)."""
    if permission not in MATRIX:
        raise KeyError(f"{permission!r} is not in certbody.policy.MATRIX")
    return user.has_perm(permission, obj)


class ModelPermissionBackend(ModelBackend):
    """Django's ``ModelBackend`` for the admin's model permissions, never asked a ``MATRIX``
    name: django-rules alone answers those (``AUTHENTICATION_BACKENDS``).

    Django asks every backend until one says yes, so each matrix question a user fails (the
    navigation asks one per desk, 23, on every staff page) went on to ModelBackend, which read the
    user's own and group permissions: two queries a request (issue #16). No model permission
    carries a matrix name (a test checks), so the answers are the same.
    """

    def has_perm(self, user_obj, perm, obj=None):
        if perm in MATRIX:
            return False
        return super().has_perm(user_obj, perm, obj)
