"""Workspace desks for certificates (certbody.workspace): decisions to make and made,
certificates and their status changes, proposals, appeals and complaints, regulatory events,
the reports owed after a major accident and the clients' requests from the portal.

One module per desk; importing this package registers them all (``certificates.apps``). Lists
keep a constant number of queries (``select_related`` for every column shown, counts as
annotations); actions call ``certificates.services`` through the confirm forms of
``certificates.forms``, offered by the permissions of ``certbody.policy`` and only in the states
the services allow.
"""

from certificates.desks import (  # noqa: F401  (each module registers its desk)
    appeals,
    awaiting_decisions,
    certificates,
    client_requests,
    decisions,
    obligations,
    proposals,
    regulatory,
)
