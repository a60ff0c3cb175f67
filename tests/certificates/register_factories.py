"""Certificate rows written directly for the tests of the read-only public register and badge
(the services that write them are tested elsewhere; query-count tests need many rows cheaply)."""

import itertools
from datetime import date

from certbody.models import BusinessScope
from certificates.models import Certificate
from tests.applications.factories import OrganizationFactory

Status = Certificate.Status
# Sequences far above those the services allocate in a test, so the numbers never collide.
_serial = itertools.count(5001)


def make_certificate(
    *,
    name=None,
    division_code="110105",
    scopes=(24,),
    grade="four_star",
    status=Status.VALID,
    issued_on=date(2025, 3, 20),
    **fields,
) -> Certificate:
    """A certificate row with its organisation (``division_code`` gives the province) and
    business scope categories ``scopes``; ``fields`` are further Certificate fields."""
    n = next(_serial)
    organization = OrganizationFactory(
        division_code=division_code, scopes=list(scopes), **({"name": name} if name else {})
    )
    certificate = Certificate.objects.create(
        number=f"0123{issued_on.year % 100:02d}FW{n:04d}R0C",
        organization=organization,
        organization_name=organization.name,
        registered_address=organization.registered_address,
        year=issued_on.year,
        sequence=n,
        accreditation="C",
        scope_text="家用电器的销售及售后服务",
        star_grade=grade,
        standard="GB/T 27922-2011",
        issued_on=issued_on,
        expires_on=date(issued_on.year + 3, issued_on.month, 1),
        status=status,
        **fields,
    )
    certificate.business_scopes.set(BusinessScope.objects.filter(code__in=scopes))
    return certificate
