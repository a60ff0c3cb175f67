"""Which Django model permissions each staff role holds (admin visibility).

The services enforce the workflow rules themselves; these permissions only decide which
admin pages a role sees. Synced to the groups after every migrate (certbody.apps).
"""

from certbody import roles

VIEW_ALL = [
    "applications.view_organization",
    "applications.view_site",
    "applications.view_application",
    "applications.view_applicationreview",
    "applications.view_contract",
    "audits.view_auditprogramme",
    "audits.view_audit",
    "audits.view_auditteammember",
    "certificates.view_certificate",
    "certificates.view_certificateevent",
    "certificates.view_certificatedocument",
    "certificates.view_decision",
    "certbody.view_businessscope",
    "certbody.view_cncacode",
    "certbody.view_calendarday",
    "certbody.view_calendaryear",
    "audits.view_auditor",
    "audits.view_auditorcompetence",
    "audits.view_conflictdeclaration",
    "audits.view_audittimedetermination",
    "audits.view_samplingplan",
    "audits.view_auditplan",
    "audits.view_asrpprogramme",
    "certificates.view_regulatoryevent",
    "certificates.view_proposal",
    "certificates.view_reportingobligation",
    "certificates.view_appeal",
]

ROLE_PERMISSIONS = {
    roles.MARKET: VIEW_ALL
    + [
        "certificates.add_appeal",
        "certificates.change_appeal",
        "applications.add_organization",
        "applications.change_organization",
        "applications.add_site",
        "applications.change_site",
        "applications.change_application",
        "applications.change_contract",
    ],
    roles.AUDIT_DEPARTMENT: VIEW_ALL
    + [
        "audits.change_audit",
        "audits.change_auditprogramme",
        "audits.add_auditor",
        "audits.change_auditor",
        "audits.change_auditplan",
        "audits.change_asrpprogramme",
        "certificates.change_certificate",
        "certificates.add_regulatoryevent",
        "certificates.change_proposal",
        "certbody.change_calendarday",
        "certbody.add_calendarday",
    ],
    roles.AUDITOR: VIEW_ALL + ["audits.change_audit"],
    roles.DECISION_MAKER: VIEW_ALL
    + [
        "audits.change_audit",
        "certificates.change_certificate",
        "certificates.change_proposal",
        "certificates.change_appeal",
    ],
    roles.REPORTING_OFFICER: VIEW_ALL,
    roles.TECHNICAL_MANAGER: VIEW_ALL
    + [
        "certificates.change_certificate",
        "certificates.change_appeal",
        "audits.change_asrpprogramme",
        "audits.change_auditor",
        "certbody.change_certificationbody",
        "certbody.change_calendarday",
        "certbody.add_calendarday",
    ],
}


def sync_role_permissions(**kwargs) -> None:
    """Give each role group exactly the permissions listed above (post_migrate handler)."""
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
