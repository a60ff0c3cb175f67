"""What the public may see of a certificate (002 §4.1.2; 004 §9.4): one place for page and API."""

from certificates.models import Certificate

# Plain-Chinese meaning of each status for the public page.
STATUS_TEXT = {
    Certificate.Status.VALID: ("有效", "证书在有效期内，获证组织可按规定使用认证证书和认证标志。"),
    Certificate.Status.SUSPENDED: (
        "暂停",
        "证书暂停期间，获证组织不得使用认证证书、认证标志或引用认证信息。",
    ),
    Certificate.Status.WITHDRAWN: ("撤销", "证书已被撤销，证书编号作废，不得继续使用。"),
    Certificate.Status.CANCELLED: ("注销", "证书已应获证组织申请注销，不得继续使用。"),
    Certificate.Status.EXPIRED: ("过期失效", "证书有效期已满且未获再认证，不得继续使用。"),
    Certificate.Status.SUPERSEDED: (
        "已换发新证",
        "本证书已因再认证换发新证书而失效，请查询新证书。",
    ),
}
# 002 §4.1.2: the QR page reminds the client how the certificate stays valid.
KEEP_VALID_REMINDER = (
    "获证组织应按期接受认证机构的监督审核，持续满足认证要求，按规定使用认证证书和认证标志，"
    "并及时通报名称、地址、认证范围等变更及重大事故、行政处罚等情况；否则证书可能被暂停或撤销。"
)


def public_queryset():
    return Certificate.objects.select_related("organization", "head").prefetch_related(
        "business_scopes"
    )


def certificate_json(certificate: Certificate) -> dict:
    """The public API representation of one certificate (no personal data)."""
    label, meaning = STATUS_TEXT[certificate.status]
    return {
        "number": certificate.number,
        "organization": certificate.organization.name,
        "uscc": certificate.organization.uscc,
        "head_number": certificate.head.number if certificate.head_id else None,
        "field": "SC03",
        "standard": certificate.standard,
        "scope": certificate.scope_text,
        "business_scopes": [
            {"code": s.code, "name": s.name} for s in certificate.business_scopes.all()
        ],
        "star_grade": certificate.star_grade,
        "star_grade_label": certificate.get_star_grade_display(),
        "status": certificate.status,
        "status_code": certificate.status_code,
        "status_label": label,
        "status_meaning": meaning,
        "status_changed_on": _iso(certificate.status_changed_on),
        "status_reason": certificate.status_reason
        if certificate.status != Certificate.Status.VALID
        else "",
        "issued_on": _iso(certificate.issued_on),
        "expires_on": _iso(certificate.expires_on),
        "reissued_on": _iso(certificate.reissued_on),
        "suspended_from": _iso(certificate.suspended_from),
        "suspended_until": _iso(certificate.suspended_until),
    }


def _iso(day):
    return day.isoformat() if day else None
