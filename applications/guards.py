"""Shared guards of the application services: checks that raise ``RuleViolation`` with the
clause and change nothing. The services call them before writing; the workspace's object
pages call the same ones through an action's ``precheck`` (``certbody.lifecycle.refusal``) so
a button its service would refuse is shown disabled with the reason (issue #14).
"""

from django.utils import timezone
from django.utils.translation import gettext

from applications import eligibility
from applications.models import Application, ApplicationReview, Contract
from certbody.lifecycle import RuleViolation, require_transition


def check_not_contradicted(name: str, met: bool, note: str, found) -> None:
    """Refuse recording the eligibility condition ``name`` as met when the CB's records
    (``found``, from ``eligibility.findings``) contradict it and ``note`` does not rebut them
    (004 §5.1.2(3)–(7); 001 §6.1.4)."""
    contradicted = eligibility.contradiction(name, met, note, found)
    if contradicted is not None:
        text, rule = contradicted
        raise RuleViolation(
            gettext(
                "“%(condition)s” cannot be recorded as met: the certification body's records "
                "say otherwise: %(records)s"
            )
            % {"condition": eligibility.CONDITIONS[name][0], "records": text},
            rule,
        )


def application_acceptable(application: Application) -> None:
    """Refuse accepting ``application`` (``RuleViolation``): not under review; no recorded
    review (004 §5.2; 001 §6.1.6); an eligibility condition not met (004 §5.2.2(1); 001
    §6.1.4) or contradicted by the CB's records today; another review item not met
    (004 §5.2.1). Reads only; ``application_accept`` calls it on the locked row."""
    require_transition(application, "accept")
    review = ApplicationReview.objects.filter(application=application).first()
    if review is None:
        raise RuleViolation(
            gettext("The application review must be completed and recorded before acceptance."),
            "004 §5.2; 001 §6.1.6",
        )
    unmet = [
        str(eligibility.CONDITIONS[name][0])
        for name in ApplicationReview.ELIGIBILITY
        if not getattr(review, name)
    ]
    if unmet:
        raise RuleViolation(
            gettext(
                "The applicant does not meet every eligibility condition: %(conditions)s. "
                "The application cannot be accepted."
            )
            % {"conditions": gettext("; ").join(unmet)},
            eligibility.ACCEPTANCE_RULE,
        )
    # The records may have changed since the review (a regulatory event recorded since).
    found = eligibility.findings(application.organization, timezone.localdate())
    for name in ApplicationReview.ELIGIBILITY:
        check_not_contradicted(name, True, getattr(review, f"{name}_note"), found[name])
    if not review.all_passed:
        raise RuleViolation(
            gettext("The application review has unmet items: the application cannot be accepted."),
            "004 §5.2.1",
        )


def contract_signable(contract: Contract) -> None:
    """Refuse signing ``contract`` (``RuleViolation``) unless it is a draft of an accepted
    application (004 §5.3: the contract is made for an accepted application)."""
    require_transition(contract, "sign")
    if contract.application.state != Application.State.ACCEPTED:
        raise RuleViolation(
            gettext("A certification contract can be made only for an accepted application."),
            "004 §5.3",
        )
