"""What the certificates app's records say about an applicant's eligibility (004 §5.1.2(3)–(7);
001 §6.1.4): a record source for ``applications.eligibility``, registered from
``CertificatesConfig.ready`` (applications cannot import this app).

- a failed national spot check (国抽) in the past year: rebuttable, since 004 §5.1.2(7) accepts
  one rectified; a failed provincial or other spot check is shown for information only (the
  seed bars 国抽 failures; others are declared with their rectification, 004 §5.1.3(8));
- a major accident in the past year (004 §5.1.2(6)), or a certificate suspended for a serious
  accident (004 §7.2.1(3)) or withdrawn for an accident caused by a violation (004 §7.3.1(5))
  in the past year;
- a certificate suspended because the client was ordered to suspend business (004 §7.2.1(9))
  and not restored since (004 §5.1.2(4); 001 §6.1.4);
- a certificate withdrawn in the past year because the client was listed as seriously
  dishonest (004 §7.3.1(2); 004 §5.1.2(5); 001 §6.1.4);
- a certificate withdrawn in the past 3 months because the system was not operated
  (004 §7.3.1(8)): it cannot have operated for 3 months since (004 §5.1.2(3)).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext

from applications.eligibility import BLOCKING, INFORMATIVE, REBUTTABLE, Finding
from certbody.dates import add_months
from certificates.models import CertificateEvent, RegulatoryEvent

Event = RegulatoryEvent
Kind = CertificateEvent.Kind

# (event kind, cause) → (condition, months looked back, strength)
_CERTIFICATE_CAUSES = {
    (Kind.SUSPENDED, 3): ("no_major_accident", 12, BLOCKING),  # 004 §7.2.1(3)
    (Kind.SUSPENDED, 9): ("not_ordered_to_suspend", 12, BLOCKING),  # 004 §7.2.1(9)
    (Kind.WITHDRAWN, 2): ("not_seriously_dishonest", 12, BLOCKING),  # 004 §7.3.1(2)
    (Kind.WITHDRAWN, 5): ("no_major_accident", 12, BLOCKING),  # 004 §7.3.1(5)
    (Kind.WITHDRAWN, 8): ("system_operating", 3, BLOCKING),  # 004 §7.3.1(8)
}


def _regulatory_findings(organization, on: date):
    year_ago = add_months(on, -12)
    events = Event.objects.filter(
        organization=organization, occurred_on__gte=year_ago, occurred_on__lte=on
    ).order_by("occurred_on", "pk")
    for event in events:
        facts = {
            "date": event.occurred_on.isoformat(),
            "source": event.source,
            "level": event.get_level_display() or gettext("unknown level"),
        }
        if event.kind == Event.Kind.SPOT_CHECK and event.result == Event.Result.FAIL:
            if event.level == Event.Level.NATIONAL:
                yield Finding(
                    "no_spot_check_failure",
                    gettext(
                        "National supervisory spot check failed on %(date)s (%(source)s); "
                        "acceptable only if rectified."
                    )
                    % facts,
                    REBUTTABLE,
                )
            else:
                yield Finding(
                    "no_spot_check_failure",
                    gettext("%(level)s spot check failed on %(date)s (%(source)s).") % facts,
                    INFORMATIVE,
                )
        elif event.kind == Event.Kind.ACCIDENT and event.major:
            yield Finding(
                "no_major_accident",
                gettext("Major accident on %(date)s (%(source)s).") % facts,
                BLOCKING,
            )


def _certificate_findings(organization, on: date):
    events = (
        CertificateEvent.objects.filter(
            certificate__organization=organization,
            kind__in=(Kind.SUSPENDED, Kind.WITHDRAWN),
            cause__isnull=False,
            occurred_on__gte=add_months(on, -12),
            occurred_on__lte=on,
        )
        .select_related("certificate")
        .order_by("occurred_on", "pk")
    )
    for event in events:
        rule = _CERTIFICATE_CAUSES.get((event.kind, event.cause))
        if rule is None:
            continue
        condition, months, strength = rule
        if event.occurred_on < add_months(on, -months):
            continue
        if (
            event.kind == Kind.SUSPENDED
            and event.certificate.events.filter(
                kind=Kind.RESTORED, occurred_on__gte=event.occurred_on, pk__gt=event.pk
            ).exists()
        ):
            strength = INFORMATIVE  # restored since: the cause was removed (004 §7.2.4)
        clause = "004 §7.2.1" if event.kind == Kind.SUSPENDED else "004 §7.3.1"
        yield Finding(
            condition,
            gettext("Certificate %(number)s %(event)s on %(date)s, cause %(clause)s(%(cause)s).")
            % {
                "number": event.certificate.number,
                "event": event.get_kind_display(),
                "date": event.occurred_on.isoformat(),
                "clause": clause,
                "cause": event.cause,
            },
            strength,
        )


def certificate_records(organization, on: date):
    """The findings of this app's records about ``organization`` at the local date ``on``
    (``applications.eligibility`` record source)."""
    yield from _regulatory_findings(organization, on)
    yield from _certificate_findings(organization, on)
