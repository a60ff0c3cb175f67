"""Multi-site sampling plans (004 §5.4.3)."""

from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Site
from audits import rules
from audits.models import (
    Audit,
    AuditTimeDetermination,
    SamplingPlan,
    SamplingPlanSite,
)
from audits.selectors.planning import _TYPE_LABELS, _site_table_onsite
from audits.services._guards import _check_sites_fit, _days
from audits.services.plans import _plan_revise
from certbody import bounds, policy
from certbody.lifecycle import RuleViolation, lock, record


def sampling_plan_record(
    *,
    audit: Audit,
    actor,
    similar_sites: Iterable[Site],
    sampled_sites: Iterable[Site],
    similarity_reason: str = "",
    site_onsite_days: Mapping[int, Decimal | int | str] | None = None,
    selection_reasons: Mapping[int, str] | None = None,
    notes: str = "",
) -> SamplingPlan:
    """Record which sites a planned audit of a multi-site client visits (004 §5.4.3).

    ``similar_sites``: the sites with the same activities, processes and risk (the population
    X), with ``similarity_reason``. ``sampled_sites``: every site audited. Sites outside the
    similar population are all audited; at least ``rules.sample_size(X, type)`` similar sites
    are (004 §5.4.3.2). ``site_onsite_days`` maps a site id to its on-site days (default: the
    least allowed), each at least 50 % of the site's Appendix A on-site time (004 §5.4.3.3);
    together not more than a recorded determination's on-site time. Replaces an earlier plan
    of the audit.
    """
    policy.require(actor, "audits.plan_sampling", audit)
    site_onsite_days = site_onsite_days or {}
    selection_reasons = selection_reasons or {}
    with transaction.atomic():
        audit = lock(Audit, audit.pk)
        if audit.state != Audit.State.PLANNED:
            raise RuleViolation(_("Only a planned audit can have a sampling plan."))
        programme = audit.programme
        sites = {s.pk: s for s in Site.objects.filter(organization_id=programme.organization_id)}
        if len(sites) < 2:
            raise RuleViolation(
                _("Only a client with several sites needs a sampling plan."), "004 §5.4.3"
            )
        similar = {s.pk for s in similar_sites}
        sampled = {s.pk for s in sampled_sites}
        foreign = (similar | sampled) - set(sites)
        if foreign:
            raise RuleViolation(_("The sampling plan lists a site that is not the client's."))
        if similar and not similarity_reason.strip():
            raise RuleViolation(
                _("State why these sites have the same activities, processes and risks."),
                "004 §5.4.3.2",
            )
        unaudited = [sites[pk] for pk in sorted(set(sites) - similar - sampled)]
        if unaudited:
            names = "、".join(str(s) for s in unaudited)
            raise RuleViolation(
                _("Sites with different activities, processes or risks are each audited: %(names)s")
                % {"names": names},
                "004 §5.4.3.2",
            )
        minimum = rules.sample_size(len(similar), audit.audit_type) if similar else 0
        chosen = len(similar & sampled)
        if chosen < minimum:
            raise RuleViolation(
                _(
                    "There are %(similar)s similar sites; a %(audit_type)s samples at least "
                    "%(minimum)s, only %(chosen)s are chosen."
                )
                % {
                    "similar": len(similar),
                    "audit_type": _TYPE_LABELS[audit.audit_type],
                    "minimum": minimum,
                    "chosen": chosen,
                },
                "004 §5.4.3.2",
            )
        rows = []
        for pk, site in sorted(sites.items()):
            table_onsite = _site_table_onsite(site, audit.audit_type, programme.scheme)
            days = None
            if pk in sampled:
                raw = site_onsite_days.get(pk)
                days = (
                    _days(raw, _("the site's on-site time"))
                    if raw not in (None, "")
                    else rules.least_site_onsite_days(table_onsite)
                )
                try:
                    rules.check_site_onsite(days, table_onsite)
                except ValueError:
                    raise RuleViolation(
                        _(
                            'The on-site time at site "%(site)s" of %(days)s auditor-days '
                            "is below 50 %% of its Appendix A on-site time of "
                            "%(table_onsite)s auditor-days; at least %(least)s auditor-days "
                            "are needed."
                        )
                        % {
                            "site": site,
                            "days": days,
                            "table_onsite": table_onsite,
                            "least": rules.least_site_onsite_days(table_onsite),
                        },
                        "004 §5.4.3.3",
                    ) from None
            rows.append(
                SamplingPlanSite(
                    site=site,
                    similar=pk in similar,
                    selected=pk in sampled,
                    table_onsite_days=table_onsite,
                    onsite_days=days,
                    selection_reason=selection_reasons.get(pk, "")[:300],
                )
            )
            bounds.check_instance(rows[-1], "table_onsite_days", "onsite_days")
        determination = AuditTimeDetermination.objects.filter(audit=audit).first()
        if determination is not None:
            _check_sites_fit([r for r in rows if r.selected], determination.onsite_days)
        plan = SamplingPlan.objects.filter(audit=audit).first() or SamplingPlan(audit=audit)
        plan.audit_type = audit.audit_type
        plan.similar_sites_count = len(similar)
        plan.minimum_sample = minimum
        plan.similarity_reason = similarity_reason.strip()
        plan.notes = notes
        plan.prepared_by = actor
        plan.prepared_at = timezone.now()
        record(plan, actor=actor, reason="制定多场所抽样方案")
        plan.save()
        for old in plan.rows.all():
            record(old, actor=actor, reason="重新制定抽样方案")
            old.delete()
        for row in rows:
            row.plan = plan
            record(row, actor=actor, reason="抽样方案场所")
            row.save()
        _plan_revise(audit, actor, reason="抽样方案变更")
    return plan
