"""Workspace desks of the audits app (certbody.workspace), one module per desk: programmes,
audits, nonconformities, auditors, ASRP programmes (seed 000) and the versions of the indicator
catalogue (004 §5.6.5.2). Importing this package registers them (``audits.apps`` does).

Built like the reference desk (``applications.desks``): lists keep a constant number of
queries (``select_related`` for every column, one ``prefetch_related`` for the team leader and
the competences, annotations for the catalogue's lock and points); each action calls one
service of ``audits.services`` through a confirm form of ``audits.forms`` and is offered by its
permission in ``certbody.policy.MATRIX`` and only in the states the service accepts. The
services check again (a forged POST meets both).

The small ``_…`` adapters only find the record a service works on (the audit's plan, its
latest report) or unpack a form; they never write.
"""

from audits.desks import (  # noqa: F401  (each module registers its desk)
    asrp,
    auditors,
    audits,
    catalogue,
    nonconformities,
    programmes,
)
