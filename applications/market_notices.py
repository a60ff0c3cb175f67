"""What the market department is told when a client acts in the portal: a new online
application and a contract signed off (in-app and e-mail, ``certbody.notifications``).

The recipients are the roles of the matrix rows that handle the work next
(``policy.roles_holding``): the reviewers of applications (004 §5.2) and the keepers of
contracts (004 §5.3). A client request is told by ``certificates.services.client_requests``
(the market department holds its row too). Called inside the service's transaction: a
refused or rolled-back action tells no one.
"""

from django.urls import reverse

from applications.models import Application, Contract
from certbody import policy
from certbody.notifications import notify_staff


def tell_market_of_online_application(application: Application, *, submitted_by) -> list:
    """Notify the reviewers of applications that ``application`` was submitted online by the
    client user ``submitted_by``; returns the ``Notification`` rows."""
    return notify_staff(
        roles=policy.roles_holding("applications.review_application"),
        template="online_application",
        context={
            "application": application,
            "organization": application.organization,
            "submitted_by": submitted_by,
        },
        kind="online_application",
        link=reverse("workspace:object", args=["applications", application.pk]),
    )


def tell_market_of_signed_contract(contract: Contract) -> list:
    """Notify the keepers of contracts that the client signed ``contract`` off in the
    portal; returns the ``Notification`` rows."""
    return notify_staff(
        roles=policy.roles_holding("applications.manage_contract"),
        template="contract_signed",
        context={"contract": contract, "organization": contract.application.organization},
        kind="contract_signed",
        link=reverse("workspace:object", args=["contracts", contract.pk]),
    )
